"""ZiCo (Li et al., ICLR 2023, "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on
Gradients"; code github.com/SLDGroup/ZiCo `ZeroShotProxy/compute_zico.py`, and the NB201 copy in
ondratybl/VKDNW `NB201/ZeroShotProxy/compute_zico_score.py`).

For each of `batches` labeled batches the cross-entropy gradient of every conv and linear weight
is recorded; per layer, with mean|g| and std(g) taken elementwise across the batches (population
std, numpy's default), ZiCo adds log(sum over elements with std != 0 of mean|g| / std); a layer
whose sum is 0 adds nothing. Higher is better.

Their settings: 2 batches (`batch_iter=2`) of 64 training images with their labels, PyTorch's
default init, train-mode BN. Uses labels: `labels_used` = batches x batch size (128).
Differences: the two batches are one seeded draw of 128 distinct images from the shipped
CIFAR-10 sample, split in two, normalised, without their loader's augmentation; statistics are
computed in float64 (theirs in float32 numpy).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harness.proxies.base import Evaluation
from harness.proxies.zero_cost.common import (
    COMMON,
    Context,
    ZeroCostProxy,
    weighted_layers,
)
from harness.proxies.zero_cost.frontier import resolve_frontier

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 64, "batches": 2}


def batch_gradients(
    net: nn.Module, xs: list[torch.Tensor], ys: list[torch.Tensor]
) -> list[torch.Tensor]:
    """Per conv/linear layer, the weight gradients of each batch stacked: (batches, elements)."""
    layers = weighted_layers(net)
    grads: list[list[torch.Tensor]] = [[] for _ in layers]
    for x, y in zip(xs, ys):
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        for i, layer in enumerate(layers):
            if layer.weight.grad is not None:
                grads[i].append(layer.weight.grad.detach().reshape(-1).double().cpu())
    return [torch.stack(g) for g in grads if len(g) == len(xs)]


def zico_score(grads: list[torch.Tensor]) -> float:
    total = 0.0
    for g in grads:
        std = g.std(dim=0, unbiased=False)
        keep = std != 0
        ratio_sum = float((g.abs().mean(dim=0)[keep] / std[keep]).sum())
        if ratio_sum != 0:
            total += math.log(ratio_sum)
    return total


def measure(ctx: Context) -> float:
    assert ctx.batch is not None and ctx.batch.y is not None
    n = ctx.settings["batches"]
    xs = list(ctx.batch.x.chunk(n))
    ys = list(ctx.batch.y.chunk(n))
    return zico_score(batch_gradients(ctx.net, xs, ys))


class ZicoProxy(ZeroCostProxy):
    """Draws batches x batch_size images at once (split into the batches)."""

    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation:
        s = self.config
        drawn = ZeroCostProxy(
            self.name,
            {**s, "batch_size": s["batch_size"] * s["batches"]},
            measure,
            needs="labels",
        )
        return drawn.evaluate(arch, benchmark, seed)


def zico_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve_frontier("zico", DEFAULTS, overrides)
    return ZicoProxy("zico", settings, measure, needs="labels")
