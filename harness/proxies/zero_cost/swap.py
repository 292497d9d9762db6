"""SWAP-Score (Peng et al., ICLR 2024, "SWAP-NAS"; code github.com/pym1024/SWAP): the number
of distinct sample-wise activation patterns, times a parameter-count regulariser.

For every `nn.ReLU` with a 4-D input, each unit's pattern is the vector of sign(output) over
the batch's images (0 or 1 per image); SWAP counts the distinct patterns over all such units
(`torch.unique` over rows of the units x samples sign matrix in the authors' `calSWAP`). The
authors' `correlation.py` defaults: 16 input images, 32 repeats each after re-initialising
the network with N(0, 1) conv/linear weights and BN weight 1 / bias 0, train mode, no
gradients; the score is the mean over repeats.

Regularisation (`cal_regular_factor`): the count is multiplied by exp(-(P - mu)^2 / sigma),
P = parameter count in thousands (their `count_parameters`: / 1e3, 'auxiliary' excluded).
Their code leaves mu and sigma to the caller and the stored material does not give the
paper's values, so the harness picks them a priori from parameter counts only (never from
accuracies): mu = 1500 (thousand; about the largest NB201 network at C=16, N=5, 1531k) and
sigma = 1.5e6 (so a 0.7M-parameter cell keeps a factor of 0.65, the smallest, 73k, 0.26).
`regular=false` gives the plain count.

Counting: for up to 62 images each unit's pattern is packed into one integer (bit b =
image b) and distinct integers are counted (a 2^B table up to 20 images), which equals the
authors' row-unique count.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from harness.proxies.training import seeded, seeds
from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy, reinitialise, resolve

DEFAULTS: dict[str, Any] = {
    **COMMON,
    "batch_size": 16,
    "repeats": 32,
    "init": "gaussian",
    "regular": True,
    "mu": 1500.0,
    "sigma": 1.5e6,
}
PACK_LIMIT = 62  # images per pattern that fit in one int64
BITMAP_LIMIT = 20  # up to 2^20 possible patterns: count with a table instead of sorting


def relu_patterns(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Binary (B, units) patterns (output > 0, i.e. sign of a ReLU output) of every
    `nn.ReLU` whose input is 4-D, from one forward pass without gradients."""
    patterns: list[torch.Tensor] = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if inputs[0].dim() == 4:
            patterns.append(output.detach().reshape(len(x), -1) > 0)

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    return patterns


def count_unique_patterns(patterns: list[torch.Tensor]) -> int:
    """Distinct columns (units' patterns over the samples) across all layers."""
    if not patterns:
        return 0
    n = patterns[0].shape[0]
    if n > PACK_LIMIT:
        return int(torch.unique(torch.cat(patterns, dim=1).T, dim=0).shape[0])
    weights = torch.pow(2, torch.arange(n, dtype=torch.int64, device=patterns[0].device))
    if n <= BITMAP_LIMIT:
        # codes < 2^20 are exact in float32 (24-bit mantissa): one matrix-vector product per
        # layer packs them, twice as fast as the int64 multiply-and-sum, same integers
        wf = weights.to(torch.float32)
        codes = torch.cat([(wf @ p.to(torch.float32)).to(torch.int64) for p in patterns])
    else:
        codes = torch.cat([(p.to(torch.int64) * weights[:, None]).sum(0) for p in patterns])
    if n <= BITMAP_LIMIT:  # mark seen codes in a 2^n table: linear time, no sort
        seen = torch.zeros(2**n, dtype=torch.bool, device=codes.device)
        seen[codes] = True
        return int(seen.sum())
    return int(torch.unique(codes).numel())


def param_thousands(net: nn.Module) -> float:
    """The authors' `count_parameters`: parameters (names without 'auxiliary') / 1e3."""
    return sum(p.numel() for n, p in net.named_parameters() if "auxiliary" not in n) / 1e3


def regular_factor(params_k: float, mu: float, sigma: float) -> float:
    return math.exp(-((params_k - mu) ** 2) / sigma)


def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    assert ctx.batch is not None
    s = ctx.settings
    counts = [count_unique_patterns(relu_patterns(ctx.net, ctx.batch.x))]
    with seeded(seeds(ctx.init_seed, 1)[0], ctx.device):
        for _ in range(s["repeats"] - 1):
            reinitialise(ctx.net, s["init"])
            counts.append(count_unique_patterns(relu_patterns(ctx.net, ctx.batch.x)))
    mean = sum(counts) / len(counts)
    params_k = param_thousands(ctx.net)
    factor = regular_factor(params_k, s["mu"], s["sigma"]) if s["regular"] else 1.0
    return mean * factor, {"swap_count": mean, "regular_factor": factor, "params_k": params_k}


def swap_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("swap", resolve("swap", DEFAULTS, overrides), measure)
