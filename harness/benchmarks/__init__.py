"""Benchmarks (a space on one dataset, with optional ground truth), registered by name."""

from __future__ import annotations

from harness.benchmarks.base import Benchmark, TruthSource
from harness.benchmarks.darts import DARTS_BENCHMARKS
from harness.benchmarks.nb201 import NB201_BENCHMARKS
from harness.registry import Registry

BENCHMARKS: Registry[Benchmark] = Registry("benchmark")
for _b in NB201_BENCHMARKS:
    BENCHMARKS.register(_b.name, _b)
for _d in DARTS_BENCHMARKS:
    BENCHMARKS.register(_d.name, _d)

__all__ = ["BENCHMARKS", "Benchmark", "TruthSource"]
