"""Batched, on-device, seeded augmentation: no per-image Python loop.

Every op takes a float batch (N, 3, H, W) in [0, 1] on the training device and a
`torch.Generator` on that device, and draws one random number (or a few) per image.
`strong` is SimCLR's CIFAR recipe (random resized crop, flip, colour jitter with p=0.8,
grayscale with p=0.2); `weak` is a light recipe of ours (horizontal flip, grayscale with
p=0.2) for the supervised control. Hue jitter rotates the YIQ chroma plane, a cheap stand-in
for torchvision's HSV hue shift.

`csnas_views` are the views of the CSNAS authors' JigsawLoader (search/ssl_utils.py); see it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

_GRAY = (0.299, 0.587, 0.114)
AUGMENTS = ("strong", "weak", "none")


def _rand(n: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=device)


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator, dev: torch.device):
    return lo + (hi - lo) * _rand(n, gen, dev)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float in [0, 1]."""
    return images.float().div_(255.0)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(_GRAY, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def random_resized_crop(
    x: torch.Tensor,
    size: int,
    gen: torch.Generator,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    flip_p: float = 0.0,
) -> torch.Tensor:
    """Crop a random area fraction in `scale` with aspect ratio in `ratio` (log-uniform),
    resize to `size` bilinearly, optionally mirrored; one affine grid for the whole batch.

    Crops that would not fit are clamped to the image (torchvision retries, then falls back
    to a centre crop)."""
    n, dev = x.shape[0], x.device
    area = _uniform(n, scale[0], scale[1], gen, dev)
    log_r = _uniform(n, math.log(ratio[0]), math.log(ratio[1]), gen, dev)
    r = torch.exp(log_r)
    w = torch.sqrt(area * r).clamp(max=1.0)  # fractions of the image side
    h = torch.sqrt(area / r).clamp(max=1.0)
    cx = (1 - w) * (2 * _rand(n, gen, dev) - 1)  # centre in normalised [-1, 1] coordinates
    cy = (1 - h) * (2 * _rand(n, gen, dev) - 1)
    sign = torch.where(_rand(n, gen, dev) < flip_p, -1.0, 1.0).to(x.dtype)
    theta = torch.zeros(n, 2, 3, device=dev, dtype=x.dtype)
    theta[:, 0, 0] = w * sign
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = h
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, [n, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def hflip(x: torch.Tensor, gen: torch.Generator, p: float = 0.5) -> torch.Tensor:
    mask = (_rand(x.shape[0], gen, x.device) < p).view(-1, 1, 1, 1)
    return torch.where(mask, x.flip(3), x)


def vflip(x: torch.Tensor, gen: torch.Generator, p: float = 0.5) -> torch.Tensor:
    mask = (_rand(x.shape[0], gen, x.device) < p).view(-1, 1, 1, 1)
    return torch.where(mask, x.flip(2), x)


def random_grayscale(x: torch.Tensor, gen: torch.Generator, p: float = 0.2) -> torch.Tensor:
    mask = (_rand(x.shape[0], gen, x.device) < p).view(-1, 1, 1, 1)
    return torch.where(mask, grayscale(x).expand_as(x), x)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (factor * x + (1 - factor) * other).clamp_(0.0, 1.0)


def _hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    to_yiq = torch.tensor(
        [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
        device=x.device,
        dtype=x.dtype,
    )
    yiq = torch.einsum("ij,njhw->nihw", to_yiq, x)
    angle = 2 * math.pi * shift.view(-1, 1, 1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    i, q = yiq[:, 1], yiq[:, 2]
    yiq = torch.stack([yiq[:, 0], cos * i - sin * q, sin * i + cos * q], 1)
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(to_yiq), yiq).clamp_(0.0, 1.0)


def color_jitter(
    x: torch.Tensor,
    gen: torch.Generator,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.4,
    hue: float = 0.1,
    p: float = 0.8,
) -> torch.Tensor:
    """Brightness, contrast, saturation, hue (fixed order), applied to a fraction p of images."""
    n, dev = x.shape[0], x.device
    apply = (_rand(n, gen, dev) < p).view(-1, 1, 1, 1)
    out = x
    b = _uniform(n, 1 - brightness, 1 + brightness, gen, dev).view(-1, 1, 1, 1)
    out = (out * b).clamp(0.0, 1.0)
    c = _uniform(n, 1 - contrast, 1 + contrast, gen, dev).view(-1, 1, 1, 1)
    out = _blend(out, grayscale(out).mean((2, 3), keepdim=True), c)
    s = _uniform(n, 1 - saturation, 1 + saturation, gen, dev).view(-1, 1, 1, 1)
    out = _blend(out, grayscale(out), s)
    if hue > 0:
        out = _hue(out, _uniform(n, -hue, hue, gen, dev))
    return torch.where(apply, out, x)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s


#: the ImageNet statistics the authors' JigsawLoader normalises with
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def csnas_views(
    images: torch.Tensor, size: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(original, patch_a, patch_b) of the authors' JigsawLoader, batched.

    Their loader resizes to 32x32 (here: to `size`), then builds two "patches": a centre crop
    of the full size (the identity) and a full-size random crop (also the identity) with
    horizontal flip, vertical flip and grayscale, each with p=0.5; `random.shuffle` puts the
    two in random order per image. The "original" is the resized image with independent
    horizontal and vertical flips (p=0.5 each). Their ColorJitter() has no arguments, so it is
    the identity and is left out. All three are normalised with ImageNet statistics.
    """
    x = resize(to_float(images), size)
    augmented = random_grayscale(vflip(hflip(x, gen), gen), gen, p=0.5)
    swap = (_rand(x.shape[0], gen, x.device) < 0.5).view(-1, 1, 1, 1)
    patch_a = torch.where(swap, augmented, x)
    patch_b = torch.where(swap, x, augmented)
    original = vflip(hflip(x, gen), gen)
    views = (original, patch_a, patch_b)
    return tuple(  # type: ignore[return-value]
        Augment._out(normalize(v, IMAGENET_MEAN, IMAGENET_STD)) for v in views
    )


@dataclass(frozen=True)
class Augment:
    """uint8 batch -> augmented, normalised float batch at `size` x `size`."""

    kind: str
    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __post_init__(self) -> None:
        if self.kind not in AUGMENTS:
            raise ValueError(f"unknown augmentation {self.kind!r} (known: {', '.join(AUGMENTS)})")

    def __call__(self, images: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        x = to_float(images)
        if self.kind == "strong":
            assert gen is not None
            x = random_resized_crop(x, self.size, gen, flip_p=0.5)
            x = color_jitter(x, gen)
            x = random_grayscale(x, gen, p=0.2)
        elif self.kind == "weak":
            assert gen is not None
            x = resize(x, self.size)
            x = hflip(x, gen)
            x = random_grayscale(x, gen, p=0.2)
        else:
            x = resize(x, self.size)
        return self._out(normalize(x, self.mean, self.std))

    @staticmethod
    def _out(x: torch.Tensor) -> torch.Tensor:
        # NHWC memory layout: the trained proxies run their networks channels-last
        return x.contiguous(memory_format=torch.channels_last)

    def plain(self, images: torch.Tensor) -> torch.Tensor:
        """No augmentation: resize and normalise (held-out evaluation)."""
        return self._out(normalize(resize(to_float(images), self.size), self.mean, self.std))
