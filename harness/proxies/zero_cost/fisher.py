"""Fisher (Theis et al. 2018, channel pruning; as Abdelfattah et al. 2021 and NASLib `fisher`
compute it): for every conv and linear layer and output channel k,
F_k = 0.5 * mean_n (sum over positions of a_nk * dL/da_nk)^2, a the layer's output and L the
cross-entropy of the batch's labels; the score is the sum over layers and channels of |F_k|
times the number of weights feeding channel k (in_channels / groups * kernel area, or
in_features), as NASLib broadcasts each channel's value to its weights and then sums.

Read in NASLib (`naslib/predictors/utils/pruners/measures/fisher.py`, `p_utils.py`,
`predictive.py` `find_measures`, `zerocost.py`). Differences:

- NASLib catches a^T dL/da with an identity module after each layer and a (deprecated)
  module backward hook; the harness uses a forward hook and a hook on the output tensor: the
  same two tensors. A layer called twice adds both calls' values (NASLib would fail there; no
  NB201 or DARTS layer is called twice). A layer whose output does not reach the loss scores
  0, as NASLib's.
- Batch 64 (Abdelfattah et al.'s NB201 script) of the shipped images, no augmentation;
  NASLib's benchmark scores used one batch of 32 from its CIFAR loader (train transforms).
- NASLib's -1e8 for a NaN/inf score is a failed Evaluation here (both rank it last).
- NASLib's NB201 cells use BatchNorm with affine=False; the harness's affine BatchNorm is
  the identity map at init, so the forward pass and these gradients are the same.

Train-mode BatchNorm (NASLib calls `net.train()`), PyTorch's default init. Uses labels:
`labels_used` = batch size. Statistics summed in float64.
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


def channel_fisher(act: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """0.5 * mean over the batch of (sum over positions of act * grad)^2, per channel."""
    g = act * grad
    if g.dim() > 2:
        g = g.sum(dim=tuple(range(2, g.dim())))
    return g.pow(2).mean(0).mul(0.5)


def fisher_score(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum over conv/linear layers of sum_k |F_k| * (weights per output channel)."""
    layers = weighted_layers(net)
    fisher: dict[int, torch.Tensor] = {}
    handles = []

    def forward_hook(layer: nn.Module, inputs: Any, out: torch.Tensor) -> None:
        if not out.requires_grad:
            return
        act = out.detach()

        def grad_hook(grad: torch.Tensor) -> None:
            f = channel_fisher(act, grad.detach())
            fisher[id(layer)] = fisher[id(layer)] + f if id(layer) in fisher else f

        out.register_hook(grad_hook)

    for layer in layers:
        handles.append(layer.register_forward_hook(forward_hook))
    try:
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
    finally:
        for h in handles:
            h.remove()
    total = torch.zeros((), dtype=torch.float64)
    for layer in layers:
        if id(layer) in fisher:
            per_weight = layer.weight[0].numel()
            total += fisher[id(layer)].abs().double().sum().cpu() * per_weight
    return float(total)


def measure(ctx: Context) -> float:
    assert ctx.batch is not None and ctx.batch.y is not None
    return fisher_score(ctx.net, ctx.batch.x, ctx.batch.y)


def fisher_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("fisher", resolve("fisher", DEFAULTS, overrides), measure, needs="labels")
