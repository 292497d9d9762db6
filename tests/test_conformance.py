"""Every built-in proxy, space and benchmark through the conformance kit (harness.testing),
selected by origin: an installed plugin's names are its own tests' business. Strategies go
through it in test_strategies.py. What is particular to each built-in (formulas, published
numbers) stays in its own test file."""

from __future__ import annotations

import pytest

from harness.benchmarks import BENCHMARKS
from harness.proxies import PROXIES
from harness.spaces import SPACES
from harness.testing import (
    BenchmarkCase,
    BenchmarkConformance,
    ProxyCase,
    ProxyConformance,
    SpaceCase,
    SpaceConformance,
)


def built_in(registry) -> list[str]:
    return registry.built_in()


#: a narrow, shallow network and a small batch for every zero-cost proxy
TINY = {"scale": {"C": 4, "N": 1}}
SMALL = {
    "naswot": {**TINY, "batch_size": 16},
    "synflow": TINY,
    "jacov": {**TINY, "batch_size": 16},
    "snip": {**TINY, "batch_size": 16},
    "grad-norm": {**TINY, "batch_size": 16},
    "swap": {**TINY, "batch_size": 16, "repeats": 2},
    "params": TINY,
    "flops": TINY,
    "az-nas": {**TINY, "batch_size": 16, "reference": 5},
    "meco": TINY,
    "vkdnw": {**TINY, "batch_size": 16},
    "zico": {**TINY, "batch_size": 8},  # 2 batches of 8: 16 labels
    **{name: {**TINY, "batch_size": 16} for name in ("epe-nas", "fisher", "grasp", "plain")},
    "l2-norm": TINY,
    "dextr": {**TINY, "curve_size": 16, "coordinates": 3},
}
LABELS = {
    "snip": 16, "grad-norm": 16, "zico": 16, "supervised": 64,
    "epe-nas": 16, "fisher": 16, "grasp": 16, "plain": 16,
}  # fmt: skip
#: the fresh-process check of these runs elsewhere, batched into one interpreter
#: (test_zero_cost.py, test_trained_proxies.py); the lookups' costs one import of numpy
BATCHED_ELSEWHERE = {*SMALL, "contrastive", "supervised"}
SETTINGS = {
    **SMALL,
    **{name: {"profile": "smoke"} for name in ("contrastive", "supervised", "rotation", "simsiam")},
}
PROXY_CASES = {
    name: ProxyCase(
        name,
        settings=SETTINGS.get(name, {}),
        labels=LABELS.get(name, 0),
        cells=2,
        fresh_process=name not in BATCHED_ELSEWHERE,
    )
    for name in built_in(PROXIES)
}
PROXY_CASES["lookup-12"] = ProxyCase("lookup-12", labels=25_000, cells=10)
#: the same code as lookup-12 (another column): its fresh-process check would repeat that one
PROXY_CASES["lookup-200"] = ProxyCase("lookup-200", labels=25_000, cells=10, fresh_process=False)


class TestBuiltInProxies(ProxyConformance):
    @pytest.fixture(params=built_in(PROXIES))
    def proxy_case(self, request: pytest.FixtureRequest) -> ProxyCase:
        return PROXY_CASES.get(request.param, ProxyCase(request.param))


NB201_SAME = (  # two parallel paths swapping their ops: an isomorphism
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|none~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|",
)
NB201_OTHER = (
    NB201_SAME[0],
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|skip_connect~1|none~2|",
)
V2_NORMAL_REDUCE = (
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
    "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
DARTS_SAME = tuple(  # DARTS_V2 with its first normal node's two inputs in either order
    f"Genotype(normal=[{first}, ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), "
    "('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    + V2_NORMAL_REDUCE
    for first in (
        "('sep_conv_3x3', 0), ('sep_conv_3x3', 1)",
        "('sep_conv_3x3', 1), ('sep_conv_3x3', 0)",
    )
)
SPACE_CASES = {
    "nb201": SpaceCase("nb201", isomorphic=(NB201_SAME,), distinct=(NB201_OTHER,)),
    "darts": SpaceCase("darts", isomorphic=(DARTS_SAME,), distinct=(("DARTS_V1", "DARTS_V2"),)),
    "darts-edge": SpaceCase("darts-edge", isomorphic=(DARTS_SAME,)),
}


class TestBuiltInSpaces(SpaceConformance):
    @pytest.fixture(params=built_in(SPACES))
    def space_case(self, request: pytest.FixtureRequest) -> SpaceCase:
        return SPACE_CASES.get(request.param, SpaceCase(request.param))


class TestBuiltInBenchmarks(BenchmarkConformance):
    @pytest.fixture(params=built_in(BENCHMARKS))
    def benchmark_case(self, request: pytest.FixtureRequest) -> BenchmarkCase:
        return BenchmarkCase(request.param)
