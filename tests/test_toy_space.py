"""The core is space-generic: a toy space, benchmarks and proxy registered here (and nowhere in
the harness) go through `run`, `report`, `figures`, `export` and `correlate` unchanged."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.cli import cli
from harness.proxies import PROXIES, Evaluation
from harness.spaces import SPACES
from harness.spaces.base import Categorical, Params, ParamSpace

LEVELS = ("lo", "mid", "hi")
N_PARAMS = 4


@dataclass(frozen=True)
class ToyArch:
    levels: tuple[str, ...]


class ToySpace:
    """81 architectures; the order of the first two parameters does not matter (isomorphism)."""

    name = "toy-space"
    param_space = ParamSpace(tuple(Categorical(f"p{i}", LEVELS) for i in range(N_PARAMS)))
    scale_keys: tuple[str, ...] = ("width",)

    def parse(self, text: str) -> ToyArch:
        parts = tuple(text.split("-"))
        if len(parts) != N_PARAMS or not set(parts) <= set(LEVELS):
            raise ValueError(f"not a toy architecture: {text!r}")
        return ToyArch(parts)

    def format(self, arch: ToyArch) -> str:
        return "-".join(arch.levels)

    def canonical_key(self, arch: ToyArch) -> str:
        return "-".join([*sorted(arch.levels[:2]), *arch.levels[2:]])

    def sample(self, rng: np.random.Generator) -> ToyArch:
        return self.decode(self.param_space.sample(rng))

    def sample_unique(self, k: int, rng: np.random.Generator) -> list[ToyArch]:
        reps = {}
        for levels in itertools.product(LEVELS, repeat=N_PARAMS):
            arch = ToyArch(levels)
            reps.setdefault(self.canonical_key(arch), arch)
        if not 1 <= k <= len(reps):
            raise ValueError(f"cannot draw {k} unique toy architectures of {len(reps)}")
        keys = sorted(reps)
        return [reps[keys[int(i)]] for i in rng.choice(len(keys), size=k, replace=False)]

    def mutate(self, arch: ToyArch, rng: np.random.Generator) -> ToyArch:
        return self.decode(self.param_space.mutate(self.encode(arch), rng))

    def encode(self, arch: ToyArch) -> Params:
        return {f"p{i}": v for i, v in enumerate(arch.levels)}

    def decode(self, params: Params) -> ToyArch:
        self.param_space.validate(params)
        return ToyArch(tuple(params[f"p{i}"] for i in range(N_PARAMS)))

    def network(self, arch: ToyArch, num_classes: int, **scale: int) -> Any:
        raise NotImplementedError("the toy space has no network")

    def draw(self, ax: Any, arch: ToyArch, **style: Any) -> None:
        ax.axis("off")
        ax.text(0.5, 0.5, self.format(arch), ha="center", transform=ax.transAxes)
        ax.set_title(style.get("title", ""), color=style.get("title_color", "black"))


def _value(arch: ToyArch) -> float:
    return float(sum(LEVELS.index(v) * (i + 1) for i, v in enumerate(arch.levels)))


@dataclass(frozen=True)
class ToyBenchmark:
    """With a table (`truth_source` table: truth and a lookup), or without (`training`)."""

    name: str
    truth_source: Any
    space: str = "toy-space"
    dataset: str = "toy"
    n_classes: int = 2
    train_images: int = 100

    @property
    def search_metric(self) -> str:
        return "toy search value"

    @property
    def report_metric(self) -> str:
        return "toy report value"

    @property
    def optimum(self) -> float | None:
        return 80.0 + 2 * 10 if self.truth_source == "table" else None

    def report(self, arch: ToyArch) -> float | None:
        return 80.0 + _value(arch) if self.truth_source == "table" else None

    def lookup(self, arch: ToyArch, epochs: int, seed: int) -> tuple[float, float]:
        return _value(arch), 10.0

    def describe(self) -> str:
        return f"toy benchmark ({self.truth_source})"

    def manifest(self) -> dict[str, Any]:
        return {"release": "toy v1"}

    def configure(self, **settings: Any) -> ToyBenchmark:
        return replace(self)


@dataclass
class ToyProxy:
    """A computed (not looked-up) label-free proxy: the toy value seen through seeded noise."""

    name: str = "toy-proxy"
    direction: Any = "maximize"
    deterministic: bool = False
    needs_table: bool = False

    def settings(self) -> dict[str, Any]:
        return {"noise": 1.0}

    def evaluate(self, arch: ToyArch, benchmark: Any, seed: int) -> Evaluation:
        rng = np.random.default_rng([seed, *(LEVELS.index(v) for v in arch.levels)])
        return Evaluation(score=_value(arch) + float(rng.normal()), direction=self.direction)


def _toy_proxy(**settings: Any) -> ToyProxy:
    if set(settings) - {"noise", "profile"}:
        raise HarnessError(f"toy-proxy has no setting(s) {sorted(settings)}")
    return ToyProxy()


@pytest.fixture
def toy() -> Iterator[None]:
    added = [
        (SPACES, "toy-space", ToySpace()),
        (BENCHMARKS, "toy-table", ToyBenchmark("toy-table", "table")),
        (BENCHMARKS, "toy-open", ToyBenchmark("toy-open", "training")),
        (PROXIES, "toy-proxy", _toy_proxy),
    ]
    for registry, name, item in added:
        registry.register(name, item)  # type: ignore[arg-type]
    yield
    for registry, name, _ in added:
        registry.unregister(name)


def _invoke(args: list[str]) -> Any:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_run_report_figures_export_with_a_table(toy: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'toy.db'}"
    common = ["--seeds", "3", "--trials", "12", "--storage", url, "--quiet"]
    _invoke(["run", "--method", "random,rea,tpe", "--benchmark", "toy-table", *common])
    frame = pd.read_csv(pd.io.common.StringIO(_invoke(["export", "--storage", url]).output))
    assert len(frame) == 3 * 3 * 12 and set(frame["space"]) == {"toy-space"}
    # truth is the toy table's, regret against its optimum
    last = frame.sort_values("number").groupby("run_id").tail(1)
    arch = ToySpace().parse(last["best_arch"].iloc[0])
    assert last["best_truth"].iloc[0] == 80.0 + _value(arch)
    assert last["regret"].iloc[0] == pytest.approx(100.0 - last["best_truth"].iloc[0])
    report = _invoke(["report", "--storage", url, "--format", "csv", "--table", "summary"])
    summary = pd.read_csv(pd.io.common.StringIO(report.output))
    assert set(summary["report_source"]) == {"table"} and summary["test_acc_mean"].notna().all()
    out = tmp_path / "figs"
    _invoke(["figures", "--storage", url, "--out", str(out)])
    assert (out / "anytime_evaluations.png").exists() and (out / "found_cells.png").exists()


def test_open_benchmark_stores_null_truth_and_reports_pending(toy: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'toy.db'}"
    common = ["--seeds", "2", "--trials", "8", "--storage", url, "--quiet"]
    _invoke(["run", "--method", "tpe", "--proxy", "toy-proxy", "--benchmark", "toy-open", *common])
    frame = pd.read_csv(pd.io.common.StringIO(_invoke(["export", "--storage", url]).output))
    assert len(frame) == 16
    assert frame["truth"].isna().all() and frame["regret"].isna().all()
    assert frame["best_score"].notna().all() and set(frame["truth_source"]) == {"training"}
    report = _invoke(["report", "--storage", url, "--format", "csv", "--table", "summary"])
    summary = pd.read_csv(pd.io.common.StringIO(report.output))
    row = summary.iloc[0]
    assert math.isnan(row["test_acc_mean"]) and row["report_source"] == "pending"
    assert row["proxy_score_mean"] == pytest.approx(
        frame.sort_values("number").groupby("run_id")["best_score"].last().mean()
    )
    returned = _invoke(["report", "--storage", url, "--format", "csv", "--table", "returned"])
    cells = pd.read_csv(pd.io.common.StringIO(returned.output))
    final = frame.sort_values("number").groupby("run_id").tail(1).set_index("run_id")
    assert len(cells) == 2 and (cells["report_source"] == "pending").all()
    for row in cells.itertuples():
        assert row.returned_arch == final.loc[row.run_id, "best_arch"]
        assert row.proxy_score == pytest.approx(final.loc[row.run_id, "best_score"])
    full = _invoke(["report", "--storage", url, "--format", "csv"]).output
    assert "# returned" in full  # shown by default where the report metric is pending
    out = tmp_path / "figs"
    _invoke(["figures", "--storage", url, "--out", str(out)])
    assert (out / "anytime_evaluations.png").exists() and (out / "found_cells.png").exists()
    assert not (out / "rank_vs_budget.png").exists()  # no truth: no ranks of truth


def test_evaluated_returned_cell_fills_the_report_metric(toy: None, tmp_path: Path) -> None:
    from harness.store import open_store

    url = f"sqlite:///{tmp_path / 'toy.db'}"
    args = ["--seeds", "1", "--trials", "5", "--storage", url, "--quiet"]
    _invoke(["run", "--method", "tpe", "--proxy", "toy-proxy", "--benchmark", "toy-open", *args])
    store = open_store(url, create=False)
    run = store.runs()[0]
    returned = store.trials(run["run_id"])[-1]["best_arch"]
    store.start_cell_evaluation(
        dict(
            eval_id="e1",
            run_id=run["run_id"],
            benchmark="toy-open",
            arch=returned,
            arch_key=returned,
            protocol="toy-protocol",
            settings={"epochs": 1},
            seed=0,
            manifest={},
        )
    )
    store.finish_cell_evaluation("e1", "done", test_acc=91.5, params=10, curve=[{"epoch": 1}])
    store.close()
    report = _invoke(["report", "--storage", url, "--format", "csv", "--table", "summary"])
    row = pd.read_csv(pd.io.common.StringIO(report.output)).iloc[0]
    assert row["test_acc_mean"] == 91.5 and row["report_source"] == "trained (toy-protocol)"


def test_lookup_proxies_refuse_a_benchmark_without_table(toy: None, tmp_path: Path) -> None:
    from harness.runner import make_plan

    with pytest.raises(HarnessError, match="toy-open has none"):
        make_plan(["tpe"], ["toy-open"], seeds=1, trials=3)


def test_correlate_on_the_toy_space_resumes_from_its_store(toy: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    args = ["correlate", "--proxy", "toy-proxy", "--benchmark", "toy-table", "--sample", "20"]
    args += ["--seeds", "2", "--resamples", "50", "--storage", url, "--out", str(tmp_path)]
    first = _invoke(args)
    cells = pd.read_csv(tmp_path / "cells.csv")
    assert len(cells) == 40 and cells["arch_key"].nunique() == 20
    summary = pd.read_csv(tmp_path / "summary.csv").iloc[0]
    assert summary["seeds"] == 2 and summary["spearman_rho"] > 0.8  # noise 1 vs spread ~20
    second = _invoke(args)  # every evaluation served from the store: identical output
    assert first.output == second.output
    from harness.store import open_store

    store = open_store(url, create=False)
    assert store.counts()["evaluations"] == 40
    store.close()
    with pytest.raises(HarnessError, match="has none"):
        CliRunner().invoke(
            cli, ["correlate", "--proxy", "toy-proxy", "--benchmark", "toy-open"],
            catch_exceptions=False,
        )  # fmt: skip


def test_manifest_names_the_space_and_truth_source(toy: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'toy.db'}"
    args = ["--seeds", "1", "--trials", "2", "--storage", url, "--quiet"]
    _invoke(["run", "--method", "random", "--benchmark", "toy-table", *args])
    manifests = json.loads(_invoke(["export", "--storage", url, "--manifests"]).output)
    bench = manifests[0]["benchmark"]
    assert bench["space"] == "toy-space" and bench["truth_source"] == "table"
    assert bench["release"] == "toy v1" and bench["optimum"] == 100.0
