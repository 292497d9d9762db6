"""Zero-cost proxies: each formula against a hand computation, every registered proxy on an
NB201 network built through the space registry, reproducibility, and published numbers."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.benchmarks.table import load_table
from harness.methods import METHODS
from harness.proxies import PROXIES, make_proxy
from harness.proxies.zero_cost import ZERO_COST
from harness.proxies.zero_cost.common import (
    build_network,
    reinitialise,
    reinitialiser,
    seeded_batch,
    without_bn,
)
from harness.proxies.zero_cost.flops import count_macs, layer_macs
from harness.proxies.zero_cost.grad_norm import layer_norm_sum
from harness.proxies.zero_cost.jacov import correlation_score, input_jacobian
from harness.proxies.zero_cost.naswot import (
    activation_kernel,
    agreement_kernel,
    agreement_part,
    logdet,
)
from harness.proxies.zero_cost.snip import loss_gradients, saliency
from harness.proxies.zero_cost.swap import (
    count_unique_patterns,
    distinct_patterns,
    param_thousands,
    regular_factor,
    relu_patterns,
)
from harness.proxies.zero_cost.synflow import log_score, synaptic_flow
from harness.spaces import SPACES

REPO = Path(__file__).resolve().parents[1]
BENCH = BENCHMARKS.get("nb201-cifar10")
SPACE = SPACES.get(BENCH.space)
CELL = SPACE.parse(
    "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
)
#: small enough for tests: a narrow, shallow network and a small batch
SMALL: dict[str, dict] = {
    "naswot": {"scale": {"C": 4, "N": 1}, "batch_size": 16},
    "synflow": {"scale": {"C": 4, "N": 1}},
    "jacov": {"scale": {"C": 4, "N": 1}, "batch_size": 16},
    "snip": {"scale": {"C": 4, "N": 1}, "batch_size": 16},
    "grad-norm": {"scale": {"C": 4, "N": 1}, "batch_size": 16},
    "swap": {"scale": {"C": 4, "N": 1}, "batch_size": 16, "repeats": 2},
    "params": {"scale": {"C": 4, "N": 1}},
    "flops": {"scale": {"C": 4, "N": 1}},
    "az-nas": {"scale": {"C": 4, "N": 1}, "batch_size": 16, "reference": 5},
    "meco": {"scale": {"C": 4, "N": 1}},
    "vkdnw": {"scale": {"C": 4, "N": 1}, "batch_size": 16},
    "zico": {"scale": {"C": 4, "N": 1}, "batch_size": 8},  # 2 batches of 8: 16 labels
    **{
        name: {"scale": {"C": 4, "N": 1}, "batch_size": 16}
        for name in ("epe-nas", "fisher", "grasp", "plain")
    },
    "l2-norm": {"scale": {"C": 4, "N": 1}},
    "dextr": {"scale": {"C": 4, "N": 1}, "curve_size": 16, "coordinates": 3},
}
LABELED = {"snip", "grad-norm", "zico", "epe-nas", "fisher", "grasp", "plain"}
#: the harness's own zero-cost proxies (a plugin may tag its own "zero-cost" too)
BUILT_IN = [n for n in ZERO_COST if n in PROXIES.built_in()]


def _fixed(layer: nn.Module, weight: list) -> nn.Module:
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=layer.weight.dtype))
    return layer


# -- formulas on hand-computable networks ------------------------------------------------------
def test_naswot_kernel_counts_agreeing_relu_codes() -> None:
    net = nn.Sequential(_fixed(nn.Linear(2, 3, bias=False), [[1, 0], [0, 1], [1, -1]]), nn.ReLU())
    x = torch.tensor([[1.0, 2.0], [-1.0, 1.0], [2.0, -1.0]])  # codes 110, 010, 101
    codes = (x @ net[0].weight.detach().T > 0).numpy()  # pre-activations > 0
    expected = np.array([[np.sum(a == b) for b in codes] for a in codes], dtype=float)
    k = activation_kernel(net, x)
    np.testing.assert_array_equal(k, expected)
    np.testing.assert_array_equal(expected, [[3, 2, 1], [2, 3, 0], [1, 0, 3]])
    assert logdet(k) == pytest.approx(math.log(np.linalg.det(expected)))


def test_naswot_kernel_sums_over_relus_and_is_singular_for_repeated_codes() -> None:
    net = nn.Sequential(nn.ReLU(), nn.ReLU())  # second ReLU sees the first's output
    x = torch.tensor([[1.0, -1.0], [1.0, -2.0]])  # same codes -> rank-1 kernel
    k = activation_kernel(net, x)
    np.testing.assert_array_equal(k, np.full((2, 2), 4.0))
    assert logdet(k) == -math.inf


def test_naswot_kernel_reuses_shared_inputs_exactly() -> None:
    """An NB201 network (shared node outputs, ReLUConvBN around its ReLU): the kernel equals
    the sum of every matched module's own part computed afresh, bit for bit."""
    from harness.proxies.zero_cost.naswot import agreement_kernel, is_relu
    from harness.spaces import SPACES

    space = SPACES.get("nb201")
    arch = space.parse(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    )
    torch.manual_seed(0)
    net = space.network(arch, 10, C=4, N=1).train()
    x = torch.randn(6, 3, 8, 8)
    naive = np.zeros((6, 6))
    calls: list[int] = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        calls.append(id(inputs[0]))
        naive[...] += agreement_kernel(inputs[0].reshape(6, -1) > 0).double().numpy()

    handles = [m.register_forward_hook(hook) for m in net.modules() if is_relu(m)]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    assert len(set(calls)) < len(calls)  # some inputs are shared, so reuse happens
    np.testing.assert_array_equal(activation_kernel(net, x), naive)


def test_synflow_of_a_linear_net_is_depth_times_the_output() -> None:
    w1 = [[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]]
    w2 = [[2.0, -1.0, 4.0]]
    net = nn.Sequential(
        _fixed(nn.Linear(2, 3, bias=False), w1), _fixed(nn.Linear(3, 1, bias=False), w2)
    )
    # |W2| |W1| 1: each layer's sum of |w * dR/dw| equals R for a linear net
    r = float((np.abs(w2) @ np.abs(w1) @ np.ones(2)).item())
    assert synaptic_flow(net, (1, 2)) == pytest.approx(2 * r)
    assert log_score(2 * r) == pytest.approx(math.log(2 * r)) and log_score(0.0) == 0.0


def test_synflow_switches_batchnorm_off() -> None:
    net = without_bn(nn.Sequential(nn.Conv2d(1, 1, 1), nn.Sequential(nn.BatchNorm2d(1)), nn.ReLU()))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())


def test_jacov_jacobian_and_eigen_score() -> None:
    lin = _fixed(nn.Linear(3, 2), [[1.0, 2.0, 0.0], [0.0, -1.0, 5.0]])
    jac = input_jacobian(lin, torch.randn(4, 3))
    np.testing.assert_allclose(jac, np.tile([1.0, 1.0, 5.0], (4, 1)))  # column sums of W
    rows = np.array([[1.0, 2.0, 3.0, 5.0], [2.0, 1.0, 0.0, 1.0], [0.0, 1.0, 4.0, 4.0]])
    v = np.real(np.linalg.eig(np.corrcoef(rows))[0])  # the reference's eig
    expected = -np.sum(np.log(v + 1e-5) + 1.0 / (v + 1e-5))
    assert correlation_score(rows) == pytest.approx(expected, rel=1e-9)
    assert math.isnan(correlation_score(np.ones((3, 4))))  # constant rows: undefined


def test_snip_and_grad_norm_use_cross_entropy_gradients() -> None:
    w = [[1.0, -1.0, 0.5], [0.0, 2.0, -1.0]]
    lin = _fixed(nn.Linear(3, 2, bias=False), w)
    x = torch.tensor([[1.0, 0.0, 2.0], [0.5, -1.0, 1.0]])
    y = torch.tensor([1, 0])
    logits = x.numpy() @ np.array(w).T
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    grad = (p - np.eye(2)[y.numpy()]).T @ x.numpy() / len(x)  # mean cross-entropy
    loss_gradients(lin, x, y)
    assert saliency(lin) == pytest.approx(np.abs(np.array(w) * grad).sum(), rel=1e-6)
    assert layer_norm_sum(lin) == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_swap_counts_distinct_sample_patterns() -> None:
    # 3 samples x 6 units: patterns (columns) ++-, ++-, ---, +-+, ---, -+-  -> 4 distinct
    pre = torch.tensor(
        [
            [1.0, 2.0, -1.0, 3.0, 0.0, -2.0],
            [1.0, 0.5, -1.0, -1.0, -3.0, 1.0],
            [-1.0, -2.0, 0.0, 2.0, -1.0, -1.0],
        ]
    ).view(3, 1, 1, 6)
    patterns = relu_patterns(nn.Sequential(nn.ReLU()), pre)
    assert count_unique_patterns(patterns) == 4
    assert relu_patterns(nn.Sequential(nn.ReLU()), pre.view(3, 6)) == []  # 2-D inputs skipped


def test_swap_packed_count_equals_row_unique_beyond_the_pack_limit() -> None:
    gen = torch.Generator().manual_seed(0)
    for n in (5, 20, 30, 70):  # table (float32-packed up to 2^20), sorted codes, row unique
        layers = [torch.rand(n, 300, generator=gen) > 0.97 for _ in range(2)]
        expected = len({tuple(col.tolist()) for col in torch.cat(layers, 1).T})
        assert count_unique_patterns(layers) == expected


class _ChangedInPlace(nn.Module):
    """Two ReLUs fed one tensor, changed in place between them: the second must be read
    afresh, not taken for the first (same `id`, another `_version`)."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = nn.ReLU(), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        a = self.first(x)
        x.add_(0.7)
        return a + self.second(x) + self.second(x)


def _nb201_net(arch: str, seed: int, **scale: int) -> nn.Module:
    torch.manual_seed(seed)
    return SPACE.network(SPACE.parse(arch), 10, **scale).train()


SHARED = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.mark.parametrize("n", [1, 16, 20, 24, 70])
def test_swap_distinct_patterns_equal_the_per_layer_count(n: int) -> None:
    """The streamed count (each shared tensor read once, packed as the pass runs) equals the
    authors' per-ReLU count, on every path: the 2^B table, packed codes, row unique."""
    net = _nb201_net(SHARED, 0, C=4, N=1)
    x = torch.randn(n, 3, 8, 8, generator=torch.Generator().manual_seed(n))
    expected = count_unique_patterns(relu_patterns(net, x))
    assert distinct_patterns(net, x, iter([None])) == [expected]
    pre = torch.randn(n, 2, 3, 5, generator=torch.Generator().manual_seed(1))
    changed = _ChangedInPlace()
    want = count_unique_patterns(relu_patterns(changed, pre))
    assert distinct_patterns(changed, pre, iter([None, None])) == [want, want]
    assert distinct_patterns(nn.Sequential(nn.ReLU()), pre.view(n, -1), iter([None])) == [0]


def test_swap_scores_equal_the_authors_loop_bit_for_bit() -> None:
    """The whole measure (hooks kept over the repeats, the listed re-init) against the loop
    it replaced: a count per repeat from `relu_patterns`, `reinitialise` before each."""
    from harness.proxies.training import seeded, seeds

    settings = {"scale": {"C": 8, "N": 1}, "repeats": 4}
    proxy = make_proxy("swap", **settings)
    s = proxy.settings()
    for arch in (SHARED, SPACE.format(CELL)):
        cell = SPACE.parse(arch)
        init_seed, batch_seed = seeds(5, 2)
        x = seeded_batch(s["data"], s["batch_size"], batch_seed, torch.device("cpu"), False).x
        net = build_network(cell, BENCH, s, init_seed, torch.device("cpu"))
        counts = [count_unique_patterns(relu_patterns(net, x))]
        with seeded(seeds(init_seed, 1)[0], torch.device("cpu")):
            for _ in range(s["repeats"] - 1):
                reinitialise(net, s["init"])
                counts.append(count_unique_patterns(relu_patterns(net, x)))
        mean = sum(counts) / len(counts)
        factor = regular_factor(param_thousands(net), s["mu"], s["sigma"])
        ev = proxy.evaluate(cell, BENCH, 5)
        assert ev.score == mean * factor and ev.extra["swap_count"] == mean


@pytest.mark.parametrize("init", ["gaussian", "default"])
def test_listed_reinitialiser_draws_the_same_weights(init: str) -> None:
    one, two = _nb201_net(SHARED, 0, C=4, N=1), _nb201_net(SHARED, 0, C=4, N=1)
    again = reinitialiser(two, init)
    for seed in (1, 2):
        torch.manual_seed(seed)
        reinitialise(one, init)
        torch.manual_seed(seed)
        again()
        for (name, a), b in zip(one.state_dict().items(), two.state_dict().values()):
            assert torch.equal(a, b), name


def test_naswot_integer_product_equals_the_float_kernel() -> None:
    gen = torch.Generator().manual_seed(0)
    for n, units in ((1, 1), (6, 5), (32, 1000), (128, 4096)):
        codes = torch.rand(n, units, generator=gen) > 0.4
        part = agreement_part(codes)
        assert part.dtype == torch.float64
        assert torch.equal(part, agreement_kernel(codes).double())
        assert torch.equal(agreement_part(codes[:, ::2]), agreement_kernel(codes[:, ::2]).double())


def test_naswot_kernel_reads_a_tensor_changed_in_place_afresh() -> None:
    from harness.proxies.zero_cost.naswot import is_relu

    x = torch.randn(5, 2, 3, 4, generator=torch.Generator().manual_seed(2))
    net = _ChangedInPlace()
    naive = np.zeros((5, 5))

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        naive[...] += agreement_kernel(inputs[0].reshape(5, -1) > 0).double().numpy()

    handles = [m.register_forward_hook(hook) for m in net.modules() if is_relu(m)]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    np.testing.assert_array_equal(activation_kernel(net, x), naive)


def test_swap_regulariser_is_the_authors_gaussian_in_thousands_of_parameters() -> None:
    net = nn.Linear(999, 3)  # 3000 parameters = 3.0 thousand
    assert param_thousands(net) == 3.0
    assert regular_factor(3.0, 1.0, 2.0) == pytest.approx(math.exp(-2.0))


def test_flops_count_conv_and_linear_multiply_adds() -> None:
    conv, lin = nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.Linear(5, 2)
    assert layer_macs(conv, torch.zeros(1, 4, 8, 8)) == 8 * 8 * 4 * 3 * 3 * 3
    assert layer_macs(lin, torch.zeros(1, 2)) == 2 * (5 + 1)
    net = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    assert count_macs(net, (1, 3, 8, 8)) == 8 * 8 * 4 * 27 + 2 * 5


# -- registry: every zero-cost proxy on an NB201 network built through SPACES -----------------
def test_every_zero_cost_proxy_is_registered_with_a_method() -> None:
    assert set(ZERO_COST) <= set(PROXIES.names())
    for name in ("naswot", "synflow", "swap"):
        method = METHODS.get(f"{name}-tpe")
        assert method.proxy == name and method.strategy == METHODS.get("tpe").strategy
        assert method.strategy_settings == METHODS.get("tpe").strategy_settings


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_zero_cost_proxy_scores_an_nb201_cell(name: str) -> None:
    """What the conformance kit does not know (test_conformance.py runs the kit on each):
    maximised as published, wall time as the cost, only params and flops seed-free."""
    proxy = make_proxy(name, **SMALL[name])
    ev = proxy.evaluate(CELL, BENCH, seed=3)
    assert ev.direction == proxy.direction == "maximize"
    assert ev.labels_used == (16 if name in LABELED else 0)
    assert ev.simulated_s == ev.wall_s > 0
    assert proxy.deterministic == (name in ("params", "flops"))
    if not proxy.deterministic:  # az-nas scores a rank: its components carry the seed
        other = proxy.evaluate(CELL, BENCH, seed=4)
        assert (other.extra if name == "az-nas" else other.score) != (
            ev.extra if name == "az-nas" else ev.score
        )


def test_zero_cost_scores_reproduce_in_a_fresh_process() -> None:
    # same thread count on both sides: float reductions are bit-stable per thread count only
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
    fresh = json.loads(out.stdout)
    here = {n: make_proxy(n, **s).evaluate(CELL, BENCH, 11).score for n, s in SMALL.items()}
    assert fresh == pytest.approx(here, rel=1e-9)


def test_evaluation_leaves_the_callers_rng_alone() -> None:
    state = torch.get_rng_state()
    make_proxy("swap", **SMALL["swap"]).evaluate(CELL, BENCH, 5)
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize(
    ("name", "settings", "fragment"),
    [
        ("naswot", {"epochs": 3}, "unknown setting 'epochs' for proxy naswot"),
        ("swap", {"repeats": 0}, "repeats=0"),
        ("synflow", {"bn": "frozen"}, "bn='frozen'"),
        ("jacov", {"scale": {"C": 0}}, "scale"),
        ("swap", {"sigma": -1.0}, "sigma=-1.0"),
        ("params", {"batch_size": 8}, "unknown setting 'batch_size'"),
    ],
)
def test_bad_settings_are_one_line_errors(name: str, settings: dict, fragment: str) -> None:
    with pytest.raises(HarnessError, match=None) as err:
        make_proxy(name, **settings)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_unknown_scale_key_names_the_space() -> None:
    with pytest.raises(HarnessError, match="not one of space nb201's"):
        make_proxy("params", scale={"layers": 2}).evaluate(CELL, BENCH, 0)


# -- published numbers -------------------------------------------------------------------------
def test_params_and_flops_equal_the_nb201_table() -> None:
    table = load_table()
    for index in (0, 6111, 1234, 15624):
        cell = SPACE.from_index(index)
        assert make_proxy("params").evaluate(cell, BENCH, 0).score == pytest.approx(
            table["params_c10_M"][index], abs=5e-7
        )
        assert make_proxy("flops").evaluate(cell, BENCH, 0).score == pytest.approx(
            table["flops_c10_M"][index], abs=5e-6
        )


NASLIB = REPO.parent / "shared" / "data" / "nb201" / "nb201_zc_naslib_partial.csv.gz"


@pytest.mark.skipif(not NASLIB.is_file(), reason="shared NASLib zero-cost file not present")
def test_params_equal_naslib_and_flops_rank_like_naslib_on_a_few_cells() -> None:
    with gzip.open(NASLIB, "rt") as fh:
        df = pd.read_csv(fh)
    rows = df[df.dataset == "cifar10"].sample(6, random_state=0)
    ours = {
        col: [make_proxy(p).evaluate(SPACE.parse(a), BENCH, 0).score for a in rows.arch_str]
        for p, col in (("params", "params_naslib"), ("flops", "flops_naslib"))
    }
    np.testing.assert_allclose(ours["params_naslib"], rows.params_naslib, atol=5e-7)
    assert list(np.argsort(ours["flops_naslib"])) == list(np.argsort(rows.flops_naslib.to_numpy()))


# -- regression reference ----------------------------------------------------------------------
def _reference_script():
    from harness.reference import zero_cost

    return zero_cost


#: torch's and oneDNN's kernel choice: AVX-512 where the CPU has it, and an AVX2 machine's
KERNELS = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


@pytest.mark.parametrize("kernels", sorted(KERNELS))
def test_reference_check_passes_with_avx512_and_avx2_kernels(kernels: str) -> None:
    """The committed scores within each proxy's stated tolerance, whichever kernels run them
    (a fresh process: torch reads the variables at start-up)."""
    import os
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "scripts" / "reference_zero_cost.py"
    env = {**os.environ, **KERNELS[kernels]}
    # every proxy but az-nas, whose 100-cell reference population costs minutes here (the
    # full check in .ci/run covers it)
    fast = ",".join(p for p in BUILT_IN if p != "az-nas")
    done = subprocess.run([sys.executable, str(script), "check", "--cells", "4", "--proxy", fast],
                          env=env, capture_output=True, text=True, cwd=script.parents[1])  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"checked {4 * (len(BUILT_IN) - 1)} scores" in done.stdout
    assert "0 outside" in done.stdout


def test_reference_check_fails_when_a_score_is_altered(tmp_path: Path) -> None:
    ref = _reference_script()
    committed = ref.reference_file(Path(__file__).resolve().parents[1])
    assert committed.is_file()
    lines = committed.read_text().splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    col = header.index("score")
    assert first[header.index("proxy")] == "naswot"  # tolerance 1e-6
    first[col] = repr(float(first[col]) * (1 + 1e-4))
    altered = tmp_path / "altered.csv"
    altered.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    fast = [p for p in BUILT_IN if p != "az-nas"]  # az-nas's reference population: minutes
    assert ref.check(altered, n_cells=1, rtol=None, atol=1e-9, proxies=fast) == 1
    assert ref.check(committed, n_cells=1, rtol=None, atol=1e-9, proxies=fast) == 0


def test_bench_zero_cost_prints_seconds_per_cell() -> None:
    from click.testing import CliRunner

    from harness.cli import cli

    out = CliRunner().invoke(cli, ["bench", "zero-cost", "--proxy", "params,flops", "--cells", "2"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("measured peak (1 thread(s), GFLOP/s): float32: matmul")
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    assert set(rows) == {"params", "flops"} and all(
        r[1] == "2" and float(r[2]) > 0 and r[-1].endswith("%") for r in rows.values()
    )
    # params counts weights: no convolution or matrix product runs
    assert rows["params"][5] == "0.00" and rows["params"][6] == "-"
    bad = CliRunner().invoke(cli, ["bench", "zero-cost", "--proxy", "nope"])
    assert bad.exit_code != 0 and "unknown zero-cost proxy 'nope'" in str(bad.exception)
