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
authors' row-unique count. The passes count as they run (`distinct_patterns`): a tensor that
several ReLUs read is packed once, since its patterns cannot add distinct ones twice.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from harness.proxies.training import seeded, seeds
from harness.proxies.zero_cost.common import (
    COMMON,
    Context,
    ZeroCostProxy,
    reinitialiser,
    resolve,
)

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


class PatternSet:
    """The distinct patterns of the `nn.ReLU`s with 4-D input that one forward pass runs,
    gathered as it runs: equal to `count_unique_patterns(relu_patterns(net, x))`, faster.

    A unit's pattern is `input > 0` (the same bits as `output > 0`: ReLU keeps the positive
    inputs and maps the rest, NaN included, to values that are not > 0). ReLUs fed the same
    tensor (NB201's edges leaving one node) add the same patterns, which cannot change the
    count of distinct ones, so each tensor is read once (unless changed in place since, its
    `_version`). Up to `BITMAP_LIMIT` images each layer's patterns are packed as soon as
    they are seen (the comparison written straight into float32, one matrix-vector product)
    and marked in the 2^B table; beyond it the patterns are kept for `count_unique_patterns`.
    """

    def __init__(self, n: int, device: torch.device) -> None:
        self.n = n
        self.read: dict[tuple[int, int], weakref.ref[torch.Tensor]] = {}
        self.kept: list[torch.Tensor] = []
        self.seen: torch.Tensor | None = None
        if n <= BITMAP_LIMIT:
            self.seen = torch.zeros(2**n, dtype=torch.bool, device=device)
            self.weights = torch.pow(2, torch.arange(n, device=device)).to(torch.float32)

    def add(self, tensor: torch.Tensor) -> None:
        key = (id(tensor), tensor._version)
        known = self.read.get(key)
        if known is not None and known() is tensor:
            return
        self.read[key] = weakref.ref(tensor)  # not held: the pass frees it as it would
        units = tensor.reshape(self.n, -1)
        if self.seen is None:
            self.kept.append(units > 0)
            return
        positive = torch.empty(units.shape, dtype=torch.float32, device=units.device)
        torch.gt(units, 0, out=positive)
        self.seen[(self.weights @ positive).to(torch.int64)] = True

    def count(self) -> int:
        if self.seen is None:
            return count_unique_patterns(self.kept)
        return int(self.seen.sum()) if self.read else 0


def distinct_patterns(net: nn.Module, x: torch.Tensor, passes: Iterator[None]) -> list[int]:
    """The number of distinct patterns (`PatternSet`) of one forward pass without gradients
    per item `passes` yields (SWAP's repeats re-initialise the network before each item);
    the hooks stay on for all passes."""
    current: list[PatternSet] = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if inputs[0].dim() == 4:
            current[-1].add(inputs[0])

    counts = []
    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            for _ in passes:
                current.append(PatternSet(len(x), x.device))
                net(x)
                counts.append(current.pop().count())
    finally:
        for h in handles:
            h.remove()
        close = getattr(passes, "close", None)
        if close is not None:
            close()  # a generator's own `finally` (the seeded RNG restored) runs now
    return counts


def param_thousands(net: nn.Module) -> float:
    """The authors' `count_parameters`: parameters (names without 'auxiliary') / 1e3."""
    return sum(p.numel() for n, p in net.named_parameters() if "auxiliary" not in n) / 1e3


def regular_factor(params_k: float, mu: float, sigma: float) -> float:
    return math.exp(-((params_k - mu) ** 2) / sigma)


def _repeats(ctx: Context) -> Iterator[None]:
    """The network as built, then `repeats - 1` times re-initialised on the init seed's
    child stream (as the authors' loop)."""
    s = ctx.settings
    yield
    reinit = reinitialiser(ctx.net, s["init"])
    with seeded(seeds(ctx.init_seed, 1)[0], ctx.device):
        for _ in range(s["repeats"] - 1):
            reinit()
            yield


def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    assert ctx.batch is not None
    s = ctx.settings
    counts = distinct_patterns(ctx.net, ctx.batch.x, _repeats(ctx))
    mean = sum(counts) / len(counts)
    params_k = param_thousands(ctx.net)
    factor = regular_factor(params_k, s["mu"], s["sigma"]) if s["regular"] else 1.0
    return mean * factor, {"swap_count": mean, "regular_factor": factor, "params_k": params_k}


def swap_factory(**overrides: Any) -> ZeroCostProxy:
    return ZeroCostProxy("swap", resolve("swap", DEFAULTS, overrides), measure)
