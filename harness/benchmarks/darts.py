"""DARTS-space benchmarks: open spaces, with a partial table of real training for CIFAR-10.

A search hands strategies the proxy's own score (no benchmark metric exists to look up), and
the report metric of the returned genotype comes from `harness evaluate` training it under
DARTS's evaluation protocol (`cnn/train.py`: C=36, 20 cells, auxiliary head, cutout, drop-path
0.2, 600 epochs). `configure(encoding=...)` picks the space strategies search over: `node`
(space `darts`, unbiased) or `edge` (space `darts-edge`, the CSNAS authors' encoding).

`darts-cifar10` also ships a partial table (`harness/assets/darts214.npz`, see the assets
README): 214 cells trained by Yang et al. 2020 ("NAS evaluation is frustratingly hard") with
that same protocol, one seed each, CIFAR-10 test accuracy after the 600th epoch. `report`
answers from it for those cells (matched by canonical key) and None elsewhere; `truth_cells`
lists them for `harness correlate`; `reference_pairs` gives the set's own noise ceiling (24
cells trained twice) and depth gap (32 cells trained at 8 and 20 cells).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness import HarnessError
from harness.assets import ASSETS
from harness.benchmarks.base import TruthSource

_SPACE_OF_ENCODING = {"node": "darts", "edge": "darts-edge"}
REPORT_PROTOCOL = "DARTS cnn/train.py: C=36, 20 cells, auxiliary 0.4, cutout 16, drop-path 0.2"
DARTS214 = ASSETS / "darts214.npz"
#: how a report from the shipped table is named beside `trained (darts)` from `harness evaluate`
TABLE_SOURCE = "Yang et al. 2020, 600 epochs"
#: the set's own reference correlations: name -> (npz array, what the two columns are)
REFERENCE_PAIRS: dict[str, tuple[str, str]] = {
    "noise ceiling": ("seed_pairs", "24 cells trained twice, different seeds"),
    "depth gap": ("depth_pairs", "32 cells trained at 8 and at 20 cells"),
}


@dataclass(frozen=True)
class PartialTable:
    """The shipped truth: final-epoch accuracy by canonical key, in the source's row order."""

    path: Path
    sha256: str
    genotypes: tuple[str, ...]
    accuracy: dict[str, float]
    pairs: dict[str, np.ndarray]


@lru_cache(maxsize=4)
def load_table(path: str) -> PartialTable:
    from harness.identity import file_sha256

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as err:
        raise HarnessError(f"cannot read the DARTS table {path}: {err}") from None
    keys = [str(k) for k in arrays["key"]]
    return PartialTable(
        path=Path(path),
        sha256=file_sha256(path),
        genotypes=tuple(str(g) for g in arrays["genotype"]),
        accuracy=dict(zip(keys, (float(a) for a in arrays["test_acc_final"]))),
        pairs={name: arrays[array] for name, (array, _) in REFERENCE_PAIRS.items()},
    )


@dataclass
class DartsBenchmark:
    name: str
    dataset: str
    n_classes: int
    space: str = "darts"
    truth_source: TruthSource = "training"
    #: the partial table of trained cells, or None (no cell has truth before `evaluate`)
    table_path: Path | None = None

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
    def table(self) -> PartialTable | None:
        return None if self.table_path is None else load_table(str(self.table_path))

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
        """The table's final-epoch accuracy for a cell it holds (any genotype with the same
        canonical key); None elsewhere: those need `harness evaluate`."""
        table = self.table
        if table is None:
            return None
        from harness.spaces import SPACES

        space = SPACES.get(self.space)
        genotype = space.parse(arch) if isinstance(arch, str) else arch
        return table.accuracy.get(space.canonical_key(genotype))

    def truth_cells(self) -> list[Any]:
        """The genotypes that have truth, in the table's row order (empty without a table)."""
        from harness.spaces import SPACES

        space = SPACES.get(self.space)
        table = self.table
        return [] if table is None else [space.parse(g) for g in table.genotypes]

    def reference_pairs(self) -> dict[str, tuple[np.ndarray, str]]:
        """name -> ((n, 2) accuracies of the same cells trained twice, what differs)."""
        table = self.table
        if table is None:
            return {}
        return {name: (table.pairs[name], what) for name, (_, what) in REFERENCE_PAIRS.items()}

    def manifest(self) -> dict[str, Any]:
        table = self.table
        return {
            "truth": "training",
            "dataset": self.dataset,
            "space": self.space,
            "encoding": self.encoding,
            "report_protocol": REPORT_PROTOCOL,
            **(
                {}
                if table is None
                else {
                    "table": str(table.path),
                    "table_source": TABLE_SOURCE,
                    "table_cells": len(table.accuracy),
                    "table_sha256": table.sha256,
                }
            ),
        }

    def describe(self) -> str:
        text = (
            f"DARTS cell space on {self.dataset} ({self.encoding} encoding); report metric from "
            "training the found cell for 600 epochs"
        )
        table = self.table
        if table is None:
            return text + "; no table"
        return (
            text + f"; partial table: {len(table.accuracy)} cells trained with that protocol "
            f"({TABLE_SOURCE}), every other cell has no truth until `harness evaluate`"
        )


DARTS_BENCHMARKS = (
    DartsBenchmark(name="darts-cifar10", dataset="cifar10", n_classes=10, table_path=DARTS214),
    DartsBenchmark(name="darts-cifar100", dataset="cifar100", n_classes=100),
)
