"""Dextr (Asthana, Conrad, Ortmanns & Belagiannis, TMLR 2025, "Dextr: Zero-Shot Neural
Architecture Search with Singular Value Decomposition and Extrinsic Curvature"; code
github.com/rohanasthana/Dextr, its NB201 script `NASBench201/correlation/NAS_Bench_201.py`
`get_score`, and `no_free_lunch_architectures/length.py` `get_extrinsic_curvature`).

Label-free, from one unlabelled image. Two terms of the untrained network:

- **svd**: a forward hook on every module (`named_modules`, the network itself included)
  takes the module's output for the first image of the batch, reshapes it to (rows, -1)
  with rows its first dimension (channels of a feature map, units of a vector), and keeps
  its inverse condition number s_min / s_max (`svdvals`, float32; NaN or inf, as for an
  all-zero output, becomes 0); svd = log(1 + sum over module calls).
- **curvature**: the extrinsic curvature of the network output along a circle in input
  space. c(theta) = U[:, 0] cos(theta) + U[:, 1] sin(theta), U the left singular vectors of
  a Gaussian (3 * S * S, 2) matrix, reshaped to one (1, 3, S, S) image; their NB201 script
  evaluates it at the single point theta = 0 (`size_curve=(1, 3, 64, 64)`: one point,
  64x64). Ten output coordinates are drawn uniformly with replacement; v and a are the first
  and second derivatives of those coordinates with respect to theta (reverse-mode autograd
  twice, as theirs); kappa = sqrt(|v|^2 |a|^2 - (v.a)^2) / |v|^3 (float32); curvature =
  log(1 + kappa).
- **score** = svd * curvature / (svd + curvature) (their "simplified harmonic mean"); where
  curvature or the score is NaN or inf, the score is svd alone, as their code returns.

Their NB201 settings, the defaults here: batch 1 (`--batch_size 1`), PyTorch's default init
(`--init_w_type none`), the network in train mode (BN normalises with the image's own
statistics; their curvature pass forces train mode, here it runs in the `bn` setting's
mode, train by default), the curve at
64x64 whatever the dataset's resolution, 10 coordinates. Higher is better.

Differences from their code:

- **Randomness**: the image, the init, the curve's Gaussian matrix and the coordinates come
  from seeded streams (their script seeds torch once, so a cell's init and curve depend on its
  position in the loop, and draws the coordinates from numpy's unseeded global RNG). The
  image is a seeded draw from the shipped CIFAR-10 sample, normalised with its mean/std, not
  augmented (theirs: the first image of a shuffled loader with random crop and flip); for
  CIFAR-100 and ImageNet16-120 the harness has only CIFAR-10 images, so the image is a
  CIFAR-10 one (theirs: one of the dataset's own), the network has the dataset's classes.
- **The module tree**: the harness's networks, not the `nasbench2` model their script builds.
  The operations are the same, but each hooked module adds its own term, so nesting changes
  the sum's multiplicities. In their model a conv edge's `ReLUConvBN` wraps a `Sequential`
  (its BN output counted 3 times, here 2), a pool edge wraps `nn.AvgPool2d` in `POOLING`
  (2 times, here 1), the stem wraps a `Sequential` (3 times, here 2), each of the three
  stages is a `Sequential` (its last cell counted twice; here one `Sequential` over all
  cells), `top` adds one more pooled vector (a term of 1); `none` edges run a `Zero` module
  (a term of 0; here not run, no term). Their cell convs also carry a bias (BN affine=False
  there), which changes each conv output's inverse condition number (the BN after it removes
  it again); the harness's cells use the official affine BN and bias-free convs. The DARTS
  space's network is the harness's (their DARTS correlations came from NASLib's graph).
- **A constant output** (cells of only `none` edges): their autograd raises and their
  script falls back to svd alone; here v = a = 0, kappa is NaN, and the score is svd alone.
- **Distinct coordinates**: a coordinate drawn twice is differentiated once and its
  derivatives used twice (the same numbers).
- **Numerics**: in the curvature pass the spaces' average pools run torch's own kernel (the
  same forward numbers; the harness's faster pool backward is once-differentiable, and
  through it the second derivative silently lost the pool's term: measured on a small
  network against torch's pool and against finite differences); the log terms and their
  combination are in float64 (theirs float32). Forward-mode (jvp of jvp) would be cheaper
  but is not used: through train-mode BatchNorm it gave second derivatives that disagree
  with reverse mode and finite differences (measured, torch 2.13).

Their NASLib runs (NB101, NB301, TransNAS-Bench) differ from their NB201 script: batch 32
(the hook still reads the first image, normalised with the batch's statistics) and the curve
at the input's resolution: `--set batch_size=32 --set curve_size=32` reproduces those.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np
import torch
from torch import autograd, nn

from harness import HarnessError
from harness.proxies.base import Direction
from harness.proxies.training import seeds
from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy, resolve
from harness.spaces.layers import AvgPool2d

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 1, "curve_size": 64, "coordinates": 10}
#: settings of Dextr's own (the rest are the zero-cost proxies' common ones)
OWN = ("curve_size", "coordinates")


def resolve_dextr(overrides: dict[str, Any]) -> dict[str, Any]:
    """`common.resolve` plus Dextr's own integer settings (each >= 1)."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        known = ", ".join(sorted(DEFAULTS))
        raise HarnessError(f"unknown setting {unknown[0]!r} for proxy dextr (known: {known})")
    common = {k: v for k, v in DEFAULTS.items() if k not in OWN}
    settings = resolve("dextr", common, {k: v for k, v in overrides.items() if k not in OWN})
    for key in OWN:
        value = overrides.get(key, DEFAULTS[key])
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise HarnessError(f"setting {key}={value!r} for proxy dextr must be an integer >= 1")
        settings[key] = value
    return dict(sorted(settings.items()))


# -- the svd term ---------------------------------------------------------------------------
def inverse_condition(fea: torch.Tensor) -> float:
    """s_min / s_max of `fea` reshaped to (its first dimension, -1); NaN/inf -> 0."""
    fea = fea.detach()
    fea = fea.reshape(fea.shape[0], -1) if fea.dim() > 0 else fea.reshape(1, 1)
    s = torch.linalg.svdvals(fea)
    ratio = float(s.min() / s.max())
    return ratio if math.isfinite(ratio) else 0.0


def module_ratios(net: nn.Module, x: torch.Tensor) -> list[float]:
    """One inverse condition number per module call of one forward pass, in call order, of
    their hook's `data_output[0]`: the first image of a tensor output (of a tuple output,
    its first tensor).

    A container whose output is its last child's tensor (unchanged since) adds that child's
    value again, computed once."""
    values: list[float] = []
    last: list[Any] = [None, -1, 0.0]  # tensor, its version, its value

    def hook(module: nn.Module, inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            if output is last[0] and output._version == last[1]:
                values.append(last[2])
                return
            value = inverse_condition(output[0])
            last[:] = [output, output._version, value]
            values.append(value)
        elif isinstance(output, (tuple, list)) and isinstance(output[0], torch.Tensor):
            values.append(inverse_condition(output[0]))

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
        last[0] = None
    return values


def svd_term(ratios: list[float]) -> float:
    """log(1 + sum of the inverse condition numbers)."""
    return math.log1p(float(np.sum(ratios, dtype=np.float64)))


# -- the curvature term ---------------------------------------------------------------------
def curve_basis(size: int, seed: int, device: torch.device) -> torch.Tensor:
    """U (3 * size * size, 2): the left singular vectors of a seeded Gaussian matrix."""
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn((3 * size * size, 2), generator=gen)
    return torch.linalg.svd(g, full_matrices=False).U.to(device)


@contextmanager
def twice_differentiable(net: nn.Module) -> Iterator[None]:
    """The spaces' average pools on torch's own kernel while a pass is differentiated twice:
    their faster backward is once-differentiable, and through it a second derivative
    silently loses the pool's term. Restored after."""
    pools = [m for m in net.modules() if isinstance(m, AvgPool2d)]
    for m in pools:
        m.forward = partial(nn.AvgPool2d.forward, m)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for m in pools:
            del m.forward


def curve_derivatives(
    net: nn.Module, basis: torch.Tensor, size: int, n_coords: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """v, a: first and second derivatives at theta = 0, along the curve, of `n_coords`
    output coordinates drawn uniformly with replacement after the forward pass, by
    reverse-mode autograd twice (their `get_extrinsic_curvature`); and the coordinates."""
    theta = torch.zeros(1, dtype=basis.dtype, device=basis.device, requires_grad=True)
    circle = torch.stack([torch.cos(theta), torch.sin(theta)])
    curve = torch.matmul(basis, circle).T.reshape(1, 3, size, size)
    with twice_differentiable(net):
        out = net(curve)
        out = out.reshape(out.shape[0], -1)
        coords = [int(c) for c in rng.integers(0, out.shape[1], n_coords)]
        found: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        zero = torch.zeros_like(theta)
        for index in dict.fromkeys(coords):
            v, a = zero, zero
            if out.requires_grad:  # a constant output (all-`none` cells): v = a = 0
                (v,) = autograd.grad(
                    out[:, index].sum(), theta, create_graph=True, allow_unused=True
                )
                v = zero if v is None else v
            if v.requires_grad:
                (a,) = autograd.grad(v.sum(), theta, retain_graph=True, allow_unused=True)
                a = zero if a is None else a
            found[index] = (v.detach(), a.detach())
    v_s = torch.cat([found[i][0] for i in coords])
    a_s = torch.cat([found[i][1] for i in coords])
    return v_s, a_s, coords


def extrinsic_curvature(v: torch.Tensor, a: torch.Tensor) -> float:
    """|v|^-3 sqrt(|v|^2 |a|^2 - (v.a)^2), as their float32 expression (NaN where rounding
    makes the root's argument negative, NaN or inf where v = 0)."""
    vv, aa, va = torch.dot(v, v), torch.dot(a, a), torch.dot(v, a)
    return float(vv ** (-3 / 2) * (vv * aa - va**2).sqrt())


def combine(svd: float, kappa: float) -> float:
    """svd * c / (svd + c) with c = log(1 + kappa); svd alone where that is not finite."""
    if not math.isfinite(kappa):
        return svd
    curvature = math.log1p(kappa)
    with np.errstate(all="ignore"):
        score = float(np.float64(svd) * curvature / (svd + curvature))
    return score if math.isfinite(score) else svd


# -- the proxy ------------------------------------------------------------------------------
def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    assert ctx.batch is not None
    s = ctx.settings
    ratios = module_ratios(ctx.net, ctx.batch.x)
    svd = svd_term(ratios)
    curve_seed, coord_seed = seeds(ctx.init_seed, 2)
    basis = curve_basis(s["curve_size"], curve_seed, ctx.device)
    rng = np.random.default_rng(coord_seed)
    v, a, _ = curve_derivatives(ctx.net, basis, s["curve_size"], s["coordinates"], rng)
    kappa = extrinsic_curvature(v, a)
    score = combine(svd, kappa)
    curvature = math.log1p(kappa) if math.isfinite(kappa) else None
    return score, {"svd": svd, "curvature": curvature, "modules": len(ratios)}


@dataclass
class DextrProxy(ZeroCostProxy):
    """Dextr; its two terms are readouts (`dextr:svd`, `dextr:curvature`)."""

    readout_directions: ClassVar[dict[str, Direction]] = {
        "svd": "maximize",
        "curvature": "maximize",
    }


def dextr_factory(**overrides: Any) -> ZeroCostProxy:
    return DextrProxy("dextr", resolve_dextr(overrides), measure)
