"""Conformance checks for a proxy (`harness.contracts.Proxy`).

A case names the proxy, small settings (a narrow network, a small batch: the checks
evaluate a handful of cells) and the benchmark to score on; cells are drawn from the
benchmark's space with `sample_unique` under the case's seed.
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, get_args

import numpy as np
import pytest

from harness.proxies.base import Direction
from harness.testing._common import in_fresh_process, json_round_trip, load_plugins, resolve

DIRECTIONS = get_args(Direction)


@dataclass(frozen=True)
class ProxyCase:
    """One proxy to check, and at what size.

    Attributes:
        proxy: A registered name, or "package.module:factory" for a factory not registered.
        settings: Setting overrides that keep evaluations small (e.g. a tiny `scale`).
        benchmark: The registered benchmark to score cells of.
        labels: The `labels_used` every evaluation must report (0 for a label-free proxy).
        cells: How many distinct cells to score (drawn with `sample_unique`).
        seed: The seed of the draw and of the evaluations.
        fresh_process: Whether to check the same score in a fresh interpreter (costs one
            interpreter start and import).
        plugins: Plugin modules to load first (here and in the fresh process).
    """

    proxy: str
    settings: dict[str, Any] = field(default_factory=dict)
    benchmark: str = "nb201-cifar10"
    labels: int = 0
    cells: int = 3
    seed: int = 0
    fresh_process: bool = True
    plugins: tuple[str, ...] = ()

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def make(self, **settings: Any) -> Any:
        from harness.proxies import PROXIES

        factory = resolve(self.proxy, PROXIES, self.plugins)
        return factory(**(settings or self.settings))

    def benchmark_and_cells(self) -> tuple[Any, list[Any]]:
        from harness.benchmarks import BENCHMARKS
        from harness.spaces import SPACES

        load_plugins(self.plugins)
        bench = BENCHMARKS.get(self.benchmark)
        space = SPACES.get(bench.space)
        return bench, space.sample_unique(self.cells, np.random.default_rng(self.seed))


@lru_cache(maxsize=64)
def _evaluations(key: str) -> tuple[Any, ...]:
    d = json.loads(key)
    case = ProxyCase(**{**d, "plugins": tuple(d["plugins"])})
    bench, cells = case.benchmark_and_cells()
    proxy = case.make()
    return tuple(proxy.evaluate(cell, bench, case.seed) for cell in cells)


def evaluations(case: ProxyCase) -> tuple[Any, ...]:
    """The case's cells scored under its seed, once per case."""
    return _evaluations(case.key())


def _score_in_child(spec: dict[str, Any]) -> list[Any]:
    if spec["threads"] is not None:  # the same thread count as the parent's torch
        import torch

        torch.set_num_threads(spec["threads"])
    d = spec["case"]
    case = ProxyCase(**{**d, "plugins": tuple(d["plugins"])})
    return [[ev.status, repr(ev.score)] for ev in evaluations(case)]


def _advance_rngs() -> None:
    """Move each global random state on by one draw, so a proxy that re-seeds one to a fixed
    value cannot leave it as it found it by chance (an earlier evaluation did the same)."""
    random.random()
    np.random.random()
    if "torch" in sys.modules:
        sys.modules["torch"].rand(1)


def _rng_states() -> list[Any]:
    legacy: Any = np.random.get_state()
    states: list[Any] = [random.getstate(), legacy[1].tolist(), legacy[2:]]  # key and position
    if "torch" in sys.modules:
        states.append(sys.modules["torch"].get_rng_state().tolist())
    return states


class ProxyConformance:
    """Checks every proxy must pass. Subclass it and set `case` (or override the
    `proxy_case` fixture, e.g. parametrised over several proxies)."""

    case: ProxyCase | None = None

    @pytest.fixture
    def proxy_case(self) -> ProxyCase:
        if self.case is None:
            raise NotImplementedError("set `case = ProxyCase(...)` or override proxy_case")
        return self.case

    def test_direction(self, proxy_case: ProxyCase) -> None:
        proxy = proxy_case.make()
        assert proxy.direction in DIRECTIONS
        for ev in evaluations(proxy_case):
            assert ev.direction == proxy.direction

    def test_finite_score_on_every_cell(self, proxy_case: ProxyCase) -> None:
        for ev in evaluations(proxy_case):
            assert ev.status == "ok" and math.isfinite(ev.score), (
                f"status {ev.status}, score {ev.score}, {ev.extra.get('reason', '')}"
            )
            assert ev.wall_s >= 0 and ev.simulated_s >= 0

    def test_labels_counted(self, proxy_case: ProxyCase) -> None:
        """`labels_used` is what the case says (0: label-free) on every evaluation."""
        assert [ev.labels_used for ev in evaluations(proxy_case)] == [proxy_case.labels] * len(
            evaluations(proxy_case)
        )

    def test_same_seed_same_score(self, proxy_case: ProxyCase) -> None:
        """A new proxy object, the same seed: the same score; the caller's random states
        (random, numpy's global, torch's) are left as they were."""
        bench, cells = proxy_case.benchmark_and_cells()
        first = evaluations(proxy_case)[0]
        proxy = proxy_case.make()  # outside the window: making it may import torch (a new state)
        _advance_rngs()
        before = _rng_states()
        again = proxy.evaluate(cells[0], bench, proxy_case.seed)
        assert _rng_states() == before, "evaluate changed the caller's global random state"
        assert (again.status, repr(again.score)) == (first.status, repr(first.score))  # NaN too

    def test_deterministic_means_seed_independent(self, proxy_case: ProxyCase) -> None:
        """A proxy that says `deterministic` gives the same score under another seed (the
        runner then evaluates it afresh on every trial, with each run's seed)."""
        proxy = proxy_case.make()
        if not proxy.deterministic:
            pytest.skip("not deterministic: the score may depend on the seed")
        bench, cells = proxy_case.benchmark_and_cells()
        other = proxy.evaluate(cells[0], bench, proxy_case.seed + 1)
        assert repr(other.score) == repr(evaluations(proxy_case)[0].score)

    def test_same_score_in_a_fresh_process(self, proxy_case: ProxyCase) -> None:
        if not proxy_case.fresh_process:
            pytest.skip("the case leaves the fresh-process check to another test")
        torch = sys.modules.get("torch")
        threads = torch.get_num_threads() if torch is not None else None
        spec = {"case": asdict(proxy_case), "threads": threads}
        theirs = in_fresh_process("harness.testing.proxies:_score_in_child", spec)
        here = [[ev.status, repr(ev.score)] for ev in evaluations(proxy_case)]
        assert theirs == here, "a fresh process scored the same cells differently"

    def test_settings_json_round_trip(self, proxy_case: ProxyCase) -> None:
        """`settings()` survives JSON and rebuilds a proxy with the same settings."""
        proxy = proxy_case.make()
        if ":" not in proxy_case.proxy:
            assert proxy.name == proxy_case.proxy
        settings = json_round_trip(proxy.settings())
        assert proxy_case.make(**settings).settings() == settings
        assert isinstance(getattr(proxy, "needs_table", False), bool)  # absent: False
        assert isinstance(proxy.deterministic, bool)
