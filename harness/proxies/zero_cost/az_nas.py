"""AZ-NAS (Lee & Ham, CVPR 2024, "AZ-NAS: Assembling Zero-Cost Proxies for Network
Architecture Search"; code github.com/cvlab-yonsei/AZ-NAS, read here through the copy in
ondratybl/VKDNW `NB201/ZeroShotProxy/compute_az_nas_score.py`, which says it is modified from it).

Four components of the untrained network, all maximised:

- **expressivity**: for each feature map F (the stem's output and every cell's output, their
  `extract_cell_features`), reshaped to (B*H*W, C) and centred, the eigenvalues s of
  F^T F / (B*H*W) give p = s / sum(s) and the entropy sum(-p log(p + 1e-8)); expressivity
  is the sum of the entropies over feature maps;
- **progressivity**: the smallest increase of that entropy from one feature map to the next;
- **trainability**: for each consecutive pair (F_in, F_out), from the last backwards, a
  Rademacher g_out is back-propagated to g_in = dF_out/dF_in^T g_out (spatially reduced
  maps are pixel-unshuffled to F_out's size); with M = g_in^T g_out / (B*H*W) and sigma its
  largest singular value, the pair scores -sigma - 1/(sigma + 1e-6) + 2 (-inf when g_in is
  g_out, an identity cell); trainability is the mean over pairs;
- **complexity**: the network's FLOPs (their NB201 evaluation reads the table's FLOPs; the
  harness counts the same conv + linear multiply-adds, `flops`, equal to the table's column).

Their settings: Kaiming-normal fan-in init, train-mode BN, a Gaussian input batch of 64 at
32x32 (their NB201 evaluation, `trainloader=None`), float32. A NaN component becomes -inf.

**Aggregation.** AZ-NAS ranks every component over the evaluated population and sums
log(rank / n) over the four (their NB201 notebook over all 15,625 cells; their evolutionary
search re-ranks the whole population after every new candidate). A per-trial score cannot be
ranked within a population the strategy has not seen yet, so the harness does this:

- every evaluation records the four components (`extra`, readouts `az-nas:<component>`);
  `harness study nb201` and `harness study darts` aggregate them over the studied cells as
  published (`population_log_rank`), which is what the published correlation measures;
- the score handed to a search strategy ranks each component of the cell within a fixed
  **reference population**: `reference` (default 100) cells drawn uniformly from the space's
  isomorphism classes with seed 0, scored once per process with proxy seed 0, no ground
  truth: score = sum_k log(rank_k / (R + 1)), rank_k = the cell's average rank among the R
  reference values and its own. This is the published aggregate for a population of R + 1
  (the reference and the cell), stationary, so TPE and REA see one fixed ordering (both use
  only the order of scores). The reference's cost is added to the wall time of the
  evaluation that first needed it (`reference_s` in `extra`).

**The DARTS space** (not in their code, which covers NB201, MobileNetV2 and AutoFormer): the
feature maps are the stem's output and every cell's output (`DartsNetwork.cell_outputs`). A
DARTS cell reads the outputs of the two cells before it; a pair's Jacobian is the one of
the cell's output with respect to the cell just before it (its `s1` input), the other input
held fixed, which is what autograd gives between consecutive outputs of the chain. The first
cell reads the stem twice, so its pair counts both paths. This reading is the harness's.
At the NB301 scale the stem maps 27 input values per pixel (3x3x3) to 96 channels, so its
covariance has rank <= 27 and float32 gives it eigenvalues just below zero: with their formula
every DARTS cell's expressivity and progressivity are NaN, hence -inf (measured on two cells:
the stem's covariance had 37 and 35 negative eigenvalues, 2 and 1 of them below -1e-8 of the
sum, where log(p + 1e-8) is NaN; every cell's own map was finite; the stem's entropy alone was
NaN for 20 of 20 init and input seeds). The setting
`clip_eigenvalues` (default false, their code) zeros those eigenvalues first; the DARTS
study sets it. It changes nothing where all eigenvalues are >= 0.

Differences from their code: the Rademacher signs and the Gaussian input come from seeded
generators; a cell whose output is a constant zero (all `none` into the output node) is not
in the autograd graph in the harness's network, so its output is re-entered as a leaf
(gradient zero through it, as their x * 0 gives) and the next cell's Jacobian is taken at it.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from harness.proxies.base import Direction, Evaluation
from harness.proxies.training import (
    device_label,
    pinned_threads,
    resolve_device,
    seeded,
    seeds,
)
from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy
from harness.proxies.zero_cost.flops import count_macs
from harness.proxies.zero_cost.frontier import (
    default_init_network,
    gaussian_input,
    kaiming_fanin_init,
    resolve_frontier,
)
from harness.proxies.zero_cost.params import meta_network

DEFAULTS: dict[str, Any] = {
    **{k: v for k, v in COMMON.items() if k not in ("data", "init")},
    "batch_size": 64,
    "image_size": 32,
    "reference": 100,
    "clip_eigenvalues": False,
}
COMPONENTS = ("expressivity", "progressivity", "trainability", "complexity")
REFERENCE_SEED = 0


# -- the components -------------------------------------------------------------------------
def graph_features(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Stem and cell outputs, each one in the autograd graph (a constant output re-entered
    as a leaf that requires grad, so the next cell's Jacobian can be taken at it); a network
    whose cells take more than one input gives its chain itself (`cell_outputs`)."""
    chain = getattr(net, "cell_outputs", None)
    if callable(chain):
        return list(chain(x))
    feats = [net.stem(x)]  # type: ignore[operator]
    for cell in net.cells:  # type: ignore[union-attr]
        out = cell(feats[-1])
        feats.append(out if out.requires_grad else out.detach().requires_grad_(True))
    return feats


def spectral_entropy(feat: torch.Tensor, clip: bool = False) -> float:
    """Entropy of the normalised eigenvalues of the channel covariance of one feature map;
    `clip` zeros the negative ones (float32 rounding where the map's rank is below its
    channel count), which their code leaves to give NaN."""
    b, c, h, w = feat.shape
    flat = feat.detach().permute(0, 2, 3, 1).reshape(b * h * w, c)
    flat = flat - flat.mean(dim=0, keepdim=True)
    s = torch.linalg.eigvalsh(flat.T @ flat / flat.shape[0])
    s = s.clamp_min(0.0) if clip else s
    p = s / s.sum()
    return float((-p * torch.log(p + 1e-8)).sum())


def expressivity_progressivity(
    feats: list[torch.Tensor], clip: bool = False
) -> tuple[float, float]:
    scores = np.array([spectral_entropy(f, clip) for f in feats])
    return float(np.sum(scores)), float(np.min(scores[1:] - scores[:-1]))


def pair_trainability(f_in: torch.Tensor, f_out: torch.Tensor, gen: torch.Generator) -> float:
    g_out = (torch.bernoulli(torch.full_like(f_out, 0.5), generator=gen) - 0.5) * 2
    g_in = None
    if f_out.grad_fn is not None:
        g_in = torch.autograd.grad(f_out, f_in, g_out, retain_graph=False, allow_unused=True)[0]
    g_in = torch.zeros_like(f_in) if g_in is None else g_in
    if g_in.shape == g_out.shape and bool(torch.all(g_in == g_out)):
        return -math.inf
    if g_in.shape[2:] != g_out.shape[2:]:
        g_in = nn.functional.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
    bo, co, ho, wo = g_out.shape
    a = g_in.permute(0, 2, 3, 1).reshape(-1, g_in.shape[1])
    m = a.T @ g_out.permute(0, 2, 3, 1).reshape(-1, co) / (bo * ho * wo)
    sigma = float(torch.linalg.svdvals(m).max())
    return -sigma - 1.0 / (sigma + 1e-6) + 2.0


def trainability(feats: list[torch.Tensor], gen: torch.Generator) -> float:
    scores = [
        pair_trainability(feats[i - 1], feats[i], gen) for i in reversed(range(1, len(feats)))
    ]
    return float(np.mean(scores))


def finite_or_worst(value: float) -> float:
    """Their `float(v) if not np.isnan(v) else -np.inf`."""
    return -math.inf if math.isnan(value) else value


def components(ctx: Context, complexity: float) -> dict[str, float]:
    """The four components of the network in `ctx` (BN mode and scale already applied)."""
    s = ctx.settings
    input_seed, init_seed, sign_seed = seeds(ctx.init_seed, 3)
    with seeded(init_seed, ctx.device):
        kaiming_fanin_init(ctx.net)
    x = gaussian_input(s["batch_size"], s["image_size"], input_seed, ctx.device)
    feats = graph_features(ctx.net, x)
    expressivity, progressivity = expressivity_progressivity(feats, s["clip_eigenvalues"])
    gen = torch.Generator(device=ctx.device).manual_seed(sign_seed)
    values = {
        "expressivity": expressivity,
        "progressivity": progressivity,
        "trainability": trainability(feats, gen),
        "complexity": complexity,
    }
    return {k: finite_or_worst(v) for k, v in values.items()}


# -- aggregation ----------------------------------------------------------------------------
def population_log_rank(values: dict[str, np.ndarray]) -> np.ndarray:
    """AZ-NAS's aggregate over a population: sum over components of log(rank / n), ranks
    averaged over ties (scipy `rankdata`), as their notebook and search code compute it."""
    from scipy import stats

    total: np.ndarray | None = None
    for column in values.values():
        part = np.log(stats.rankdata(column) / len(column))
        total = part if total is None else total + part
    assert total is not None
    return total


def reference_log_rank(cell: dict[str, float], reference: list[dict[str, float]]) -> float:
    """The cell's population log-rank within the reference population plus itself."""
    n = len(reference) + 1
    total = 0.0
    for key, value in cell.items():
        ref = np.array([r[key] for r in reference])
        rank = 1.0 + np.sum(ref < value) + 0.5 * np.sum(ref == value)
        total += math.log(rank / n)
    return total


# -- the proxy ------------------------------------------------------------------------------
def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    """The components alone (complexity counted on the network itself); the score needs the
    reference population, so `AzNasProxy.evaluate` does not call this and it returns NaN."""
    size = ctx.settings["image_size"]
    macs = count_macs(ctx.net, (1, 3, size, size))
    return math.nan, components(ctx, macs / 1e6)


@dataclass
class AzNasProxy(ZeroCostProxy):
    """AZ-NAS's four components per cell; the score ranks them within a fixed reference."""

    readout_directions: ClassVar[dict[str, Direction]] = {c: "maximize" for c in COMPONENTS}
    _references: ClassVar[dict[str, list[dict[str, float]]]] = {}

    def cell_components(self, arch: Any, benchmark: Any, seed: int) -> dict[str, float]:
        s = self.config
        device = resolve_device(s["device"])
        init_seed = seeds(seed, 2)[0]
        net = self.build(arch, benchmark, s, init_seed, device)
        shape = (1, 3, s["image_size"], s["image_size"])
        complexity = count_macs(meta_network(arch, benchmark, s), shape) / 1e6
        return components(Context(net, None, s, device, init_seed), complexity)

    def reference_population(self, benchmark: Any) -> tuple[list[dict[str, float]], float]:
        """Components of the reference cells (cached per process); seconds spent now."""
        key = json.dumps([benchmark.name, benchmark.n_classes, self.config], sort_keys=True)
        if key in self._references:
            return self._references[key], 0.0
        start = time.perf_counter()
        from harness.spaces import SPACES

        space = SPACES.get(benchmark.space)
        cells = space.sample_unique(self.config["reference"], np.random.default_rng(REFERENCE_SEED))
        ref = [self.cell_components(c, benchmark, REFERENCE_SEED) for c in cells]
        self._references[key] = ref
        return ref, time.perf_counter() - start

    @pinned_threads
    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation:
        start = time.perf_counter()
        values = self.cell_components(arch, benchmark, seed)
        own = time.perf_counter() - start
        reference, ref_s = self.reference_population(benchmark)
        score = reference_log_rank(values, reference)
        extra: dict[str, Any] = {**values, "reference_s": ref_s}
        device = device_label(resolve_device(self.config["device"]))
        return self._result(score, extra, own + ref_s, 0, device)


def az_nas_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve_frontier("az-nas", DEFAULTS, overrides)
    return AzNasProxy("az-nas", settings, measure, needs="none", build=default_init_network)
