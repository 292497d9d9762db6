"""Parameter count of the network the space builds (millions), a baseline zero-cost proxy.

Counted from the module itself on PyTorch's meta device (no weights allocated, no init), so
it is exact and seed-independent (`deterministic`). For NB201 at C=16, N=5 it equals the
table's `params_c10_M` (conv, BN affine and linear weights and biases). Bigger is better as
published (NASLib `params`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from harness.proxies.zero_cost.common import (
    Context,
    ZeroCostProxy,
    check_scale,
    resolve,
    space_of,
)

DEFAULTS: dict[str, Any] = {"scale": {}, "threads": 1}


def meta_network(arch: Any, benchmark: Any, s: dict[str, Any], *_: Any) -> nn.Module:
    """The space's network on the meta device: shapes only, for counting."""
    space = space_of(benchmark)
    check_scale(space, s["scale"])
    with torch.device("meta"):
        return space.network(arch, benchmark.n_classes, **s["scale"])


def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    n = sum(p.numel() for p in ctx.net.parameters())
    return n / 1e6, {"params": n}


def params_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve("params", DEFAULTS, overrides)
    return ZeroCostProxy(
        "params", settings, measure, needs="none", deterministic=True, build=meta_network
    )
