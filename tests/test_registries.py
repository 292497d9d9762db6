"""Every registered name resolves and works: the registries are the package's table of contents."""

from __future__ import annotations

import pytest

from harness.benchmarks import BENCHMARKS
from harness.executors import execute_plan
from harness.methods import METHODS
from harness.proxies import PROXIES, make_proxy
from harness.proxies.zero_cost import ZERO_COST
from harness.runner import make_plan
from harness.spaces import SPACES
from harness.store import open_store
from harness.strategies import STRATEGIES

TRAINED = {"contrastive", "supervised"}


def built_in(registry) -> list[str]:
    """The harness's own names: an installed plugin's never change what these tests check."""
    return registry.built_in()


@pytest.mark.parametrize("name", built_in(METHODS))
def test_every_method_runs_two_trials(name, store_url):
    method = METHODS.get(name)
    assert method.strategy in STRATEGIES and method.proxy in PROXIES
    settings = {"profile": "smoke"} if method.proxy in TRAINED else None
    if method.proxy in ZERO_COST:  # a narrow, shallow net (and 2 SWAP repeats) for speed
        settings = {"scale": {"C": 4, "N": 1}, **({"repeats": 2} if method.proxy == "swap" else {})}
        settings |= {"reference": 5} if method.proxy == "az-nas" else {}
    plan = make_plan([name], ["nb201-cifar10"], seeds=1, trials=2, proxy_settings=settings)
    execute_plan(plan, store_url, progress=False)
    frame = open_store(store_url, create=False).trials_frame()
    assert len(frame) == 2 and set(frame.method) == {name}
    assert set(frame.direction) == {make_proxy(method.proxy, **(settings or {})).direction}


def test_registries_are_populated():
    assert built_in(SPACES) == ["darts", "darts-edge", "nb201"]
    assert len(built_in(BENCHMARKS)) == 5
    assert {"lookup-12", "lookup-200", "contrastive", "supervised"} <= set(built_in(PROXIES))
    assert set(built_in(STRATEGIES)) == {
        "tpe-hyperopt", "tpe-optuna", "gp-optuna", "random", "gp", "rea", "reinforce",
        "local-search", "smac",
    }  # fmt: skip
    assert {"csnas", "supervised-tpe", "random", "rea", "tpe", "tpe-optuna", "bo-gp"} <= set(
        built_in(METHODS)
    )
    assert METHODS.get("csnas").strategy == "tpe-hyperopt"
    assert METHODS.get("csnas").proxy == "contrastive"


def test_every_method_has_its_own_fixed_colour():
    from harness.report.frame import METHOD_COLORS, method_colors

    assert set(built_in(METHODS)) <= set(METHOD_COLORS)  # not a test's or a plugin's
    assert len(set(METHOD_COLORS.values())) == len(METHOD_COLORS)
    assert method_colors(["tpe"])["tpe"] == method_colors(["tpe", "csnas", "zzz"])["tpe"]
