"""Training augmentation as batched tensor ops on the training device.

RandomCrop(32, padding=4) + RandomHorizontalFlip as in the notebooks, driven by a
seeded ``torch.Generator``: no worker processes, no PIL, no host round trip, and
the random stream is part of the checkpoint so a resumed run sees the same crops.
"""

from __future__ import annotations

import torch


class CropFlip:
    """A training set held once, padded, so that selecting a batch, cropping and flipping it is a
    single gather.

    The set is stored as uint8 (2, N, H+2p, W+2p, C): the padded images and their mirror images.
    A strided view exposes every (2p+1)² crop of every image without copying, and a batch is
    ``windows[flip, index, dy, dx]``: one indexing kernel, no host sync. A flipped crop at
    offset dx of the mirror image is the mirror of the crop at offset 2p-dx, so the distribution
    is RandomCrop followed by RandomHorizontalFlip. Memory: 2·(1+2p/H)(1+2p/W) ≈ 3.1× the images.
    """

    def __init__(self, images: torch.Tensor, pad: int = 4):
        n, c, h, w = images.shape
        padded = torch.nn.functional.pad(images, (pad, pad, pad, pad)).permute(0, 2, 3, 1)
        both = torch.stack([padded, padded.flip(2)]).contiguous()
        s = both.stride()
        shifts = 2 * pad + 1
        self.windows = both.as_strided((2, n, shifts, shifts, h, w, c), (s[0], s[1], s[2], s[3], s[2], s[3], s[4]))
        self.shifts = shifts

    def __len__(self) -> int:
        return self.windows.shape[1]

    def __call__(self, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Augmented images ``index`` as (B, C, H, W) uint8 in channels_last layout.

        Draws, in order: vertical offsets, horizontal offsets, flip decisions.
        """
        b, device = index.numel(), index.device
        dy = torch.randint(0, self.shifts, (b,), generator=generator, device=device)
        dx = torch.randint(0, self.shifts, (b,), generator=generator, device=device)
        flip = (torch.rand(b, generator=generator, device=device) < 0.5).long()
        return self.windows[flip, index, dy, dx].permute(0, 3, 1, 2)


class Normalizer:
    """uint8 images -> normalised float: ``(x/255 - mean) / std`` folded into one multiply-add.

    The per-channel constants are stored expanded to a full image in the output layout: a
    (1, C, 1, 1) broadcast over a channels_last batch (innermost dimension C=3) does not
    vectorise on the CPU; a full-image operand does (~2x faster).
    """

    def __init__(self, mean, std, device, dtype=torch.float32, channels_last: bool = True):
        mean_t = torch.tensor(mean, dtype=torch.float64).view(1, -1, 1, 1)
        std_t = torch.tensor(std, dtype=torch.float64).view(1, -1, 1, 1)
        self.scale = (1.0 / (255.0 * std_t)).to(device=device, dtype=dtype)
        self.shift = (mean_t / std_t).to(device=device, dtype=dtype)
        self.dtype = dtype
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self._full: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def _constants(self, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        if (height, width) not in self._full:
            shape = (1, self.scale.shape[1], height, width)
            self._full[(height, width)] = tuple(
                t.expand(shape).contiguous(memory_format=self.memory_format) for t in (self.scale, self.shift))
        return self._full[(height, width)]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        scale, shift = self._constants(*images.shape[-2:])
        x = images.to(self.dtype, memory_format=self.memory_format)
        return x.mul_(scale).sub_(shift)
