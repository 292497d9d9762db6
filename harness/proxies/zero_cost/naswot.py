"""NASWOT (Mellor et al., ICML 2021, "Neural architecture search without training"):
log|K_H| of the kernel of binary ReLU activation codes over one batch.

For each ReLU, every image's code is the indicator of which of the ReLU's inputs are positive;
K[i, j] sums, over all ReLUs, the number of units where images i and j agree (the unit count
minus the Hamming distance of their codes): x x^T + (1 - x)(1 - x)^T per layer, as in the
authors' `score_networks.py` (and NASLib's `nwot`). The score is the log-determinant of K.
Following the authors: batch 128, PyTorch's default init, train mode (batch statistics), every
module whose type name contains 'ReLU'. NASLib's NB201 numbers used its own loader's batch
(32), its graph (BN affine=False) and one forward; the harness follows the authors' batch.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import torch
from torch import nn

from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy, resolve

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 128}


def is_relu(module: nn.Module) -> bool:
    """The authors' test: 'ReLU' in the module's type (ReLU, ReLU6, LeakyReLU ...)."""
    return "ReLU" in type(module).__name__


def agreement_kernel(codes: torch.Tensor) -> torch.Tensor:
    """x x^T + (1 - x)(1 - x)^T for binary codes x (B, units), as one product of +-1 codes:
    with s = 2x - 1, s s^T = 2 (x x^T + (1-x)(1-x)^T) - units."""
    s = codes.to(torch.float32) * 2.0 - 1.0
    return (s @ s.T + codes.shape[1]) / 2.0


#: below 2^24 units every entry of the float32 `agreement_kernel`, and each sum on the way to
#: it, is an integer float32 holds exactly, so the int8 product gives the same numbers
EXACT_UNITS = 2**24


def agreement_part(codes: torch.Tensor) -> torch.Tensor:
    """`agreement_kernel(codes)` in float64, the same numbers, about 7x faster on a CPU: the
    +-1 codes as int8 multiplied with integer accumulation (`torch._int_mm`, int32, exact);
    the float path where that product is unavailable or the float one is not exact."""
    units = codes.shape[1]
    if codes.device.type == "cpu" and units < EXACT_UNITS:
        s = codes.view(torch.int8).mul(2).sub_(1)
        try:
            return (torch._int_mm(s, s.T).to(torch.float64) + units) / 2.0
        except (RuntimeError, AttributeError):  # a torch without the CPU int8 product
            pass
    return agreement_kernel(codes).double()


def activation_kernel(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    """K summed over every ReLU of one forward pass (float64; each layer's part is exact).

    Modules that see the same input tensor (in NB201 the edges leaving one node, and each
    ReLUConvBN with the ReLU inside it, both matched by the authors' test) add the same part:
    it is computed once per tensor and added again, the same sum in the same order. A tensor
    is known by its `id` and `_version` (a tensor changed in place is computed afresh) and a
    weak reference, which tells a later tensor that took a freed one's `id` from it without
    keeping every activation of the pass alive (that cost more than the parts it saved)."""
    k = np.zeros((len(x), len(x)), dtype=np.float64)
    parts: dict[tuple[int, int], tuple[weakref.ref[torch.Tensor], np.ndarray]] = {}

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        tensor = inputs[0]
        key = (id(tensor), tensor._version)
        seen = parts.get(key)
        if seen is None or seen[0]() is not tensor:
            codes = tensor.reshape(len(x), -1) > 0
            seen = (weakref.ref(tensor), agreement_part(codes).cpu().numpy())
            parts[key] = seen
        k[...] += seen[1]

    handles = [m.register_forward_hook(hook) for m in net.modules() if is_relu(m)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
        parts.clear()
    return k


def logdet(k: np.ndarray) -> float:
    """The authors' `hooklogdet`: log|det K| from slogdet (-inf when K is singular)."""
    _, value = np.linalg.slogdet(k)
    return float(value)


def measure(ctx: Context) -> float:
    assert ctx.batch is not None
    return logdet(activation_kernel(ctx.net, ctx.batch.x))


def naswot_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("naswot", resolve("naswot", DEFAULTS, overrides), measure)
