"""Batched, on-device CIFAR training augmentation of the evaluation protocols.

DARTS (cnn/utils.py) and NAS-Bench-201 (xautodl get_datasets) both train with a random
32x32 crop of the image zero-padded by 4 pixels and a horizontal flip (p=0.5); DARTS then
normalises and applies Cutout (a length x length square, centre uniform over the image,
clipped at the border, set to zero after normalisation). Here each op works on a whole uint8
or float batch on the training device with one `torch.Generator`, one draw per image.
"""

from __future__ import annotations

import torch

from harness.data.augment import hflip, normalize, to_float


def random_crop(images: torch.Tensor, padding: int, gen: torch.Generator) -> torch.Tensor:
    """Per-image random crop of the zero-padded batch back to its own size (torchvision's
    RandomCrop(size, padding) with fill 0): offsets uniform in [0, 2 * padding]."""
    if padding <= 0:
        return images
    n, _, h, w = images.shape
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=gen, device=gen.device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=gen, device=gen.device)
    dy, dx = dy.to(images.device), dx.to(images.device)
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    chans = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def cutout(x: torch.Tensor, length: int, gen: torch.Generator) -> torch.Tensor:
    """DARTS's Cutout on a batch: zero a length x length square (clipped at the border)
    centred at a uniform pixel, one square per image."""
    if length <= 0:
        return x
    n, _, h, w = x.shape
    cy = torch.randint(0, h, (n,), generator=gen, device=gen.device).to(x.device)
    cx = torch.randint(0, w, (n,), generator=gen, device=gen.device).to(x.device)
    half = length // 2
    ys = torch.arange(h, device=x.device)[None, :]
    xs = torch.arange(w, device=x.device)[None, :]
    in_y = (ys >= (cy[:, None] - half)) & (ys < (cy[:, None] + half))  # (n, h)
    in_x = (xs >= (cx[:, None] - half)) & (xs < (cx[:, None] + half))  # (n, w)
    hole = (in_y[:, :, None] & in_x[:, None, :])[:, None]
    return x.masked_fill(hole, 0.0)


def train_batch(
    images: torch.Tensor,
    gen: torch.Generator,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    padding: int,
    flip: bool,
    cutout_length: int,
) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> augmented, normalised float batch: crop, flip, normalise,
    Cutout (DARTS's order; NB201 flips before cropping, the same distribution)."""
    x = to_float(random_crop(images, padding, gen))
    if flip:
        x = hflip(x, gen)
    return cutout(normalize(x, mean, std), cutout_length, gen)


def eval_batch(images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]):
    """No augmentation: normalise only (both protocols' test transform)."""
    return normalize(to_float(images), mean, std)
