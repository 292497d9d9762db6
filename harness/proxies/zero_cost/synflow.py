"""SynFlow (Tanaka et al., NeurIPS 2020) as a zero-cost proxy, as Abdelfattah et al. (ICLR
2021) and NASLib compute it: no data, no labels.

Every parameter and buffer is replaced by its absolute value, the network runs in double
precision on one all-ones input (1, 3, H, W), and the sum of the outputs is back-propagated;
the score is the sum over conv and linear weights of |w * dR/dw|. BatchNorm is switched off
(identity), the reference's `bn=False` copy. NASLib hands TPE log(score) (zerocost.py), and
so does the harness (monotone, so ranks are unchanged; 0 stays 0 as in NASLib, e.g. cells
whose output is cut off). PyTorch's default init, drawn under the seed, so the score depends
on the seed.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from harness.proxies.zero_cost.common import (
    Context,
    ZeroCostProxy,
    resolve,
    weighted_layers,
)

DEFAULTS: dict[str, Any] = {
    "scale": {},
    "init": "default",
    "bn": "off",
    "image_size": 32,
    "device": "cpu",
    "threads": 1,
}


def linearised(net: nn.Module) -> nn.Module:
    """The network in double precision with every parameter and buffer made non-negative."""
    net.double()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    return net


def synaptic_flow(net: nn.Module, shape: tuple[int, ...]) -> float:
    """sum |w * d(sum outputs)/dw| over conv/linear weights, for an all-ones double input."""
    net = linearised(net)
    net.zero_grad(set_to_none=True)
    device = next(net.parameters()).device
    out = net(torch.ones(shape, dtype=torch.float64, device=device))
    out.sum().backward()
    total = torch.zeros((), dtype=torch.float64)
    for layer in weighted_layers(net):
        if layer.weight.grad is not None:
            total += (layer.weight.detach() * layer.weight.grad).abs().sum().cpu()
    return float(total)


def log_score(total: float) -> float:
    """NASLib's transform: log of a positive sum, 0 kept as 0."""
    return math.log(total) if total > 0 else 0.0


def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    size = ctx.settings["image_size"]
    total = synaptic_flow(ctx.net, (1, 3, size, size))
    return log_score(total), {"synflow_sum": total}


def synflow_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve("synflow", DEFAULTS, overrides)
    return ZeroCostProxy("synflow", settings, measure, needs="none")
