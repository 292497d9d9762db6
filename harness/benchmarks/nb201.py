"""NAS-Bench-201 benchmarks: ground truth for the NB201 space on one dataset.

Each benchmark names both metrics: the search metric (x-valid accuracy; `cifar10-valid` for
CIFAR-10) that lookup proxies hand to strategies, and the report metric (200-epoch test
accuracy; `cifar10` ori-test, `x-test` otherwise) that tables show. One release throughout:
NAS-Bench-201 v1.1.

Simulated training cost: the table only has NATS-Bench cifar10-valid training seconds per epoch
(25k 32x32 images). Other datasets scale that time by images per epoch and pixels per image:
CIFAR-100 x2 (50k 32x32), ImageNet16-120 x151,700/25,000/4 (16x16 images, a quarter the pixels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from harness import HarnessError
from harness.benchmarks.base import TruthSource
from harness.benchmarks.table import NB201Table, load_table, reload_if_changed
from harness.spaces.nb201 import NB201Cell, NB201Space

if TYPE_CHECKING:
    from harness.benchmarks.nats import NatsSource

_SPACE = NB201Space()


@dataclass(frozen=True)
class NB201Benchmark:
    name: str
    dataset: str
    prefix: str  # table column prefix
    search_split: str  # the split lookup proxies report (named in every table)
    report_split: str
    search_column: str  # '{prefix}..._{epochs}' without the epoch suffix
    report_column: str
    train_images: int  # labeled images the benchmark trains each cell on for the search metric
    time_factor: float  # training seconds relative to NATS cifar10-valid (25k 32x32 images)
    n_classes: int
    space: str = "nb201"
    truth_source: TruthSource = "table"
    #: official NATS-Bench tss files: search and report lookups then go through `nats_bench`
    nats_path: str | None = None
    #: "mean" over recorded training seeds, or one "sample"d seed (seeded), NATS only
    nats_trial: str = "mean"
    table_path: str | None = None

    def configure(self, **settings: Any) -> NB201Benchmark:
        """This benchmark with its lookups sent through the official NATS-Bench files
        (settings: nats_path, nats_trial), or read from another table file (table)."""
        from harness.benchmarks.nats import TRIAL_MODES

        unknown = sorted(set(settings) - {"nats_path", "nats_trial", "table"})
        if unknown:
            raise HarnessError(
                f"unknown setting {unknown[0]!r} for {self.name} (nats_path, nats_trial, table)"
            )
        nats_path = settings.get("nats_path")
        nats_trial = str(settings.get("nats_trial", "mean"))

        if nats_trial not in TRIAL_MODES:
            raise HarnessError(f"unknown NATS trial mode {nats_trial!r} (modes: mean, sample)")
        table = settings.get("table", self.table_path)
        configured = replace(self, nats_path=nats_path, nats_trial=nats_trial, table_path=table)
        if table is not None:
            reload_if_changed(table)  # fail now on a missing or malformed table
        if nats_path:
            configured._nats()  # fail now on missing or unreadable files, not mid-run
        return configured

    @property
    def release(self) -> str:
        return "NATS-Bench tss v1.0" if self.nats_path else "NAS-Bench-201 v1.1"

    def _nats(self) -> NatsSource:
        from harness.benchmarks.nats import nats_source

        assert self.nats_path is not None
        return nats_source(self.nats_path)

    @property
    def table(self) -> NB201Table:
        return load_table(self.table_path)

    @property
    def search_metric(self) -> str:
        return f"{self.search_split} accuracy (%)"

    @property
    def report_metric(self) -> str:
        return f"{self.report_split} accuracy after 200 epochs (%)"

    def index(self, arch: NB201Cell) -> int:
        return _SPACE.index(arch)

    def report(self, arch: NB201Cell) -> float:
        """Ground truth for the found cell: the 200-epoch test accuracy (%)."""
        if self.nats_path:
            return self._nats().report(_SPACE.format(arch), self.prefix)
        return float(self.table[self.report_column][self.index(arch)])

    def lookup(self, arch: NB201Cell, epochs: int, seed: int) -> tuple[float, float]:
        """(search-metric value, simulated training seconds) after `epochs` epochs."""
        if self.nats_path:
            return self._nats().search(
                _SPACE.format(arch), self.prefix, epochs, self.nats_trial, seed
            )
        return self.search_value(arch, epochs), self.train_seconds(arch, epochs)

    def search_value(self, arch: NB201Cell, epochs: int) -> float:
        return float(self.table[f"{self.search_column}_{epochs}"][self.index(arch)])

    def train_seconds(self, arch: NB201Cell, epochs: int) -> float:
        per_epoch = self.table["nats_c10valid_train_time_per_epoch_s_200"][self.index(arch)]
        return float(per_epoch * self.time_factor * epochs)

    @property
    def optimum(self) -> float:
        column = f"nats_{self.prefix}_test_acc_200" if self.nats_path else self.report_column
        return float(np.max(self.table[column]))

    def regret(self, report_value: float) -> float:
        return self.optimum - report_value

    def manifest(self) -> dict[str, Any]:
        table = self.table
        return {
            "release": self.release,
            "table": str(table.path),
            "table_sha256": table.sha256,
            "nats_path": self.nats_path,
            "nats_trial": self.nats_trial if self.nats_path else None,
        }

    def signals(self, arch: NB201Cell) -> dict[str, tuple[float, str]]:
        """The table's own predictors for a cell, as (value, direction): lookup-12, params,
        FLOPs and NASWOT (this dataset's columns, CIFAR-10's where missing; NASWOT is NaN
        for a cell with no path from input to output)."""
        from harness.spaces.nb201 import is_connected

        i = self.index(arch)
        out = {"lookup-12": (self.search_value(arch, 12), "maximize")}
        for key, names in (
            ("params", (f"params_{self.prefix}_M", "params_c10_M")),
            ("flops", (f"flops_{self.prefix}_M", "flops_c10_M")),
            ("naswot-table", (f"naswot_score_{self.prefix}", "naswot_score_c10")),
        ):
            column = next((self.table[n] for n in names if n in self.table.columns), None)
            value = float(column[i]) if column is not None else math.nan
            out[key] = (value, "maximize")
        if not is_connected(arch):
            out["naswot-table"] = (math.nan, "maximize")
        return out

    def describe(self) -> str:
        return f"search on {self.search_split}, report {self.report_split} @200 ep ({self.release})"


NB201_BENCHMARKS = (
    NB201Benchmark(
        name="nb201-cifar10",
        dataset="cifar10",
        prefix="c10",
        search_split="cifar10-valid x-valid",
        report_split="cifar10 ori-test",
        search_column="c10valid_valid_acc",
        report_column="c10_test_acc_200",
        train_images=25_000,
        time_factor=1.0,
        n_classes=10,
    ),
    NB201Benchmark(
        name="nb201-cifar100",
        dataset="cifar100",
        prefix="c100",
        search_split="cifar100 x-valid",
        report_split="cifar100 x-test",
        search_column="c100_valid_acc",
        report_column="c100_test_acc_200",
        train_images=50_000,
        time_factor=2.0,
        n_classes=100,
    ),
    NB201Benchmark(
        name="nb201-imagenet16",
        dataset="ImageNet16-120",
        prefix="img16",
        search_split="ImageNet16-120 x-valid",
        report_split="ImageNet16-120 x-test",
        search_column="img16_valid_acc",
        report_column="img16_test_acc_200",
        train_images=151_700,
        time_factor=151_700 / 25_000 / 4,
        n_classes=120,
    ),
)
