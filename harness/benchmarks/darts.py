"""DARTS-space benchmarks: open spaces with no table, truth only from training the found cell.

A search hands strategies the proxy's own score (no benchmark metric exists to look up), and
the report metric of the returned genotype comes from `harness evaluate` training it under
DARTS's evaluation protocol (`cnn/train.py`: C=36, 20 cells, auxiliary head, cutout, drop-path
0.2, 600 epochs). `configure(encoding=...)` picks the space strategies search over: `node`
(space `darts`, unbiased) or `edge` (space `darts-edge`, the CSNAS authors' encoding).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from harness import HarnessError
from harness.benchmarks.base import TruthSource

_SPACE_OF_ENCODING = {"node": "darts", "edge": "darts-edge"}
REPORT_PROTOCOL = "DARTS cnn/train.py: C=36, 20 cells, auxiliary 0.4, cutout 16, drop-path 0.2"


@dataclass
class DartsBenchmark:
    name: str
    dataset: str
    n_classes: int
    space: str = "darts"
    truth_source: TruthSource = "training"

    @property
    def encoding(self) -> str:
        return "node" if self.space == "darts" else "edge"

    def configure(self, **settings: Any) -> DartsBenchmark:
        """This benchmark searched in another encoding: `encoding="node"` or `"edge"`."""
        unknown = set(settings) - {"encoding"}
        if unknown:
            raise HarnessError(
                f"{self.name} has no setting(s) {sorted(unknown)} (settings: encoding)"
            )
        encoding = settings.get("encoding", self.encoding)
        if encoding not in _SPACE_OF_ENCODING:
            raise HarnessError(
                f"unknown encoding {encoding!r} for {self.name} (encodings: node, edge)"
            )
        return replace(self, space=_SPACE_OF_ENCODING[encoding])

    @property
    def search_metric(self) -> str:
        return "proxy score (no benchmark metric: the proxy's own value and direction)"

    @property
    def report_metric(self) -> str:
        return "test accuracy after the DARTS evaluation protocol (600 epochs)"

    @property
    def optimum(self) -> float | None:
        return None

    def report(self, arch: Any) -> float | None:
        """No table: the report metric exists only after `harness evaluate` trains the cell."""
        return None

    def manifest(self) -> dict[str, Any]:
        return {
            "truth": "training",
            "dataset": self.dataset,
            "space": self.space,
            "encoding": self.encoding,
            "report_protocol": REPORT_PROTOCOL,
        }

    def describe(self) -> str:
        return (
            f"DARTS cell space on {self.dataset} ({self.encoding} encoding); no table: report "
            "metric from training the found cell for 600 epochs"
        )


DARTS_BENCHMARKS = (
    DartsBenchmark(name="darts-cifar10", dataset="cifar10", n_classes=10),
    DartsBenchmark(name="darts-cifar100", dataset="cifar100", n_classes=100),
)
