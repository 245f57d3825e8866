import numpy as np
import pytest
import torch

from dualgrad.noise import anti_labels, label_hash, random_labels, symmetric_noise
from notebook_reference import create_anti_labels, inject_noise_p, inject_noise_v3, random_value_labels

N = 50_000


@pytest.fixture(scope="module")
def cifar_like_labels():
    return np.repeat(np.arange(10), N // 10)[np.random.RandomState(123).permutation(N)]


@pytest.mark.parametrize("eta,seed", [(0.4, 0), (0.4, 2), (0.8, 1), (0.2, 4), (0.6, 3)])
def test_symmetric_noise_equals_notebooks_p_scheme(cifar_like_labels, eta, seed):
    expected = inject_noise_p(cifar_like_labels, eta, seed)
    got = symmetric_noise(cifar_like_labels, eta, seed + 1000)
    np.testing.assert_array_equal(got, expected)
    assert (got != cifar_like_labels).sum() == int(eta * N)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_symmetric_noise_equals_notebooks_v3_scheme(cifar_like_labels, seed):
    np.testing.assert_array_equal(symmetric_noise(cifar_like_labels, 0.4, seed),
                                  inject_noise_v3(cifar_like_labels, 0.4, seed))


def test_noise_leaves_the_global_numpy_rng_alone(cifar_like_labels):
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    symmetric_noise(cifar_like_labels, 0.4, 1000)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_anti_and_random_labels_equal_notebooks(cifar_like_labels):
    np.testing.assert_array_equal(anti_labels(cifar_like_labels), create_anti_labels(cifar_like_labels))
    for seed in (0, 3):
        np.testing.assert_array_equal(random_labels(N, seed + 5000), random_value_labels(seed, N).numpy())


def test_label_hash_is_dtype_independent():
    y = np.array([3, 1, 4, 1, 5])
    assert label_hash(y.astype(np.int32)) == label_hash(torch.tensor(y).numpy()) == label_hash(list(y))
    assert label_hash(y) != label_hash(y[::-1])
