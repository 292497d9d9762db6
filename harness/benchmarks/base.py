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
    """A space on one dataset. Register an instance: `BENCHMARKS.register(b.name, b)`.

    What the harness relies on (`harness.testing.BenchmarkConformance` checks each point):
    `space` names a registered space; `search_metric` and `report_metric` name two
    different things (never search on the number a table reports); with a table, `report`
    gives a finite number in the metric's range for every architecture and `optimum` is the
    best of them; without one, `report` is None; `manifest()` is JSON-serialisable and
    identifies the truth (it is part of the run id).
    """

    @property
    def name(self) -> str:
        """The registered name."""
        ...

    @property
    def space(self) -> str:
        """Registered name of the search space."""
        ...

    @property
    def dataset(self) -> str:
        """Dataset whose report metric is shown (e.g. "cifar10")."""
        ...

    @property
    def n_classes(self) -> int:
        """Classes of the dataset: the `num_classes` a proxy builds networks with."""
        ...

    @property
    def truth_source(self) -> TruthSource:
        """Where `report` comes from: "table", "surrogate" or "training" (none until
        `harness evaluate` trains the returned cell)."""
        ...

    @property
    def search_metric(self) -> str:
        """What a search sees (table lookups read it), e.g. "cifar10-valid x-valid"."""
        ...

    @property
    def report_metric(self) -> str:
        """What tables show for the cell a search returns, e.g. "cifar10 ori-test"."""
        ...

    @property
    def optimum(self) -> float | None:
        """The best report metric over the space, where known (regret is measured to it)."""
        ...

    def report(self, arch: Any) -> float | None:
        """The report metric of `arch` from the benchmark's own truth; None without one."""
        ...

    def describe(self) -> str:
        """One line for `harness list`."""
        ...

    def manifest(self) -> dict[str, Any]:
        """What identifies the truth this benchmark used (release, table file and sha256)."""
        ...

    def configure(self, **settings: Any) -> Benchmark:
        """This benchmark with settings applied (e.g. NB201's `nats_path`); bad ones raise."""
        ...
