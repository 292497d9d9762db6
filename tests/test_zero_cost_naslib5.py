"""The five NASLib zero-cost proxies the harness took over (epe-nas, fisher, grasp, l2-norm,
plain): each score against NASLib's formula computed by hand (numpy closed forms on linear
networks, or a different autograd route on small non-linear ones), labels counted, direction,
seeds, and the conformance kit."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from harness.benchmarks import BENCHMARKS
from harness.proxies import PROXIES, make_proxy
from harness.proxies.zero_cost import ZERO_COST
from harness.proxies.zero_cost.epe_nas import epe_score, jacobian_and_outputs
from harness.proxies.zero_cost.fisher import fisher_score
from harness.proxies.zero_cost.grasp import grasp_score, twice_differentiable
from harness.proxies.zero_cost.l2_norm import norm_sum
from harness.proxies.zero_cost.plain import signed_saliency
from harness.proxies.zero_cost.snip import loss_gradients
from harness.spaces import SPACES
from harness.testing import ProxyCase, ProxyConformance

REPO = Path(__file__).resolve().parents[1]
BENCH = BENCHMARKS.get("nb201-cifar10")
SPACE = SPACES.get(BENCH.space)
CELL = SPACE.parse(
    "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
)
NAMES = ("epe-nas", "fisher", "grasp", "l2-norm", "plain")
TINY = {"scale": {"C": 4, "N": 1}}
SMALL = {
    "epe-nas": {**TINY, "batch_size": 16},
    "fisher": {**TINY, "batch_size": 16},
    "grasp": {**TINY, "batch_size": 16},
    "l2-norm": TINY,
    "plain": {**TINY, "batch_size": 16},
}
LABELS = {"epe-nas": 16, "fisher": 16, "grasp": 16, "l2-norm": 0, "plain": 16}


def _linear(w: np.ndarray) -> nn.Linear:
    layer = nn.Linear(w.shape[1], w.shape[0], bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w, dtype=torch.float32))
    return layer


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture
def linear_case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4))
    x = rng.normal(size=(5, 4))
    y = np.array([0, 2, 1, 2, 0])
    return w, x, y


# -- each formula by hand --------------------------------------------------------------------
def test_plain_is_the_signed_sum_of_w_times_the_cross_entropy_gradient(linear_case) -> None:
    w, x, y = linear_case
    p = _softmax(x @ w.T)
    g = (p - np.eye(3)[y]).T @ x / len(x)  # dL/dW of the mean cross-entropy
    net = _linear(w)
    loss_gradients(net, torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    assert signed_saliency(net) == pytest.approx(float(np.sum(w * g)), rel=1e-5)
    assert np.sum(w * g) != pytest.approx(np.sum(np.abs(w * g)))  # signs matter (not SNIP)


def test_fisher_of_a_linear_layer_by_hand(linear_case) -> None:
    """NASLib: per output channel 0.5 * mean_n (a_nk dL/da_nk)^2, broadcast to the channel's
    in_features weights and summed."""
    w, x, y = linear_case
    z = x @ w.T
    grad = (_softmax(z) - np.eye(3)[y]) / len(x)
    per_channel = 0.5 * np.mean((z * grad) ** 2, axis=0)
    want = float(np.sum(np.abs(per_channel)) * w.shape[1])
    net = _linear(w)
    got = fisher_score(net, torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    assert got == pytest.approx(want, rel=1e-5)


def test_fisher_of_a_conv_net_sums_positions_and_weights_per_channel() -> None:
    """A conv layer's channel value is summed over positions and counted once per weight
    feeding the channel (in_channels * kernel area); activations and gradients here come from
    a functional forward pass and autograd.grad on its intermediates, not from hooks."""
    torch.manual_seed(0)
    conv, lin = nn.Conv2d(2, 3, 2, bias=False), nn.Linear(3 * 2 * 2, 4)
    net = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), lin)
    x, y = torch.randn(6, 2, 3, 3), torch.tensor([0, 1, 2, 3, 0, 1])
    a1 = F.conv2d(x, conv.weight)
    a2 = F.linear(F.relu(a1).flatten(1), lin.weight, lin.bias)
    g1, g2 = torch.autograd.grad(F.cross_entropy(a2, y), (a1, a2))
    a1, a2 = a1.detach(), a2.detach()
    f1 = 0.5 * ((a1 * g1).sum((2, 3)) ** 2).mean(0)
    f2 = 0.5 * ((a2 * g2) ** 2).mean(0)
    want = float(f1.abs().sum() * 2 * 2 * 2 + f2.abs().sum() * 12)  # fan-in per channel
    assert fisher_score(net, x, y) == pytest.approx(want, rel=1e-5)


def test_grasp_of_a_linear_layer_by_hand(linear_case) -> None:
    """-sum(W * Hg), with the softmax cross-entropy Hessian of a linear model in closed form:
    (Hg)_k. = mean_n [(diag p_n - p_n p_n^T) G x_n]_k x_n^T."""
    w, x, y = linear_case
    p = _softmax(x @ w.T)
    g = (p - np.eye(3)[y]).T @ x / len(x)
    hg = np.zeros_like(w)
    for pn, xn in zip(p, x):
        s = np.diag(pn) - np.outer(pn, pn)
        hg += np.outer(s @ (g @ xn), xn) / len(x)
    want = float(-np.sum(w * hg))
    got = grasp_score(_linear(w), torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    assert got == pytest.approx(want, rel=1e-4)


def test_grasp_of_a_two_layer_net_equals_a_hessian_vector_product() -> None:
    """The same quantity through torch.autograd.functional.hvp over the flattened weights."""
    torch.manual_seed(1)
    l1, l2 = nn.Linear(4, 5, bias=False), nn.Linear(5, 3, bias=False)
    net = nn.Sequential(l1, nn.Tanh(), l2)
    x, y = torch.randn(7, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0])
    shapes = [l1.weight.shape, l2.weight.shape]
    flat = torch.cat([l1.weight.detach().flatten(), l2.weight.detach().flatten()])

    def loss(v: torch.Tensor) -> torch.Tensor:
        a, b = v[:20].view(shapes[0]), v[20:].view(shapes[1])
        return F.cross_entropy(torch.tanh(x @ a.T) @ b.T, y)

    g = torch.func.grad(loss)(flat)
    _, hg = torch.autograd.functional.hvp(loss, flat, g)
    want = float(-(flat * hg).sum())
    assert grasp_score(net, x, y) == pytest.approx(want, rel=1e-4)


def test_grasp_differentiates_through_torchs_pooling() -> None:
    """The spaces' AvgPool2d has a once-differentiable backward; GraSP's score must equal the
    one of the same network with torch's pool (same forward numbers)."""
    from harness.spaces.layers import AvgPool2d

    def net(pool: nn.Module) -> nn.Module:
        torch.manual_seed(0)
        convs = [nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.Conv2d(4, 4, 3, padding=1)]
        return nn.Sequential(convs[0], nn.ReLU(), pool, convs[1], nn.Flatten(), nn.Linear(144, 3))

    x, y = torch.randn(8, 3, 6, 6), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    ours = twice_differentiable(net(AvgPool2d(3, 1, 1, count_include_pad=False)))
    torchs = net(nn.AvgPool2d(3, 1, 1, count_include_pad=False))
    assert grasp_score(ours, x, y) == pytest.approx(grasp_score(torchs, x, y), rel=1e-6)


def test_l2_norm_sums_the_frobenius_norms_of_conv_and_linear_weights() -> None:
    torch.manual_seed(2)
    net = SPACE.network(CELL, 10, C=4, N=1)
    weights = [
        m.weight.detach().numpy().astype(np.float64)
        for m in net.modules()
        if type(m) in (nn.Conv2d, nn.Linear)
    ]
    others = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert others  # BatchNorm weights exist and are not counted
    want = sum(math.sqrt(float(np.sum(w**2))) for w in weights)
    assert norm_sum(net) == pytest.approx(want, rel=1e-12)


def _naslib_epe(jacob: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """NASLib's eval_score_perclass, written out again (dict of stacked rows, try/except)."""
    k = 1e-5
    per_class: dict = {}
    for i, label in enumerate(labels):
        per_class[label] = (
            np.vstack((per_class[label], jacob[i])) if label in per_class else jacob[i]
        )
    scores = {}
    for c, rows in per_class.items():
        try:
            corrs = np.array(np.corrcoef(rows))
            s = np.sum(np.log(abs(corrs) + k))
            if n_classes > 100:
                s /= len(corrs)
        except TypeError:
            continue
        scores[c] = s
    if n_classes <= 100:
        return float(sum(abs(s) for s in scores.values()))
    total = sum(abs(a - b) for a in scores.values() for b in scores.values())
    return float(total / len(scores)) if scores else 0.0


def test_epe_nas_two_rows_per_class_by_hand() -> None:
    """corrcoef of two rows is [[1, r], [r, 1]]: s = 2 log(1 + k) + 2 log(|r| + k)."""
    jac = np.array([[1.0, 2.0, 3.0], [1.0, 3.0, 2.0], [0.0, 1.0, 0.0], [3.0, 1.0, 2.0]])
    labels = np.array([0, 0, 1, 1])
    k = 1e-5

    def s(a: np.ndarray, b: np.ndarray) -> float:
        r = np.corrcoef(a, b)[0, 1]
        return 2 * math.log(1 + k) + 2 * math.log(abs(r) + k)

    s0, s1 = s(jac[0], jac[1]), s(jac[2], jac[3])
    assert epe_score(jac, labels, 10) == pytest.approx(abs(s0) + abs(s1), rel=1e-12)
    # above 100 outputs: each s divided by its rows, then pairwise |s_c - s_c'| / classes
    want = 2 * abs(s0 / 2 - s1 / 2) / 2
    assert epe_score(jac, labels, 120) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("n_outputs", [10, 100, 120])
def test_epe_nas_equals_naslibs_loop_with_singleton_classes(n_outputs: int) -> None:
    rng = np.random.default_rng(3)
    jac = rng.normal(size=(12, 20)).astype(np.float32)
    labels = np.array([0, 1, 1, 2, 2, 2, 3, 4, 4, 1, 0, 5])  # 3 and 5 appear once
    assert epe_score(jac, labels, n_outputs) == pytest.approx(
        _naslib_epe(jac, labels, n_outputs), rel=1e-12
    )


def test_epe_nas_is_nan_for_a_constant_jacobian_row() -> None:
    jac = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 0.0], [0.0, 1.0, 3.0]])
    assert math.isnan(epe_score(jac, np.array([0, 0, 1]), 10))


def test_epe_nas_jacobian_is_the_input_gradient_of_the_summed_outputs() -> None:
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 5))
    x = torch.randn(6, 3)
    full = torch.autograd.functional.jacobian(lambda v: net(v).sum(), x)
    jac, outputs = jacobian_and_outputs(net, x)
    assert outputs == 5
    np.testing.assert_allclose(jac, full.numpy(), rtol=1e-6)


# -- through the registry, on NB201 networks -------------------------------------------------
def test_the_five_are_registered_zero_cost_proxies() -> None:
    for name in NAMES:
        assert name in PROXIES.names() and name in ZERO_COST
        assert PROXIES.origin(name) == "built-in"


@pytest.mark.parametrize("name", NAMES)
def test_direction_labels_and_seeds(name: str) -> None:
    """Maximised (NASLib ranks every score so); labels counted as snip's; the seed moves the
    score (init, and the batch where one is read), the same seed repeats it bit for bit."""
    proxy = make_proxy(name, **SMALL[name])
    ev = proxy.evaluate(CELL, BENCH, seed=3)
    assert ev.status == "ok" and ev.direction == proxy.direction == "maximize"
    assert ev.labels_used == LABELS[name]
    assert ev.simulated_s == ev.wall_s > 0
    assert not proxy.deterministic
    assert make_proxy(name, **SMALL[name]).evaluate(CELL, BENCH, seed=3).score == ev.score
    assert proxy.evaluate(CELL, BENCH, seed=4).score != ev.score


def test_defaults_follow_the_sources() -> None:
    assert {n: make_proxy(n).settings().get("batch_size") for n in NAMES} == {
        "epe-nas": 256,
        "fisher": 64,
        "grasp": 64,
        "l2-norm": None,  # reads no data
        "plain": 64,
    }
    assert all(make_proxy(n).settings()["init"] == "default" for n in NAMES)


def test_fisher_grasp_plain_equal_the_formulas_on_an_nb201_network() -> None:
    """The registered proxies' scores equal the formulas applied to the same network and batch
    (built here from the proxy's child seeds) through other routes: plain from
    autograd.grad, fisher from retained output gradients, grasp from torch.func's
    functional_call and hvp."""
    from harness.proxies.training import seeds
    from harness.proxies.zero_cost.common import build_network, seeded_batch

    settings = make_proxy("plain", **SMALL["plain"]).settings()
    init_seed, batch_seed = seeds(5, 2)
    batch = seeded_batch("sample", 16, batch_seed, torch.device("cpu"), labels=True)
    x, y = batch.x, batch.y
    assert y is not None

    def network() -> nn.Module:
        return build_network(CELL, BENCH, settings, init_seed, torch.device("cpu"))

    def score(name: str) -> float:
        return make_proxy(name, **SMALL[name]).evaluate(CELL, BENCH, seed=5).score

    net = network()
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    weights = [m.weight for m in layers]
    grads = torch.autograd.grad(F.cross_entropy(net(x), y), weights)
    plain = sum(float((w.detach().double() * g.double()).sum()) for w, g in zip(weights, grads))
    # a signed sum that cancels: the proxy runs on one thread, this on the test's threads
    assert score("plain") == pytest.approx(plain, rel=1e-4)

    net = network()
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    outs: dict[nn.Module, torch.Tensor] = {}

    def keep(m: nn.Module, _: object, out: torch.Tensor) -> None:
        out.retain_grad()
        outs[m] = out

    handles = [m.register_forward_hook(keep) for m in layers]
    F.cross_entropy(net(x), y).backward()
    for h in handles:
        h.remove()
    fisher = 0.0
    for m in layers:
        a, g = outs[m].detach(), outs[m].grad
        if g is None:
            continue  # the output never reaches the loss: 0, as NASLib
        per = (a * g).sum((2, 3)) if a.dim() == 4 else a * g
        fisher += float((0.5 * per.double().pow(2).mean(0)).sum()) * m.weight[0].numel()
    assert score("fisher") == pytest.approx(fisher, rel=1e-5)

    net = network()
    for m in net.modules():  # torch's pools: the spaces' faster backward is once-differentiable
        if isinstance(m, nn.AvgPool2d):
            m.__class__ = nn.AvgPool2d
    names = [n for n, m in net.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    base = {k: v.detach() for k, v in net.named_parameters()}
    keys = [f"{n}.weight" for n in names]
    flat = tuple(base[k] for k in keys)

    def loss(*ws: torch.Tensor) -> torch.Tensor:
        buffers = {k: b.clone() for k, b in net.named_buffers()}  # BN updates its own
        params = {**base, **buffers, **dict(zip(keys, ws))}
        return F.cross_entropy(torch.func.functional_call(net, params, (x,)), y)

    g = torch.func.grad(loss, argnums=tuple(range(len(flat))))(*flat)
    _, hg = torch.autograd.functional.hvp(loss, flat, g)
    grasp = -sum(float((w.double() * h.double()).sum()) for w, h in zip(flat, hg))
    assert score("grasp") == pytest.approx(grasp, rel=1e-4)


def test_scores_reproduce_in_a_fresh_process() -> None:
    threads = torch.get_num_threads()
    code = (
        "import json, sys, torch\n"
        f"torch.set_num_threads({threads})\n"
        "from harness.benchmarks import BENCHMARKS\n"
        "from harness.proxies import make_proxy\n"
        "from harness.spaces import SPACES\n"
        "b = BENCHMARKS.get('nb201-cifar10'); cell = SPACES.get(b.space).parse(sys.argv[1])\n"
        "small = json.loads(sys.argv[2])\n"
        "print(json.dumps({n: make_proxy(n, **s).evaluate(cell, b, 11).score for n, s in small.items()}))\n"
    )
    args = [sys.executable, "-c", code, SPACE.format(CELL), json.dumps(SMALL)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=REPO)
    here = {n: make_proxy(n, **s).evaluate(CELL, BENCH, 11).score for n, s in SMALL.items()}
    assert json.loads(out.stdout) == here


class TestConformance(ProxyConformance):
    """The conformance kit at small sizes (its fresh-process check is batched above)."""

    @pytest.fixture(params=NAMES)
    def proxy_case(self, request: pytest.FixtureRequest) -> ProxyCase:
        name = request.param
        return ProxyCase(
            name, settings=SMALL[name], labels=LABELS[name], cells=2, fresh_process=False
        )
