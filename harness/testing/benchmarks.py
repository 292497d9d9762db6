"""Conformance checks for a benchmark (`harness.contracts.Benchmark`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np
import pytest

from harness.benchmarks.base import TruthSource
from harness.testing._common import json_round_trip, resolve

TRUTH_SOURCES = get_args(TruthSource)


@dataclass(frozen=True)
class BenchmarkCase:
    """One benchmark to check.

    Attributes:
        benchmark: A registered name, or "package.module:attribute" of a benchmark object.
        truth_range: The range every report metric lies in (accuracy in percent by default).
        cells: How many sampled cells the truth is read for.
        plugins: Plugin modules to load first.
    """

    benchmark: str
    truth_range: tuple[float, float] = (0.0, 100.0)
    cells: int = 20
    plugins: tuple[str, ...] = ()

    def get(self) -> Any:
        from harness.benchmarks import BENCHMARKS

        return resolve(self.benchmark, BENCHMARKS, self.plugins)


class BenchmarkConformance:
    """Checks every benchmark must pass. Subclass it and set `case` (or override the
    `benchmark_case` fixture)."""

    case: BenchmarkCase | None = None

    @pytest.fixture
    def benchmark_case(self) -> BenchmarkCase:
        if self.case is None:
            raise NotImplementedError("set `case = BenchmarkCase(...)` or override benchmark_case")
        return self.case

    def test_metric_names(self, benchmark_case: BenchmarkCase) -> None:
        """Two named metrics, never the same: searches must not see the reported number."""
        b = benchmark_case.get()
        assert isinstance(b.search_metric, str) and b.search_metric
        assert isinstance(b.report_metric, str) and b.report_metric
        assert b.search_metric != b.report_metric
        assert isinstance(b.describe(), str) and b.describe()

    def test_space_is_registered(self, benchmark_case: BenchmarkCase) -> None:
        from harness.spaces import SPACES

        b = benchmark_case.get()  # loads the case's plugins
        assert b.space in SPACES, f"space {b.space!r} is not registered"
        assert isinstance(b.n_classes, int) and b.n_classes >= 2
        assert b.truth_source in TRUTH_SOURCES
        if ":" not in benchmark_case.benchmark:
            assert b.name == benchmark_case.benchmark

    def test_truth_in_range(self, benchmark_case: BenchmarkCase) -> None:
        """With a table: a finite report in range for every sampled cell, the optimum at
        least as good as each. Otherwise: None or a number in range."""
        from harness.spaces import SPACES

        b = benchmark_case.get()
        space = SPACES.get(b.space)
        rng = np.random.default_rng(0)
        lo, hi = benchmark_case.truth_range
        values = [b.report(space.sample(rng)) for _ in range(benchmark_case.cells)]
        if b.truth_source == "table":
            assert all(v is not None and math.isfinite(v) and lo <= v <= hi for v in values)
            assert b.optimum is not None and max(values) <= b.optimum <= hi
        else:
            assert all(v is None or lo <= v <= hi for v in values)

    def test_manifest_is_json(self, benchmark_case: BenchmarkCase) -> None:
        json_round_trip(benchmark_case.get().manifest(), "manifest")
