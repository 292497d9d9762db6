"""Dextr recomputed by hand: the inverse condition numbers of every module call (numpy SVD of
outputs computed layer by layer here), the curvature's derivatives by finite differences in
float64, kappa and the combination from the paper's formulas; and the proxy's contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.proxies.training import seeds
from harness.proxies.zero_cost import dextr
from harness.proxies.zero_cost.common import seeded_batch
from harness.spaces import SPACES
from harness.spaces.layers import AvgPool2d

BENCH = "nb201-cifar10"
SMALL = {"scale": {"C": 4, "N": 1}, "curve_size": 16}


class Tiny(nn.Module):
    """stem -> two cells (the second pools and halves the resolution) -> pool -> linear."""

    def __init__(self, pool: type[nn.AvgPool2d] = nn.AvgPool2d, classes: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4))
        self.cells = nn.Sequential(
            nn.Sequential(nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)),
            nn.Sequential(
                pool(3, stride=1, padding=1, count_include_pad=False),
                nn.Conv2d(4, 8, 3, stride=2, padding=1),
                nn.BatchNorm2d(8),
                nn.ReLU(),
            ),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.cells(self.stem(x))).flatten(1))


def tiny(seed: int = 0, **kw: object) -> Tiny:
    torch.manual_seed(seed)
    return Tiny(**kw)  # type: ignore[arg-type]


def images(n: int, seed: int = 1, size: int = 6) -> torch.Tensor:
    return torch.randn((n, 3, size, size), generator=torch.Generator().manual_seed(seed))


def ratio_by_hand(out: torch.Tensor) -> float:
    """Their hook: output[0] reshaped to (rows, -1), s_min / s_max, NaN -> 0 (numpy SVD)."""
    fea = out[0].detach().double().numpy()
    s = np.linalg.svd(fea.reshape(fea.shape[0], -1), compute_uv=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = s.min() / s.max()
    return float(r) if np.isfinite(r) else 0.0


def module_outputs_by_hand(net: Tiny, x: torch.Tensor) -> list[torch.Tensor]:
    """Every module call's output, layer by layer, containers repeating their last child's."""
    outs = []
    with torch.no_grad():
        h = x
        for m in net.stem:
            h = m(h)
            outs.append(h)
        outs.append(h)  # the stem Sequential
        for cell in net.cells:
            assert isinstance(cell, nn.Sequential)
            for m in cell:
                h = m(h)
                outs.append(h)
            outs.append(h)  # the cell
        outs.append(h)  # the cells Sequential
        pooled = net.pool(h)
        logits = net.classifier(pooled.flatten(1))
        outs += [pooled, logits, logits]  # pool, classifier, the network
    return outs


def test_svd_term_by_hand() -> None:
    net = tiny().train()
    x = images(1)
    outs = module_outputs_by_hand(net, x)
    by_hand = [ratio_by_hand(o) for o in outs]
    values = dextr.module_ratios(net, x)
    assert values == pytest.approx(by_hand, rel=1e-4, abs=1e-6)
    # the pooled vector and the logits are (rows, 1) matrices: one singular value, ratio 1
    assert values[-3:] == [1.0, 1.0, 1.0]
    assert dextr.svd_term(values) == pytest.approx(math.log(1 + sum(by_hand)), rel=1e-5)


def test_zero_output_adds_zero() -> None:
    """An all-zero output (their `Zero` op): 0/0 is NaN, counted as 0."""
    assert dextr.inverse_condition(torch.zeros(4, 5, 5)) == 0.0
    assert dextr.inverse_condition(torch.ones(3)) == 1.0


def test_hook_reads_the_first_image_of_a_batch() -> None:
    net = tiny().train()
    x = images(3)
    first = [ratio_by_hand(o) for o in module_outputs_by_hand(net, x)]
    assert dextr.module_ratios(net, x) == pytest.approx(first, rel=1e-4, abs=1e-6)


def curve_by_hand(net: nn.Module, u: torch.Tensor, size: int, coords: list[int], h: float):
    """v and a at theta = 0 by central finite differences (float64)."""

    def g(t: float) -> np.ndarray:
        c = u[:, 0] * math.cos(t) + u[:, 1] * math.sin(t)
        with torch.no_grad():
            return net(c.reshape(1, 3, size, size))[0, coords].numpy()

    v = (g(h) - g(-h)) / (2 * h)
    a = (g(h) - 2 * g(0.0) + g(-h)) / h**2
    return v, a


def kappa_by_hand(v: np.ndarray, a: np.ndarray) -> float:
    """The paper's extrinsic curvature: sqrt(|v|^2 |a|^2 - (v.a)^2) / |v|^3."""
    return math.sqrt(v @ v * (a @ a) - (v @ a) ** 2) / (v @ v) ** 1.5


@pytest.mark.parametrize("pool", [nn.AvgPool2d, AvgPool2d])
def test_curvature_derivatives_by_finite_differences(pool: type[nn.AvgPool2d]) -> None:
    """Reverse mode twice (their method) against finite differences, float64; with the
    spaces' own average pool too (its backward is once-differentiable: swapped out)."""
    net = tiny(pool=pool, classes=5).double().train()
    u = dextr.curve_basis(6, 3, torch.device("cpu")).double()
    rng = np.random.default_rng(0)
    v, a, coords = dextr.curve_derivatives(net, u, 6, 10, rng)
    assert coords == [int(c) for c in np.random.default_rng(0).integers(0, 5, 10)]
    v_fd, a_fd = curve_by_hand(net, u, 6, coords, 1e-4)
    assert v.numpy() == pytest.approx(v_fd, rel=1e-6, abs=1e-9)
    assert a.numpy() == pytest.approx(a_fd, rel=1e-4, abs=1e-7)
    assert dextr.extrinsic_curvature(v, a) == pytest.approx(kappa_by_hand(v_fd, a_fd), rel=1e-4)
    assert isinstance(net.cells[1][0], AvgPool2d) == (pool is AvgPool2d)
    assert "forward" not in vars(net.cells[1][0])  # the pool's own forward is back


def test_curve_basis_is_orthonormal() -> None:
    u = dextr.curve_basis(8, 5, torch.device("cpu"))
    assert u.shape == (3 * 8 * 8, 2)
    assert (u.T @ u).numpy() == pytest.approx(np.eye(2), abs=1e-5)


def test_combination_and_its_fallbacks() -> None:
    svd, kappa = 2.0, 30.0
    c = math.log(1 + kappa)
    assert dextr.combine(svd, kappa) == pytest.approx(svd * c / (svd + c), rel=1e-12)
    assert dextr.combine(svd, math.nan) == svd  # their "CURVATURE IS NAN": svd alone
    assert dextr.combine(svd, math.inf) == svd  # the combination is NaN: svd alone
    assert dextr.combine(0.0, 0.0) == 0.0
    zero = torch.zeros(3)
    assert math.isnan(dextr.extrinsic_curvature(zero, torch.ones(3)))


def test_score_by_hand_on_a_tiny_network() -> None:
    """The whole score: seeded image, init, curve and coordinates recomputed here."""
    bench = BENCHMARKS.get(BENCH)

    def build(arch, benchmark, s, init_seed, device):
        return tiny(init_seed, classes=4).train()

    settings = dextr.resolve_dextr({"curve_size": 6})
    proxy = dextr.DextrProxy("dextr", settings, dextr.measure, build=build)
    ev = proxy.evaluate(None, bench, 7)
    init_seed, batch_seed = seeds(7, 2)
    x = seeded_batch("sample", 1, batch_seed, torch.device("cpu"), labels=False).x
    net = tiny(init_seed, classes=4).train()
    svd = math.log(1 + sum(ratio_by_hand(o) for o in module_outputs_by_hand(net, x)))
    curve_seed, coord_seed = seeds(init_seed, 2)
    u = dextr.curve_basis(6, curve_seed, torch.device("cpu")).double()
    coords = [int(c) for c in np.random.default_rng(coord_seed).integers(0, 4, 10)]
    v, a = curve_by_hand(net.double(), u, 6, coords, 1e-4)
    c = math.log(1 + kappa_by_hand(v, a))
    assert ev.extra["svd"] == pytest.approx(svd, rel=1e-5)
    assert ev.extra["curvature"] == pytest.approx(c, rel=1e-3)
    assert ev.score == pytest.approx(svd * c / (svd + c), rel=1e-3)
    assert ev.labels_used == 0 and ev.direction == "maximize"


def nb201(text: str) -> object:
    return SPACES.get("nb201").parse(text)


def test_labels_used_zero_and_determinism() -> None:
    bench = BENCHMARKS.get(BENCH)
    cell = nb201(
        "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|"
    )
    proxy = dextr.dextr_factory(**SMALL)
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    first = proxy.evaluate(cell, bench, 3)
    assert torch.equal(state, torch.get_rng_state())  # the caller's RNG untouched
    assert np.array_equal(np_state, np.random.get_state()[1])
    again = dextr.dextr_factory(**SMALL).evaluate(cell, bench, 3)
    other = proxy.evaluate(cell, bench, 4)
    assert first.status == "ok" and math.isfinite(first.score)
    assert first.labels_used == 0 and first.extra["data_source"]
    assert (again.score, again.extra) == (first.score, first.extra)
    assert other.score != first.score
    assert set(dextr.DextrProxy.readout_directions) <= set(first.extra)


def test_all_none_cell_scores_svd_alone() -> None:
    """A constant output: no curvature (their autograd fails; their script keeps svd)."""
    bench = BENCHMARKS.get(BENCH)
    cell = nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    ev = dextr.dextr_factory(**SMALL).evaluate(cell, bench, 0)
    assert ev.status == "ok" and ev.extra["curvature"] is None
    assert ev.score == ev.extra["svd"]


def test_darts_space() -> None:
    bench = BENCHMARKS.get("darts-cifar10")
    genotype = SPACES.get("darts").sample_unique(1, np.random.default_rng(2))[0]
    proxy = dextr.dextr_factory(scale={"C": 4, "layers": 2}, curve_size=16)
    ev = proxy.evaluate(genotype, bench, 0)
    assert ev.status == "ok" and math.isfinite(ev.score) and ev.labels_used == 0
    assert ev.extra["curvature"] is not None and ev.extra["svd"] > 0
    assert ev.score == proxy.evaluate(genotype, bench, 0).score


def test_settings() -> None:
    s = dextr.dextr_factory().settings()
    assert (s["batch_size"], s["curve_size"], s["coordinates"], s["init"], s["bn"]) == (
        1, 64, 10, "default", "train",
    )  # fmt: skip
    assert dextr.dextr_factory(**s).settings() == s
    with pytest.raises(HarnessError, match="unknown setting"):
        dextr.dextr_factory(curve=3)
    with pytest.raises(HarnessError, match="curve_size"):
        dextr.dextr_factory(curve_size=0)
    with pytest.raises(HarnessError, match="batch_size"):
        dextr.dextr_factory(batch_size=0)
