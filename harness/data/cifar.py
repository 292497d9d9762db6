"""Load CIFAR-10/100 from the official python layout or from an .npz of arrays.

Arrays are uint8 NHWC images and int64 labels. The official pickles are read with an
unpickler restricted to what they hold (dicts, lists, bytes, numpy arrays): a file that asks
for anything else (e.g. a function to call, the way a malicious pickle runs code) is refused
with one clear error before any of it runs.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness import HarnessError
from harness.assets import ASSETS

ENV_VAR = "HARNESS_CIFAR10"
SAMPLE_NAME = "cifar10-sample.npz"
#: per-channel statistics of CIFAR-10 train images / 255 (the usual constants)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)


@dataclass(frozen=True)
class ImageData:
    """Train and test images (uint8, N x 32 x 32 x 3) with int64 labels, and where from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    num_classes: int

    @property
    def mean(self) -> tuple[float, float, float]:
        return CIFAR100_MEAN if self.num_classes == 100 else CIFAR10_MEAN

    @property
    def std(self) -> tuple[float, float, float]:
        return CIFAR100_STD if self.num_classes == 100 else CIFAR10_STD


def sample_path() -> Path:
    """The small real CIFAR-10 sample shipped with the package (see assets/README.md)."""
    return ASSETS / SAMPLE_NAME


def locate_cifar10(path: str | Path | None = None) -> Path:
    """An explicit path, else $HARNESS_CIFAR10, else the shipped sample."""
    if path is not None and str(path) not in ("", "sample"):
        return Path(path)
    env = os.environ.get(ENV_VAR)
    if path is None and env:
        return Path(env)
    return sample_path()


def _from_npz(path: Path) -> ImageData:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as err:
        raise HarnessError(f"image file {path} lacks array {err}") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise HarnessError(f"cannot read image file {path}: {err}") from None
    n_classes = int(max(arrays["y_train"].max(initial=0), arrays["y_test"].max(initial=0))) + 1
    return _checked(arrays, str(path), 100 if n_classes > 10 else 10)


#: the only globals a CIFAR batch pickle refers to: numpy's array and scalar reconstructors
#: (numpy 1 and 2 module names, pickle protocols 2 to 5) and the codec Python 3 uses for bytes
SAFE_GLOBALS = frozenset(
    (module, name)
    for core in ("numpy.core", "numpy._core")
    for module, name in (
        (f"{core}.multiarray", "_reconstruct"),
        (f"{core}.multiarray", "scalar"),
        (f"{core}.numeric", "_frombuffer"),
    )
) | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _Refused(pickle.UnpicklingError):
    pass


class _CifarUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in SAFE_GLOBALS:
            raise _Refused(f"{module}.{name}")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    """One batch, read by the restricted unpickler (see SAFE_GLOBALS)."""
    try:
        with open(path, "rb") as fh:
            batch = _CifarUnpickler(fh, encoding="bytes").load()
    except _Refused as err:
        raise HarnessError(
            f"refusing to read CIFAR batch {path}: it asks to load {err}, which a CIFAR batch "
            "never holds (only dicts, lists, bytes and numpy arrays); not an official file?"
        ) from None
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
        raise HarnessError(f"cannot read CIFAR batch {path}: {err}") from None
    if not isinstance(batch, dict):
        raise HarnessError(f"CIFAR batch {path} holds a {type(batch).__name__}, not a dict")
    return batch


def _rows_to_nhwc(data: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(
        np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    )


def _from_cifar10_dir(root: Path) -> ImageData:
    xs, ys = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        batch = _unpickle(root / name)
        xs.append(_rows_to_nhwc(batch[b"data"]))
        ys.append(np.asarray(batch[b"labels"]))
    test = _unpickle(root / "test_batch")
    arrays = {
        "x_train": np.concatenate(xs),
        "y_train": np.concatenate(ys),
        "x_test": _rows_to_nhwc(test[b"data"]),
        "y_test": np.asarray(test[b"labels"]),
    }
    return _checked(arrays, str(root), 10)


def _from_cifar100_dir(root: Path) -> ImageData:
    train, test = _unpickle(root / "train"), _unpickle(root / "test")
    arrays = {
        "x_train": _rows_to_nhwc(train[b"data"]),
        "y_train": np.asarray(train[b"fine_labels"]),
        "x_test": _rows_to_nhwc(test[b"data"]),
        "y_test": np.asarray(test[b"fine_labels"]),
    }
    return _checked(arrays, str(root), 100)


def _checked(arrays: dict[str, np.ndarray], source: str, num_classes: int) -> ImageData:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
            raise HarnessError(f"{source}: x_{split} must be uint8 N x 32 x 32 x 3, got {x.shape}")
        if len(y) != len(x):
            raise HarnessError(f"{source}: {len(x)} {split} images but {len(y)} labels")
    return ImageData(
        x_train=arrays["x_train"],
        y_train=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"],
        y_test=arrays["y_test"].astype(np.int64),
        source=source,
        num_classes=num_classes,
    )


def load_images(path: str | Path | None = None) -> ImageData:
    """Load from an .npz, a `cifar-10-batches-py` / `cifar-100-python` folder, or a root
    holding one of them; None means $HARNESS_CIFAR10 or the shipped sample."""
    p = locate_cifar10(path)
    if p.is_file():
        return _from_npz(p)
    if p.is_dir():
        for sub in (p, p / "cifar-10-batches-py", p / "cifar-100-python"):
            if (sub / "data_batch_1").is_file():
                return _from_cifar10_dir(sub)
            if (sub / "train").is_file() and (sub / "test").is_file():
                return _from_cifar100_dir(sub)
        raise HarnessError(f"no CIFAR-10/100 python batches under {p}")
    raise HarnessError(f"image data {p} does not exist (set {ENV_VAR} or pass a path)")
