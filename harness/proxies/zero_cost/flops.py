"""FLOPs of the network the space builds (millions of multiply-accumulates), a baseline proxy.

Counted with forward hooks on a meta-device forward pass of one (1, 3, H, W) image (shapes
only, no arithmetic): each Conv2d adds out_elements x (in_channels / groups) x kh x kw, plus
out_elements for a bias; each Linear adds in x out, plus out for a bias. BatchNorm, pooling,
ReLU and additions are not counted. This is how NAS-Bench-201 counts FLOPs (its table column
`flops_c10_M`: conv + linear multiply-adds), and for NB201 at C=16, N=5, 32x32 the two are
equal; NASLib's `flops` counts more op types and is not the table's number. Exact and
seed-independent (`deterministic`). Bigger is better as published (NASLib `flops`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from harness.proxies.zero_cost.common import Context, ZeroCostProxy, resolve
from harness.proxies.zero_cost.params import meta_network

DEFAULTS: dict[str, Any] = {"scale": {}, "image_size": 32, "threads": 1}


def layer_macs(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-accumulates of one conv or linear call, NB201's way (bias adds one per output)."""
    bias = 1 if getattr(module, "bias", None) is not None else 0
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        per_output = module.in_channels // module.groups * kh * kw
        return output.numel() * (per_output + bias)
    if isinstance(module, nn.Linear):
        return output.numel() * (module.in_features + bias)
    return 0


def count_macs(net: nn.Module, shape: tuple[int, ...]) -> int:
    total = 0

    def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        nonlocal total
        total += layer_macs(module, output)

    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        with torch.no_grad():
            net(torch.zeros(shape, device=next(net.parameters()).device))
    finally:
        for h in handles:
            h.remove()
    return total


def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    size = ctx.settings["image_size"]
    macs = count_macs(ctx.net, (1, 3, size, size))
    return macs / 1e6, {"macs": macs}


def flops_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve("flops", DEFAULTS, overrides)
    return ZeroCostProxy(
        "flops", settings, measure, needs="none", deterministic=True, build=meta_network
    )
