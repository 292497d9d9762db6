"""Jacobian covariance (Mellor et al. 2020, v1 of "NAS without training"), as Abdelfattah et
al. (ICLR 2021, `foresight/pruners/measures/jacob_cov.py`) and NASLib compute it.

J is the gradient of the summed logits with respect to each input image (B rows); with C the
correlation matrix of those rows and lambda its eigenvalues, the score is
-sum(log(lambda + k) + 1 / (lambda + k)), k = 1e-5. Batch 64 (Abdelfattah's NB201 script),
PyTorch's default init, train mode. Eigenvalues come from `eigvalsh` (C is symmetric); the
reference uses `eig`, whose real parts agree to rounding. Mellor's v1 used eval mode, one
output class and batch 256; the harness follows Abdelfattah/NASLib.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy, resolve

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 64}
K = 1e-5


def input_jacobian(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    """d(sum of outputs)/d(input) per image, flattened to (B, pixels); zeros when the output
    does not depend on the input (a cell with no path from input to output)."""
    x = x.detach().clone().requires_grad_(True)
    y = net(x)
    if y.requires_grad:
        y.backward(torch.ones_like(y))
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    return grad.detach().reshape(len(x), -1).cpu().numpy()


def correlation_score(jacobian: np.ndarray, k: float = K) -> float:
    """-sum(log(v + k) + 1/(v + k)) over the eigenvalues v of corrcoef(rows); NaN when a row
    is constant (its correlation is undefined)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(jacobian)
    if not np.all(np.isfinite(corr)):
        return float("nan")
    v = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def measure(ctx: Context) -> float:
    assert ctx.batch is not None
    return correlation_score(input_jacobian(ctx.net, ctx.batch.x))


def jacov_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("jacov", resolve("jacov", DEFAULTS, overrides), measure)
