"""Gradient norm (Abdelfattah et al. 2021; NASLib `grad_norm`): the sum over conv and linear
layers of the L2 norm of dL/dw, L the cross-entropy of the batch's labels.

Batch 64 labeled images, PyTorch's default init, train mode, as the reference NB201 script.
Uses labels: `labels_used` = batch size.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from harness.proxies.zero_cost.common import (
    COMMON,
    Context,
    ZeroCostProxy,
    resolve,
    weighted_layers,
)
from harness.proxies.zero_cost.snip import loss_gradients

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 64}


def layer_norm_sum(net: nn.Module) -> float:
    total = torch.zeros((), dtype=torch.float64)
    for layer in weighted_layers(net):
        if layer.weight.grad is not None:
            total += layer.weight.grad.double().norm().cpu()
    return float(total)


def measure(ctx: Context) -> float:
    assert ctx.batch is not None and ctx.batch.y is not None
    loss_gradients(ctx.net, ctx.batch.x, ctx.batch.y)
    return layer_norm_sum(ctx.net)


def grad_norm_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve("grad-norm", DEFAULTS, overrides)
    return ZeroCostProxy("grad-norm", settings, measure, needs="labels")
