"""What the harness asks of a benchmark: a space on one dataset, with optional ground truth.

A benchmark names its search metric (what proxies hand to strategies, or what table lookups
read) and its report metric (what tables show for the cell a search returns). Ground truth is
optional: `report(arch)` is None and `optimum` is None where no table (or surrogate) exists;
the report metric of a search is then filled in by `harness evaluate`, which trains the
returned cell from scratch under a protocol. `truth_source` says where the truth comes from.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

TruthSource = Literal["table", "surrogate", "training"]


class Benchmark(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def space(self) -> str:
        """Registered name of the search space."""
        ...

    @property
    def dataset(self) -> str:
        """Dataset whose report metric is shown (e.g. "cifar10")."""
        ...

    @property
    def n_classes(self) -> int: ...

    @property
    def truth_source(self) -> TruthSource: ...

    @property
    def search_metric(self) -> str: ...

    @property
    def report_metric(self) -> str: ...

    @property
    def optimum(self) -> float | None: ...

    def report(self, arch: Any) -> float | None:
        """The report metric of `arch` from the benchmark's own truth; None without one."""
        ...

    def describe(self) -> str: ...

    def manifest(self) -> dict[str, Any]:
        """What identifies the truth this benchmark used (release, table file and sha256)."""
        ...

    def configure(self, **settings: Any) -> Benchmark:
        """This benchmark with settings applied (e.g. NB201's `nats_path`); bad ones raise."""
        ...
