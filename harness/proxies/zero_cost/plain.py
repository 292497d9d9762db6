"""Plain (Abdelfattah et al. 2021; NASLib `plain`): the sum over conv and linear weights of
w * dL/dw, signs kept, L the cross-entropy of the batch's labels (SNIP without the absolute
value).

Read in NASLib (`naslib/predictors/utils/pruners/measures/plain.py`, `predictive.py`
`find_measures`, `zerocost.py`). Differences: batch 64 (Abdelfattah et al.'s NB201 script) of
the shipped images, no augmentation, where NASLib's benchmark scores used one batch of 32 from
its CIFAR loader; NASLib's -1e8 for a NaN/inf score is a failed Evaluation here; the sum runs
in float64 (NASLib sums float32 tensors).

Train-mode BatchNorm, PyTorch's default init. Uses labels: `labels_used` = batch size.
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


def signed_saliency(net: nn.Module) -> float:
    """sum over conv/linear weights of w * dL/dw (after `loss_gradients`)."""
    total = torch.zeros((), dtype=torch.float64)
    for layer in weighted_layers(net):
        if layer.weight.grad is not None:
            total += (layer.weight.detach() * layer.weight.grad).double().sum().cpu()
    return float(total)


def measure(ctx: Context) -> float:
    assert ctx.batch is not None and ctx.batch.y is not None
    loss_gradients(ctx.net, ctx.batch.x, ctx.batch.y)
    return signed_saliency(ctx.net)


def plain_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("plain", resolve("plain", DEFAULTS, overrides), measure, needs="labels")
