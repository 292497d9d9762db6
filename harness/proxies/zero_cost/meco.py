"""MeCo (Jiang et al., NeurIPS 2023, "Zero-Shot Neural Architecture Search via Minimum
Eigenvalue of Correlation on Feature Maps"; code github.com/HamsterMimi/MeCo, its NB201 script
`correlation/NAS_Bench_201.py`, `get_score(..., measure='meco')`).

A forward hook on every module of the network (`named_modules`, the network itself included)
takes the module's output for the first image of the batch, reshapes it to (channels, -1),
computes the correlation matrix between channels (`torch.corrcoef`), sets NaN and inf entries
to 0 and keeps its smallest eigenvalue; MeCo is the sum over modules (NaN/inf results dropped).
Outputs that are one value per channel (pooled features, logits) give a matrix of zeros, so
they add 0, as in the reference.

Their NB201 settings: batch 1 (one CIFAR train image, their `--batch_size 1`), PyTorch's default
init (`--init_w_type none`), the network in its default (train) mode, so BN normalises with the
image's own statistics. Higher is better.

Differences: eigenvalues from `eigvalsh` (the matrix is symmetric; the reference takes the real
part of `eig`, equal to rounding); the image is a seeded draw from the shipped CIFAR-10 sample,
normalised, not their loader's first shuffled image. The module tree is the harness's NB201
network: the modules are the same operations, but container nesting differs from the
`nasbench2` model their script builds (a container whose output is its last layer's output
is counted once per nesting level in both), so the sum's multiplicities can differ.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy, resolve

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 1}


def min_correlation_eigenvalue(feature: torch.Tensor) -> float:
    """Smallest eigenvalue of the channel correlation matrix of one image's feature map
    (C, ...), NaN/inf entries set to 0 first."""
    rows = feature.reshape(feature.shape[0], -1).double()
    with warnings.catch_warnings():  # one value per row: torch warns, the result is NaN
        warnings.simplefilter("ignore", UserWarning)
        corr = torch.corrcoef(rows)
    corr = torch.where(torch.isfinite(corr), corr, torch.zeros_like(corr))
    return float(torch.linalg.eigvalsh(corr).min())


def module_eigenvalues(net: nn.Module, x: torch.Tensor) -> list[float]:
    """One value per module call, in call order."""
    values: list[float] = []

    def hook(module: nn.Module, inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor) and output.dim() >= 1:
            values.append(min_correlation_eigenvalue(output[0].detach()))

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    return values


def meco_score(values: list[float]) -> float:
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    return float(sum(finite))


def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    assert ctx.batch is not None
    values = module_eigenvalues(ctx.net, ctx.batch.x)
    return meco_score(values), {"modules": len(values)}


def meco_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("meco", resolve("meco", DEFAULTS, overrides), measure)
