import torch

from dualgrad.data import Normalizer


def reference_crop_flip(img, dy, dx, flip, pad=4):
    """What torchvision's RandomCrop(32, padding=4) + RandomHorizontalFlip do for given draws."""
    padded = torch.nn.functional.pad(img, (pad, pad, pad, pad))
    crop = padded[:, dy:dy + img.shape[1], dx:dx + img.shape[2]]
    return crop.flip(2) if flip else crop


def test_same_seed_same_batch_and_state_round_trip():
    from dualgrad.data import CropFlip

    images = CropFlip(torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8))
    index = torch.arange(8)
    gen = torch.Generator().manual_seed(11)
    state = gen.get_state()
    first = images(index, gen)
    gen.set_state(state)
    assert torch.equal(first, images(index, gen))


def test_normalizer_matches_to_tensor_then_normalize():
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
    expected = (images.float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    got = Normalizer(mean, std, "cpu")(images)
    assert torch.allclose(got, expected, atol=1e-5)
    assert got.is_contiguous(memory_format=torch.channels_last)


def test_crop_flip_takes_each_image_from_the_stored_set():
    from dualgrad.data import CropFlip

    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (50, 3, 32, 32), dtype=torch.uint8, generator=gen)
    index = torch.randperm(50, generator=gen)[:24]
    out = CropFlip(images)(index, torch.Generator().manual_seed(3))
    assert out.shape == (24, 3, 32, 32) and out.dtype == torch.uint8
    assert out.is_contiguous(memory_format=torch.channels_last)
    replay = torch.Generator().manual_seed(3)
    dy = torch.randint(0, 9, (24,), generator=replay)
    dx = torch.randint(0, 9, (24,), generator=replay)
    flip = torch.rand(24, generator=replay) < 0.5
    for i in range(24):
        img = images[index[i]]
        # A crop of the mirror image at dx is the mirror of the crop at 8 - dx.
        expected = reference_crop_flip(img, int(dy[i]), 8 - int(dx[i]), True) if flip[i] else \
            reference_crop_flip(img, int(dy[i]), int(dx[i]), False)
        assert torch.equal(out[i], expected), i
    assert 0 < int(flip.sum()) < 24
