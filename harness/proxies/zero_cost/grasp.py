"""GraSP (Wang et al. 2020, "gradient signal preservation"; as Abdelfattah et al. 2021 and
NASLib `grasp` compute it): the sum over conv and linear weights of -w * (H g), g the gradient
of the cross-entropy L of the batch's labels with respect to those weights and H the Hessian
of L, H g taken as the gradient of g_detached . dL/dw (a Hessian-vector product).

Read in NASLib (`naslib/predictors/utils/pruners/measures/grasp.py`, `predictive.py`
`find_measures`: the per-weight values are summed, signs kept; `zerocost.py`). NASLib's sign
(-w Hg) is theirs: the comment there says they negated GraSP's because accuracy correlated
negatively with it. Differences:

- T = 1 and one iteration, as NASLib calls it; the Hessian-vector product through
  `torch.autograd.grad` instead of `z.backward()` into `.grad` (the same product).
- Batch 64 (Abdelfattah et al.'s NB201 script, `dataload random`) of the shipped images, no
  augmentation; NASLib's benchmark scores used one batch of 32 from its CIFAR loader.
  Wang et al. draw 10 images per class (`dataload grasp`); neither NASLib nor this does.
- NASLib's -1e8 for a NaN/inf score is a failed Evaluation here (both rank it last).
- The sum runs in float64 (NASLib sums float32 tensors).
- The network's average pools are torch's (`twice_differentiable`): the spaces' faster pool
  has a once-differentiable backward that would drop part of H g.

Train-mode BatchNorm (batch statistics; both passes see the same batch), PyTorch's default
init. Uses labels: `labels_used` = batch size.
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
    build_network,
    resolve,
    weighted_layers,
)

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 64}


def twice_differentiable(net: nn.Module) -> nn.Module:
    """The spaces' average pools (`harness.spaces.layers.AvgPool2d`) back to torch's own,
    in place: their faster backward is once-differentiable, and a Hessian-vector product
    through it silently drops the pool's part of the second derivative (measured: -0.0387
    against -0.0429 on a small conv net with one 3x3 pool). Same forward numbers."""
    for m in net.modules():
        if isinstance(m, nn.AvgPool2d) and type(m) is not nn.AvgPool2d:
            m.__class__ = nn.AvgPool2d
    return net


def build(arch: Any, benchmark: Any, s: dict[str, Any], init_seed: int, device: Any) -> nn.Module:
    """`build_network` with torch's twice-differentiable pooling."""
    return twice_differentiable(build_network(arch, benchmark, s, init_seed, device))


def grasp_score(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """sum over conv/linear weights of -w * Hg (NASLib's sign)."""
    weights = [layer.weight for layer in weighted_layers(net)]
    net.zero_grad(set_to_none=True)
    grads = torch.autograd.grad(F.cross_entropy(net(x), y), weights, allow_unused=True)
    g = [None if gr is None else gr.detach() for gr in grads]
    grads_f = torch.autograd.grad(
        F.cross_entropy(net(x), y), weights, create_graph=True, allow_unused=True
    )
    z = sum(
        ((gw * gf).sum() for gw, gf in zip(g, grads_f) if gw is not None and gf is not None),
        torch.zeros((), device=x.device),
    )
    hg = torch.autograd.grad(z, weights, allow_unused=True) if z.requires_grad else []
    total = torch.zeros((), dtype=torch.float64)
    for w, h in zip(weights, hg):
        if h is not None:
            total -= (w.detach() * h).double().sum().cpu()
    return float(total)


def measure(ctx: Context) -> float:
    assert ctx.batch is not None and ctx.batch.y is not None
    return grasp_score(ctx.net, ctx.batch.x, ctx.batch.y)


def grasp_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve("grasp", DEFAULTS, overrides)
    return ZeroCostProxy("grasp", settings, measure, needs="labels", build=build)
