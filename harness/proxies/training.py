"""The training machinery shared by the trained proxies: data, seeds, device, loop.

Images live as uint8 (N, 3, 32, 32) tensors on the training device; each step indexes a
batch, augments it there (`harness.data.augment`) and steps the optimiser. One `seed` fixes
the weight init, the training subset, the batch order and the augmentation draws, so the same
seed gives the same score in a fresh process (same device and threads).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness import HarnessError
from harness.data.cifar import ImageData, load_images, locate_cifar10
from harness.proxies.base import Direction, Evaluation

#: NHWC activations: ~1.6-1.9x faster convolutions on CPU for these small-channel nets
CHANNELS_LAST = torch.channels_last


class Diverged(Exception):
    """A non-finite loss: the proxy returns a failed Evaluation instead of raising."""


@lru_cache(maxsize=4)
def _cached_images(path: str, mtime: float) -> ImageData:
    return load_images(path)


def images_for(data: str) -> ImageData:
    """Images for a `data` setting ('sample' = the shipped sample), cached per process."""
    path = locate_cifar10(data).resolve()
    if not path.exists():
        raise HarnessError(f"image data {path} does not exist (setting data={data!r})")
    return _cached_images(str(path), Path(path).stat().st_mtime)


def resolve_device(name: str) -> torch.device:
    """cpu, cuda, cuda:N or auto (the first GPU if there is one, else the CPU)."""
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise HarnessError(f"unknown device {name!r} (use cpu, cuda, cuda:N or auto)") from None
    if dev.type not in ("cpu", "cuda"):
        raise HarnessError(f"device {name!r} is not supported (use cpu or cuda)")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise HarnessError(f"device {name!r} requested but CUDA is not available")
        index = dev.index or 0
        if index >= torch.cuda.device_count():
            raise HarnessError(f"device {name!r}: only {torch.cuda.device_count()} GPU(s) here")
        dev = torch.device("cuda", index)
    return dev


@contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's CPU threads for one evaluation, restored after. Thread count changes the float
    summation order of convolutions and their gradients, so a proxy pins it (its `threads`
    setting, part of the cache key) instead of taking torch's default, the machine's core
    count: the same settings then give the same scores on a 2-core and a 64-core machine."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pinned_threads(evaluate: Callable[..., Any]) -> Callable[..., Any]:
    """Decorates a proxy's `evaluate` so it runs under its `threads` setting (cpu_threads)."""

    @functools.wraps(evaluate)
    def wrapper(self: Any, arch: Any, benchmark: Any, seed: int) -> Any:
        with cpu_threads(self.settings().get("threads")):
            return evaluate(self, arch, benchmark, seed)

    return wrapper


def seeds(seed: int, n: int = 4) -> list[int]:
    """Independent child seeds from one seed (see `trained.Streams`)."""
    return [int(s) for s in np.random.SeedSequence(int(seed)).generate_state(n, dtype=np.uint32)]


@dataclass
class Split:
    """Training subset and fixed held-out images (both from the train split), as uint8
    tensors on the device; `*_index` are their rows in the data's train arrays."""

    train_x: torch.Tensor
    train_y: torch.Tensor | None
    heldout_x: torch.Tensor
    heldout_y: torch.Tensor | None
    train_index: np.ndarray
    heldout_index: np.ndarray
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    source: str


def make_split(
    data: ImageData,
    n_train: int,
    n_heldout: int,
    seed: int,
    device: torch.device,
    labels: bool,
) -> Split:
    """Held-out images: the last `n_heldout` train images (fixed across seeds); training
    subset: a seeded uniform draw of `n_train` from the other train images (labels not
    consulted). Test images are never read, so a benchmark's test metric stays unseen.
    Labels are copied only if `labels`."""
    pool = len(data.x_train) - n_heldout
    if n_heldout >= len(data.x_train) or n_train > pool:
        raise HarnessError(
            f"train_images={n_train} + heldout_images={n_heldout} exceed the "
            f"{len(data.x_train)} train images in {data.source} (set data= to a larger set)"
        )
    idx = np.sort(np.random.default_rng(seed).choice(pool, n_train, replace=False))
    held = np.arange(pool, len(data.x_train))

    def to_dev(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(device)

    def labels_of(i: np.ndarray) -> torch.Tensor | None:
        return torch.from_numpy(data.y_train[i]).to(device) if labels else None

    return Split(
        train_x=to_dev(data.x_train[idx]),
        train_y=labels_of(idx),
        heldout_x=to_dev(data.x_train[held]),
        heldout_y=labels_of(held),
        train_index=idx,
        heldout_index=held,
        num_classes=data.num_classes,
        mean=data.mean,
        std=data.std,
        source=data.source,
    )


def batches(n: int, batch_size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """A fresh shuffled order each epoch; the last batch may be short (no drop_last)."""
    order = torch.randperm(n, generator=gen, device=gen.device)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


@dataclass(frozen=True)
class EpochStats:
    """One epoch's summed loss (loss x batch size over batches), images and batches."""

    total: float
    images: int
    batches: int

    @property
    def per_image(self) -> float:
        """The mean loss per training image."""
        return self.total / self.images

    @property
    def per_batch(self) -> float:
        """The CSNAS authors' figure: running_loss / len(train_loader) in search.py, i.e. the
        summed loss x batch size over the number of batches. It equals per_image x images /
        batches, a factor fixed by the data set size and batch size, so for one set of
        settings it ranks (and splits TPE's good/bad groups) exactly as per_image does."""
        return self.total / self.batches


def train_epochs(
    step: Callable[[torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    n: int,
    batch_size: int,
    epochs: int,
    gen: torch.Generator,
    before_epoch: Callable[[], None] | None = None,
) -> list[EpochStats]:
    """Run `epochs` epochs of `step(batch_index) -> loss` (`before_epoch()` first in each);
    return each epoch's stats. Raises Diverged on a non-finite loss."""
    stats: list[EpochStats] = []
    steps = 0
    for epoch in range(epochs):
        if before_epoch is not None:
            before_epoch()
        total, count, n_batches = 0.0, 0, 0
        for idx in batches(n, batch_size, gen):
            optimizer.zero_grad(set_to_none=True)
            loss = step(idx)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise Diverged(f"non-finite loss {value} at epoch {epoch + 1}, step {steps + 1}")
            loss.backward()
            optimizer.step()
            steps += 1
            total += value * len(idx)
            count += len(idx)
            n_batches += 1
        stats.append(EpochStats(total, count, n_batches))
    return stats


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's global RNG (weight init) without disturbing the caller's RNG state."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if device.type == "cuda":
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        yield


def generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def device_label(device: torch.device) -> str:
    """Short name stored with each evaluation, e.g. `cuda:NVIDIA H100` or `cpu:2t`."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{torch.get_num_threads()}t"


def place_model(make: Callable[[], torch.nn.Module], init_seed: int, device: torch.device) -> Any:
    """Build a network under `init_seed` and move it to the device, channels-last."""
    with seeded(init_seed, device):
        model = make()
    return model.to(device, memory_format=CHANNELS_LAST)  # type: ignore[call-overload]


def sgd(model: torch.nn.Module, s: dict[str, Any]) -> torch.optim.SGD:
    """The authors' optimiser, with the proxy's settings."""
    return torch.optim.SGD(
        model.parameters(), lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"]
    )


def timed_evaluation(
    direction: Direction,
    timer: Timer,
    common: dict[str, Any],
    extra: dict[str, Any],
    score: float | None = None,
    error: str | None = None,
) -> Evaluation:
    """The Evaluation a trained proxy returns: wall time is its simulated cost; `error` fails it."""
    wall = timer.elapsed
    if error is not None:
        return Evaluation.failed(
            direction, error, wall_s=wall, simulated_s=wall, extra=extra, **common
        )
    assert score is not None
    return Evaluation(
        score=float(score),
        direction=direction,
        wall_s=wall,
        simulated_s=wall,
        extra=extra,
        **common,
    )
