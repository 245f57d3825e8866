"""On the offline real dataset (scikit-learn's digits) with 40% symmetric noise, dual-gradient
learning at λ=0.3 ends with a lower test error than plain cross-entropy on the same noisy labels."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

COMMON = ["--set", "arch=SimpleCNN", "--set", "width=0.5", "--set", "dataset=digits", "--set", "eta=0.4",
          "--set", "epochs=20", "--set", "batch_size=64", "--set", "lr=0.05", "--set", "milestones=[12,17]",
          "--set", "seed=0", "--threads", "1", "--quiet"]


def test_dual_beats_cross_entropy_under_label_noise(tmp_path):
    runs = {}
    procs = {}
    for name, method in (("ce", ["--set", "method=ce"]), ("dual", ["--set", "method=dual", "--set", "lam=0.3"])):
        runs[name] = tmp_path / f"{name}.json"
        procs[name] = subprocess.Popen([sys.executable, "-m", "dualgrad", "train", *COMMON, *method,
                                        "--output", str(runs[name])])
    for proc in procs.values():
        assert proc.wait(timeout=600) == 0
    ce, dual = (json.loads(runs[n].read_text()) for n in ("ce", "dual"))
    assert ce["provenance"]["labels"]["noisy_labels_sha256"] == dual["provenance"]["labels"]["noisy_labels_sha256"]
    print(f"digits, eta=0.4: ce test error {ce['test_error']:.4f}, dual(lam=0.3) {dual['test_error']:.4f}")
    assert dual["test_error"] < ce["test_error"]
