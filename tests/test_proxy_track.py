"""The label-free proxy track's plan: per-benchmark method sets, the dataset's resolution for
the data-free proxies on ImageNet16-120, subsets that keep the committed trials of the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness import HarnessError
from harness.reference import proxy_track, reference_dir
from harness.runner import make_plan


def test_cifar10_runs_are_those_of_the_plain_plan() -> None:
    """Adding benchmarks must not move a committed CIFAR-10 run (same seeds, same settings)."""
    plan = proxy_track.track_plan(benchmarks=["nb201-cifar10"])
    plain = make_plan(proxy_track.CIFAR10_METHODS, ["nb201-cifar10"], seeds=10, master_seed=0)
    assert plan.run_ids == plain.run_ids


def test_other_datasets_take_only_data_free_methods_at_their_resolution() -> None:
    plan = proxy_track.track_plan()
    by_bench: dict[str, set[str]] = {}
    for run in plan.runs:
        by_bench.setdefault(run.benchmark, set()).add(run.method)
        if run.method in ("az-nas-rea", "synflow-tpe", "vkdnw-tpe"):  # Gaussian or ones inputs
            want = 16 if run.benchmark == "nb201-imagenet16" else 32
            assert run.proxy_settings["image_size"] == want
    assert by_bench["nb201-cifar100"] == set(proxy_track.DATA_FREE_METHODS)
    assert by_bench["nb201-imagenet16"] == set(proxy_track.DATA_FREE_METHODS)
    assert "csnas" in by_bench["nb201-cifar10"]
    assert "meco-rea" not in by_bench["nb201-cifar100"]  # MeCo reads a real CIFAR image


def test_a_subset_selects_pairs_the_track_has() -> None:
    plan = proxy_track.track_plan(["az-nas-rea", "csnas"], ["nb201-cifar100", "nb201-cifar10"])
    pairs = {(r.method, r.benchmark) for r in plan.runs}
    assert pairs == {
        ("az-nas-rea", "nb201-cifar100"),
        ("az-nas-rea", "nb201-cifar10"),
        ("csnas", "nb201-cifar10"),
    }
    assert len(plan.runs) == 3 * proxy_track.SEEDS


@pytest.mark.parametrize(
    ("methods", "benchmarks", "message"),
    [
        (["nope"], None, "--methods: 'nope' is not in the track"),
        (None, ["nb201-nope"], "--benchmarks: 'nb201-nope' is not in the track"),
        (["csnas"], ["nb201-cifar100"], "the track has no run with those names"),
    ],
)
def test_bad_selection_is_one_clear_error(
    methods: list[str] | None, benchmarks: list[str] | None, message: str
) -> None:
    with pytest.raises(HarnessError, match=message):
        proxy_track.track_plan(methods, benchmarks)


def test_fresh_pairs_replace_committed_pairs_and_keep_the_rest() -> None:
    committed = pd.DataFrame(
        {
            "method": ["rea", "rea", "csnas"],
            "benchmark": ["nb201-cifar10", "nb201-cifar100", "nb201-cifar10"],
            "value": [1, 2, 3],
        }
    )
    fresh = pd.DataFrame({"method": ["rea"], "benchmark": ["nb201-cifar100"], "value": [9]})
    merged = proxy_track.with_committed(fresh, committed)
    assert sorted(zip(merged["method"], merged["benchmark"], merged["value"])) == [
        ("csnas", "nb201-cifar10", 3),
        ("rea", "nb201-cifar10", 1),
        ("rea", "nb201-cifar100", 9),
    ]
    assert proxy_track.with_committed(fresh, None) is fresh


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--benchmarks", "nb201-nope"], "--benchmarks"),
        (["--methods", "csnas", "--benchmarks", "nb201-imagenet16"], "no run"),
    ],
)
def test_cli_bad_selection_is_one_line_exit_2_and_writes_nothing(
    argv: list[str], names: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli_helpers import harness

    track = reference_dir(Path(__file__).resolve().parents[1]) / proxy_track.FOLDER
    before = {p: p.stat().st_mtime_ns for p in track.rglob("*") if p.is_file()}
    code, _, err = harness(capsys, "reference", "proxy-track", "--checkout", str(track.parents[2]),
                           *argv)  # fmt: skip
    assert code == 2 and names in err and len(err.strip().splitlines()) == 1
    after = {p: p.stat().st_mtime_ns for p in track.rglob("*") if p.is_file()}
    assert after == before


def test_versus_tables_adjust_within_each_benchmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compare-<versus> holds one table per benchmark: the Holm family is one dataset's
    comparisons, so each block equals the table of that benchmark's trials alone."""
    from harness.executors import execute_plan
    from harness.report.sections import report_tables
    from harness.store import open_store

    benches = ["nb201-cifar10", "nb201-cifar100"]
    methods = ["rea", "tpe", "random"]
    plan = make_plan(methods, benches, seeds=6, master_seed=3, trials=8)
    url = f"sqlite:///{tmp_path / 't.db'}"
    execute_plan(plan, url, workers=1)
    store = open_store(url, create=False)
    frame = pd.read_csv(pd.io.common.StringIO(store.trials_frame().to_csv(index=False)))
    store.close()
    monkeypatch.setattr(proxy_track, "VERSUS", ("rea",))
    monkeypatch.setattr(proxy_track, "TRACK", {b: (methods, {}) for b in benches})
    monkeypatch.setattr("harness.report.figures.make_figures", lambda *a, **k: [])
    proxy_track.write(frame, tmp_path / "track")
    text = (tmp_path / "track" / "compare-rea.md").read_text()
    for bench in benches:
        alone = report_tables(frame[frame["benchmark"] == bench], "md", versus="rea",
                              which=("compare",))["compare"]  # fmt: skip
        assert alone in text
    assert text.count("Paired t-test") == len(benches)  # those tables and no pooled one
    experiment = json.loads((tmp_path / "track" / "experiment.json").read_text())
    assert experiment["methods"] == {b: methods for b in benches}
