"""Scale profiles for the trained proxies, and settings resolution with validation.

A profile is a preset of the settings both trained proxies share plus a recommended number of
search trials. `paper` is the CSNAS authors' setup (32x32, batch 256, 10 epochs, SGD lr 1e-3
momentum 0.9, 500 = 1% of the 50k train images, 120 TPE evaluations); `quick` fits 2 CPU
cores; `smoke` is for tests. Settings were fixed from cost alone, never by looking at
benchmark ground truth.

The network's scale is the space's: `SearchSpace.proxy_scale(profile)` (NB201: C, N) gives
the default, so a profile means the same thing in every space. A setting named by any
registered space's `scale_keys` (e.g. `C=8`) is accepted, kept in the settings (so it keys
the cache and lands in the manifest) and applied to the spaces that declare it.

Resolution order: profile < variant defaults (contrastive) < explicit overrides.
"""

from __future__ import annotations

from typing import Any

from harness import HarnessError

#: settings shared by `contrastive` and `supervised`, at paper scale
COMMON: dict[str, Any] = {
    "image_size": 32,
    "train_images": 500,
    "heldout_images": 250,
    "batch_size": 256,
    "epochs": 10,
    "lr": 1e-3,
    "momentum": 0.9,
    "weight_decay": 0.0,
    "augment": "weak",
    "data": "sample",
    "device": "cpu",
    # CPU threads per evaluation (harness.proxies.training.cpu_threads): fixed, so scores
    # do not depend on the core count; several runs at once use the other cores
    "threads": 1,
}

PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {
        "trials": 4,
        "description": "tests: tiny net and data, well under a second per cell",
        "settings": {
            "image_size": 16,
            "train_images": 64,
            "heldout_images": 32,
            "batch_size": 32,
            "epochs": 1,
        },
    },
    "quick": {
        "trials": 100,
        "description": "2 CPU cores: small net (NB201 C=8, N=1), 16x16, 256 images, 3 epochs",
        "settings": {
            "image_size": 16,
            "train_images": 256,
            "heldout_images": 128,
            "batch_size": 64,
            "epochs": 3,
        },
    },
    "paper": {
        "trials": 120,
        "description": "the CSNAS authors' setup: 500 images (1%), 32x32, 10 epochs, batch 256",
        "settings": {},
    },
}
DEFAULT_PROFILE = "quick"


def profile_settings(profile: str) -> dict[str, Any]:
    if profile not in PROFILES:
        raise HarnessError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
    return {**COMMON, **PROFILES[profile]["settings"]}


def recommended_trials(profile: str) -> int:
    profile_settings(profile)
    return int(PROFILES[profile]["trials"])


_POSITIVE_INT = ("image_size", "train_images", "heldout_images", "batch_size", "epochs", "threads")


def resolve(
    proxy: str,
    defaults: dict[str, Any],
    overrides: dict[str, Any],
    derived: dict[str, dict[str, Any]] | None = None,
    switch: str | None = None,
) -> dict[str, Any]:
    """Merge COMMON < profile < `defaults` < derived[overrides[switch]] < overrides; reject
    unknown keys and malformed values with a HarnessError naming the setting."""
    overrides = dict(overrides)
    profile = str(overrides.pop("profile", DEFAULT_PROFILE))
    base = {**profile_settings(profile), **defaults}
    scale = scale_keys()
    unknown = sorted(set(overrides) - set(base) - scale)
    if unknown:
        raise HarnessError(
            f"unknown setting {unknown[0]!r} for proxy {proxy} (known: profile, "
            f"{', '.join(sorted(set(base) | scale))})"
        )
    settings = dict(base)
    if switch is not None and derived is not None:
        choice = overrides.get(switch, base[switch])
        if choice not in derived:
            raise HarnessError(
                f"unknown {switch} {choice!r} for proxy {proxy} (known: {', '.join(derived)})"
            )
        settings.update(derived[choice])
    settings.update(overrides)
    for key in (*_POSITIVE_INT, *sorted(scale & set(settings))):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise HarnessError(f"setting {key}={value!r} for proxy {proxy} must be an integer >= 1")
    for key in ("lr", "momentum", "weight_decay"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise HarnessError(f"setting {key}={value!r} for proxy {proxy} must be a number >= 0")
        settings[key] = float(value)
    settings["data"] = str(settings["data"])
    return {"profile": profile, **settings}


def scale_keys() -> set[str]:
    """Scale setting names of every registered space."""
    from harness.spaces import SPACES

    return {key for name in SPACES.names() for key in SPACES.get(name).scale_keys}
