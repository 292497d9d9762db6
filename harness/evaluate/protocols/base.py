"""What an evaluation protocol is: how a returned cell is trained from scratch for its report
metric, at three profiles (smoke: seconds on a CPU; quick: a short run; paper: the published
setup), with every setting that changes the result resolved into one dict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness import HarnessError

PROFILES = ("smoke", "quick", "paper")

#: settings every protocol resolves (scale keys of the space come on top)
COMMON_DEFAULTS: dict[str, Any] = {
    "epochs": 1,
    "batch_size": 96,
    "test_batch_size": 256,
    "lr": 0.025,
    "momentum": 0.9,
    "weight_decay": 3e-4,
    "nesterov": False,
    "crop_padding": 4,
    "flip": True,
    "cutout": 0,
    "drop_path": 0.0,
    "aux_weight": 0.0,
    "grad_clip": 0.0,
    "train_images": None,  # None: the whole training split
    "test_images": None,  # None: the whole test split
    "eval_every": 1,  # test accuracy every k epochs (and always after the last)
    "data": None,  # None: $HARNESS_CIFAR10 / $HARNESS_CIFAR100; 'sample': the shipped sample
    "seed": 0,
    "precision": "auto",  # auto, fp32, bf16, fp16
    "channels_last": True,
    "deterministic": True,
}


@dataclass(frozen=True)
class TrainingProtocol:
    """A published training setup for returned cells, with smaller profiles for CPU tests.

    `profiles[p]` overrides `COMMON_DEFAULTS` at profile p; `scales[p]` is the network scale
    for the protocol's native spaces. `lr_epoch_offset` places epoch e of the cosine
    schedule: lr(e) = lr * (1 + cos(pi * (e + offset) / epochs)) / 2.
    """

    name: str
    description: str
    reference: str
    native_spaces: tuple[str, ...]
    profiles: Mapping[str, Mapping[str, Any]]
    scales: Mapping[str, Mapping[str, int]]
    normalization: Mapping[str, tuple[tuple[float, float, float], tuple[float, float, float]]]
    lr_epoch_offset: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def lr_factor(self, epoch: int, epochs: int) -> float:
        """Multiplier of the base lr for 0-based `epoch` (cosine annealing to 0)."""
        return 0.5 * (1.0 + math.cos(math.pi * min(epoch + self.lr_epoch_offset, epochs) / epochs))

    def drop_path_at(self, epoch: int, epochs: int, drop_path: float) -> float:
        """DARTS's linear ramp: drop_path * epoch / epochs (0 in the first epoch)."""
        return drop_path * epoch / epochs

    def stats(self, dataset: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        if dataset not in self.normalization:
            known = ", ".join(self.normalization)
            raise HarnessError(f"protocol {self.name} trains on {known}, not {dataset}")
        return self.normalization[dataset]

    def resolve(
        self, profile: str, space_name: str, scale_keys: tuple[str, ...], overrides: dict
    ) -> dict[str, Any]:
        """Every setting for one evaluation: defaults, the profile, the native scale, overrides.
        Unknown override keys and bad values fail here, before anything is stored."""
        if profile not in PROFILES:
            raise HarnessError(f"unknown profile {profile!r} (profiles: {', '.join(PROFILES)})")
        settings = {**COMMON_DEFAULTS, **self.profiles[profile]}
        if space_name in self.native_spaces:
            settings.update(self.scales[profile])
        known = set(settings) | set(scale_keys)
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise HarnessError(
                f"unknown setting {unknown[0]!r} for protocol {self.name} "
                f"(known: {', '.join(sorted(known))})"
            )
        settings.update(overrides)
        settings["profile"] = profile
        check_settings(settings, scale_keys)
        return settings


def _positive_int(settings: dict[str, Any], key: str, allow_none: bool = False) -> None:
    value = settings.get(key)
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HarnessError(f"setting {key}={value!r} must be a positive integer")


def check_settings(settings: dict[str, Any], scale_keys: tuple[str, ...]) -> None:
    for key in ("epochs", "batch_size", "test_batch_size", "eval_every"):
        _positive_int(settings, key)
    for key in ("train_images", "test_images"):
        _positive_int(settings, key, allow_none=True)
    for key in scale_keys:
        if key in settings:
            _positive_int(settings, key)
    for key in ("crop_padding", "cutout"):
        v = settings[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise HarnessError(f"setting {key}={v!r} must be a non-negative integer")
    for key in ("lr", "momentum", "weight_decay", "drop_path", "aux_weight", "grad_clip"):
        v = settings[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            raise HarnessError(f"setting {key}={v!r} must be a non-negative number")
    if not settings["lr"] > 0:
        raise HarnessError(f"setting lr={settings['lr']!r} must be positive")
    if settings["drop_path"] >= 1:
        raise HarnessError(f"setting drop_path={settings['drop_path']!r} must be below 1")
    if settings["precision"] not in ("auto", "fp32", "bf16", "fp16"):
        raise HarnessError(
            f"setting precision={settings['precision']!r} must be auto, fp32, bf16 or fp16"
        )
    for key in ("nesterov", "flip", "channels_last", "deterministic"):
        if not isinstance(settings[key], bool):
            raise HarnessError(f"setting {key}={settings[key]!r} must be true or false")
    if isinstance(settings["seed"], bool) or not isinstance(settings["seed"], int):
        raise HarnessError(f"setting seed={settings['seed']!r} must be an integer")
    if settings["nesterov"] and not settings["momentum"] > 0:
        raise HarnessError("setting nesterov=true needs momentum > 0")
