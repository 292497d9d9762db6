"""Table-lookup proxies: the benchmark's own validation accuracy after 12 or 200 epochs.

`lookup-12` is the NATS-Bench search protocol (hp=12); `lookup-200` is the oracle. Simulated
cost is the table's training time for that many epochs; labels used is the size of the labeled
set the benchmark trained the cell on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from harness import HarnessError
from harness.proxies.base import Direction, Evaluation


class TableBenchmark(Protocol):
    """What a lookup needs of a benchmark: a table to read (NB201's, or any with one)."""

    train_images: int

    def lookup(self, arch: Any, epochs: int, seed: int) -> tuple[float, float]: ...


@dataclass
class LookupProxy:
    epochs: int = 12
    name: str = "lookup-12"
    direction: Direction = "maximize"
    deterministic: bool = True
    #: reads the benchmark's table: the runner refuses it on benchmarks without one
    needs_table: bool = True

    def settings(self) -> dict[str, Any]:
        return {"epochs": self.epochs}

    def evaluate(self, arch: Any, benchmark: TableBenchmark, seed: int) -> Evaluation:
        score, seconds = benchmark.lookup(arch, self.epochs, seed)
        return Evaluation(
            score=score,
            direction=self.direction,
            simulated_s=seconds,
            labels_used=benchmark.train_images,
            device="table",
        )


def _make(name: str, epochs: int, overrides: dict[str, Any]) -> LookupProxy:
    unknown = set(overrides) - {"epochs"}
    if unknown:
        raise HarnessError(f"proxy {name} has no setting(s) {sorted(unknown)} (settings: epochs)")
    if overrides.get("epochs", epochs) != epochs:
        raise HarnessError(f"proxy {name} looks up {epochs} epochs, not {overrides['epochs']}")
    return LookupProxy(epochs=epochs, name=name)


def lookup_12(**overrides: Any) -> LookupProxy:
    return _make("lookup-12", 12, overrides)


def lookup_200(**overrides: Any) -> LookupProxy:
    return _make("lookup-200", 200, overrides)
