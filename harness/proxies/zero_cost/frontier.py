"""Shared pieces of the 'frontier' proxies (AZ-NAS, MeCo, VKDNW, ZiCo): their extra settings,
the Kaiming fan-in init AZ-NAS and VKDNW apply, Gaussian inputs for the data-free ones, and the
per-cell feature maps AZ-NAS reads (the stem's output and every cell's output).

The authors' `init_model(model, 'kaiming_norm_fanin')` (AZ-NAS and VKDNW `compute_*_score.py`):
conv and linear weights Kaiming-normal with mode fan_in and the ReLU gain, zero biases, affine
norm layers weight 1 / bias 0. Their data-free input is `torch.randn(batch, 3, res, res)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from harness import HarnessError
from harness.proxies.zero_cost.common import CHECKS, build_network, resolve


def _int_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


FRONTIER_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "batches": (_int_at_least(1), "an integer >= 1"),
    "grad_params": (_int_at_least(1), "an integer >= 1"),
    "per_tensor": (_int_at_least(1), "an integer >= 1"),
    "reference": (_int_at_least(1), "an integer >= 1"),
    "clip_eigenvalues": (lambda v: isinstance(v, bool), "true or false"),
}


def resolve_frontier(
    proxy: str, defaults: dict[str, Any], overrides: dict[str, Any]
) -> dict[str, Any]:
    """`common.resolve` for settings that include the frontier proxies' own keys."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        known = ", ".join(sorted(defaults))
        raise HarnessError(f"unknown setting {unknown[0]!r} for proxy {proxy} (known: {known})")
    own = {k for k in defaults if k in FRONTIER_CHECKS and k not in CHECKS}
    settings = resolve(
        proxy,
        {k: v for k, v in defaults.items() if k not in own},
        {k: v for k, v in overrides.items() if k not in own},
    )
    for key in sorted(own):
        value = overrides.get(key, defaults[key])
        check, what = FRONTIER_CHECKS[key]
        if not check(value):
            raise HarnessError(f"setting {key}={value!r} for proxy {proxy} must be {what}")
        settings[key] = value
    return dict(sorted(settings.items()))


def kaiming_fanin_init(net: nn.Module) -> None:
    """The authors' 'kaiming_norm_fanin' init, from torch's global RNG (seed it first)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


def default_init_network(
    arch: Any, benchmark: Any, s: dict[str, Any], init_seed: int, device: torch.device
) -> nn.Module:
    """`common.build_network` with PyTorch's init, for proxies that re-initialise it."""
    return build_network(arch, benchmark, {**s, "init": "default"}, init_seed, device)


def gaussian_input(n: int, size: int, seed: int, device: torch.device) -> torch.Tensor:
    """N(0, 1) images (n, 3, size, size) from a generator seeded with `seed`."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn((n, 3, size, size), generator=gen).to(device)
