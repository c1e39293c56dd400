"""A batch source of random square crops from images of any sizes: how a fully convolutional model trains.

Why: photographs differ in size and are too large to batch whole; a network without dense layers learns the
same thing from small crops, and fresh crop positions every epoch show it far more distinct samples than there
are images. Crops are drawn in proportion to each image's area (every pixel is as likely to be seen) and randomly
flipped and rotated by multiples of 90 degrees (the statistics of photographs, what this source is used for, do
not depend on orientation: eight times the variety for free).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from .batches import Batch


class ImageCrops:
    """``crops_per_epoch`` random ``patch`` x ``patch`` crops per epoch from ``images`` (each ``(c, h, w)`` float32,
    every side at least ``patch``). Randomness comes from the global torch RNG, which the Trainer seeds."""

    def __init__(self, images: list[np.ndarray], patch: int, crops_per_epoch: int) -> None:
        if not images:
            raise ValueError("no images to crop")
        small = [im.shape[1:] for im in images if min(im.shape[1:]) < patch]
        if small:
            raise ValueError(f"crops of {patch}x{patch} need images at least that large; got {small[0]}")
        self.images, self.patch, self.n = images, int(patch), int(crops_per_epoch)
        area = np.array([im.shape[1] * im.shape[2] for im in images], dtype=np.float64)
        self.weights = torch.from_numpy(area / area.sum())

    def __len__(self) -> int:
        return self.n

    def batches_per_epoch(self, batch_size: int, world: int = 1) -> int:
        return math.ceil(max(self.n // world, 1) / batch_size)

    def example(self) -> torch.Tensor:
        """One crop's shape ``(1, c, patch, patch)``."""
        return torch.zeros(1, self.images[0].shape[0], self.patch, self.patch)

    def _draw(self, count: int, generator: torch.Generator | None, orient: bool) -> torch.Tensor:
        which = torch.multinomial(self.weights, count, replacement=True, generator=generator).numpy()
        u = torch.rand(count, 2, generator=generator, dtype=torch.float64).numpy()
        turns = torch.randint(0, 8, (count,), generator=generator).numpy() if orient else np.zeros(count, int)
        out = np.empty((count, self.images[0].shape[0], self.patch, self.patch), dtype=np.float32)
        for k, (i, (a, b), t) in enumerate(zip(which, u, turns)):
            im = self.images[i]
            top = int(a * (im.shape[1] - self.patch + 1))
            left = int(b * (im.shape[2] - self.patch + 1))
            crop = im[:, top : top + self.patch, left : left + self.patch]
            if t:
                crop = np.rot90(crop, t % 4, axes=(1, 2))
                if t >= 4:
                    crop = crop[:, :, ::-1]
            out[k] = crop
        return torch.from_numpy(out)

    def epoch(self, batch_size: int, rank: int = 0, world: int = 1,
              generator: torch.Generator | None = None) -> Iterator[Batch]:
        """Fresh random crops; under ``torchrun`` each rank draws its own share (``n // world``)."""
        share = self.n // world if world > 1 else self.n
        if generator is not None:  # seeded alike on every rank: offset so ranks draw different crops
            generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)) + rank)
        for i in range(0, share, batch_size):
            yield Batch(self._draw(min(batch_size, share - i), generator, orient=True))

    def sequential(self, batch_size: int, rank: int = 0, world: int = 1) -> Iterator[Batch]:
        """Up to 256 crops drawn with a fixed seed (the same every call), in order: for evaluation."""
        crops = self._draw(min(self.n, 256), torch.Generator().manual_seed(0), orient=False)
        start, stop = len(crops) * rank // world, len(crops) * (rank + 1) // world
        for i in range(start, stop, batch_size):
            yield Batch(crops[i : min(i + batch_size, stop)])


__all__ = ["ImageCrops"]
