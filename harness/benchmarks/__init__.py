"""Benchmarks (ground truth for a space on one dataset), registered by name."""

from __future__ import annotations

from harness.benchmarks.nb201 import NB201_BENCHMARKS, NB201Benchmark
from harness.registry import Registry

BENCHMARKS: Registry[NB201Benchmark] = Registry("benchmark")
for _b in NB201_BENCHMARKS:
    BENCHMARKS.register(_b.name, _b)

__all__ = ["BENCHMARKS", "NB201Benchmark"]
