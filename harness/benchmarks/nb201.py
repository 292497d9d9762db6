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

from dataclasses import dataclass

import numpy as np

from harness.benchmarks.table import NB201Table, load_table
from harness.spaces.nb201 import NB201Cell, NB201Space

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
    release: str = "NAS-Bench-201 v1.1"
    table_path: str | None = None

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
        return float(self.table[self.report_column][self.index(arch)])

    def search_value(self, arch: NB201Cell, epochs: int) -> float:
        return float(self.table[f"{self.search_column}_{epochs}"][self.index(arch)])

    def train_seconds(self, arch: NB201Cell, epochs: int) -> float:
        per_epoch = self.table["nats_c10valid_train_time_per_epoch_s_200"][self.index(arch)]
        return float(per_epoch * self.time_factor * epochs)

    @property
    def optimum(self) -> float:
        return float(np.max(self.table[self.report_column]))

    def regret(self, report_value: float) -> float:
        return self.optimum - report_value

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
