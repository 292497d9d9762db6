"""SNIP (Lee et al. 2019) as a zero-cost proxy (Abdelfattah et al. 2021; NASLib `snip`):
the sum over conv and linear weights of |w * dL/dw|, L the cross-entropy of the batch's labels.

The reference multiplies each weight by a mask of ones and takes |dL/dmask|, which equals
|w * dL/dw| at mask = 1. Batch 64 labeled images (Abdelfattah's NB201 script), PyTorch's
default init, train mode (batch statistics). Uses labels: `labels_used` = batch size.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.proxies.zero_cost.common import (
    COMMON,
    Context,
    ZeroCostProxy,
    resolve,
    weighted_layers,
)

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 64}


def loss_gradients(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    net.zero_grad(set_to_none=True)
    F.cross_entropy(net(x), y).backward()


def saliency(net: nn.Module) -> float:
    total = torch.zeros((), dtype=torch.float64)
    for layer in weighted_layers(net):
        if layer.weight.grad is not None:
            total += (layer.weight.detach() * layer.weight.grad).abs().sum().double().cpu()
    return float(total)


def measure(ctx: Context) -> float:
    assert ctx.batch is not None and ctx.batch.y is not None
    loss_gradients(ctx.net, ctx.batch.x, ctx.batch.y)
    return saliency(ctx.net)


def snip_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("snip", resolve("snip", DEFAULTS, overrides), measure, needs="labels")
