"""The images an evaluation trains and tests on, as uint8 tensors on the training device.

The published protocols train on the full CIFAR training split and test on the test split:
`harness data download cifar10|cifar100 --root DIR` fetches them (md5-checked), and
`--set data=PATH` (an official python folder, a root holding one, or an .npz) or
$HARNESS_CIFAR10 / $HARNESS_CIFAR100 points at them. The shipped 1k-image sample serves smoke
runs only, and every result trained on it says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from harness import HarnessError
from harness.data.cifar import ImageData, load_images, sample_path

ENV = {"cifar10": "HARNESS_CIFAR10", "cifar100": "HARNESS_CIFAR100"}
FULL_TRAIN = 50_000
FULL_TEST = 10_000
SAMPLE = "sample"


def resolve_data(setting: str | None, dataset: str, profile: str) -> str:
    """The data setting as stored: 'sample' or an absolute path. Fails with the way to get
    the data when there is none, and refuses the sample outside smoke runs."""
    if dataset not in ENV:
        raise HarnessError(f"evaluate trains on CIFAR-10/100 only; {dataset} has no loader here")
    if setting is None:
        env = os.environ.get(ENV[dataset])
        if not env:
            raise HarnessError(
                f"evaluate needs the {dataset} images: `harness data download {dataset} "
                f"--root DIR`, then --set data=DIR (or set ${ENV[dataset]}); the shipped "
                "sample is for --profile smoke only"
            )
        setting = env
    if setting != SAMPLE and Path(str(setting)).expanduser().resolve() == sample_path().resolve():
        setting = SAMPLE  # the shipped sample by its path is still the sample
    if setting == SAMPLE:
        if profile != "smoke":
            raise HarnessError(
                f"the shipped image sample is for --profile smoke only, not {profile}: "
                f"download {dataset} (`harness data download {dataset} --root DIR`)"
            )
        if dataset != "cifar10":
            raise HarnessError(f"the shipped image sample is CIFAR-10; {dataset} needs its data")
        return SAMPLE
    path = Path(str(setting)).expanduser().resolve()
    if not path.exists():
        raise HarnessError(f"image data {path} does not exist (setting data={setting!r})")
    return str(path)


@lru_cache(maxsize=2)
def _images(path: str, mtime: float) -> ImageData:
    return load_images(path)


def images(data: str) -> ImageData:
    path = sample_path() if data == SAMPLE else Path(data)
    return _images(str(path), path.stat().st_mtime)


@dataclass
class EvalData:
    """Training and test images (uint8 N x 3 x 32 x 32) and labels on the device."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str
    note: str | None

    @property
    def n_train(self) -> int:
        return len(self.train_x)


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(array))
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t


def load_eval_data(
    data: str,
    num_classes: int,
    train_images: int | None,
    test_images: int | None,
    seed: int,
    device: torch.device,
) -> EvalData:
    """The training split (or a seeded subset of `train_images`) and the test split (or
    its first `test_images`), checked against the benchmark's class count."""
    d = images(data)
    if d.num_classes != num_classes:
        raise HarnessError(
            f"data {d.source} holds {d.num_classes} classes, the benchmark {num_classes}"
        )
    n_train, n_test = len(d.x_train), len(d.x_test)
    if train_images is not None and train_images > n_train:
        raise HarnessError(f"train_images={train_images} exceeds the {n_train} in {d.source}")
    if test_images is not None and test_images > n_test:
        raise HarnessError(f"test_images={test_images} exceeds the {n_test} in {d.source}")
    tr = np.arange(n_train)
    if train_images is not None:
        tr = np.sort(np.random.default_rng(seed).choice(n_train, train_images, replace=False))
    te = np.arange(n_test if test_images is None else test_images)
    note = None
    if data == SAMPLE:
        note = "trained on the shipped 1k-image sample: a smoke run, not a measurement"
    elif len(tr) < FULL_TRAIN or len(te) < FULL_TEST:
        note = f"{len(tr)} train / {len(te)} test images: not the full CIFAR splits"

    def nchw(x: np.ndarray) -> torch.Tensor:
        return _to_device(x.transpose(0, 3, 1, 2), device)

    return EvalData(
        train_x=nchw(d.x_train[tr]),
        train_y=_to_device(d.y_train[tr], device),
        test_x=nchw(d.x_test[te]),
        test_y=_to_device(d.y_test[te], device),
        source="shipped sample" if data == SAMPLE else d.source,
        note=note,
    )
