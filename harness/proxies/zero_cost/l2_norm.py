"""L2 norm (Abdelfattah et al. 2021; NASLib `l2_norm`): the sum over conv and linear layers
of the Frobenius norm of the weight tensor, of the untrained network. No data, no labels.

Read in NASLib (`naslib/predictors/utils/pruners/measures/l2_norm.py`, `predictive.py`
`find_measures`, `zerocost.py`). Differences: NASLib sums the norms in float32, the harness in
float64; nothing else (NASLib's copy of the network and its data batch are not read by it).

At PyTorch's default init (uniform with bound 1/sqrt(fan_in) for conv and linear weights,
Kaiming-uniform a = sqrt(5)) E||W||^2 = out_channels / 3 whatever the kernel, so the score is
close to a weighted count of conv layers and moves with the init seed by a small amount.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from harness.proxies.zero_cost.common import (
    COMMON,
    Context,
    ZeroCostProxy,
    build_network,
    resolve,
    weighted_layers,
)

DEFAULTS: dict[str, Any] = {k: COMMON[k] for k in ("scale", "init", "device", "threads")}


def norm_sum(net: nn.Module) -> float:
    """sum over conv/linear layers of ||W||_F."""
    total = torch.zeros((), dtype=torch.float64)
    with torch.no_grad():
        for layer in weighted_layers(net):
            total += layer.weight.double().norm().cpu()
    return float(total)


def measure(ctx: Context) -> float:
    return norm_sum(ctx.net)


def build(arch: Any, benchmark: Any, s: dict[str, Any], init_seed: int, device: Any) -> nn.Module:
    """`build_network` without a BatchNorm setting: no forward pass runs."""
    return build_network(arch, benchmark, {**s, "bn": "eval"}, init_seed, device)


def l2_norm_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve("l2-norm", DEFAULTS, overrides)
    return ZeroCostProxy("l2-norm", settings, measure, needs="none", build=build)
