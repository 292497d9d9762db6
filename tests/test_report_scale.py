"""Reports read each run's incumbent rows, not every trial: the same numbers, bounded memory.

The store's incumbent frame (`Store.trials_frame(incumbents=True)`) keeps the rows where a
run's incumbent changes plus its aggregates; every table, figure and the HTML page must be
identical to those computed from every row, on a store with failed, cached, budget-cut and
reduced-scale (trained) trials, across query batches. Exports stream a batch of runs at a time
and must equal the whole frame rendered at once.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from harness.report.results import Results, read_store
from harness.store import frames, open_store

SMOKE = ["--profile", "smoke", "--quiet"]
EVAL = [*SMOKE, "--threads", "1"]


@dataclass
class Flaky:
    """Fails on cells whose first op is none or avg_pool: failed trials in the store."""

    name: str = "flaky"
    direction: str = "minimize"
    deterministic: bool = True

    def settings(self) -> dict:
        return {}

    def evaluate(self, arch, benchmark, seed):
        from harness.proxies import Evaluation

        if arch.ops[0] in ("none", "avg_pool_3x3"):
            return Evaluation.failed("minimize", "loss is nan")
        return Evaluation(score=float(sum(arch.codes)), direction="minimize", wall_s=0.01)


def _fill(url: str) -> None:
    """Lookups of three strategies, budget-cut runs of several lengths, failed trials, cached
    trials (a rerun with a longer budget hits the cache) and a cell trained at smoke scale."""
    from harness.cli import main

    main(["run", "--method", "random,rea,tpe", "--benchmark", "nb201-cifar10,nb201-cifar100",
          "--seeds", "3", "--trials", "15", "--storage", url, "--quiet"])  # fmt: skip
    main(["run", "--method", "rea", "--benchmark", "nb201-imagenet16", "--seeds", "3",
          "--trials", "40", "--budget-seconds", "9000", "--storage", url, "--quiet"])  # fmt: skip
    main(["run", "--strategy", "tpe-hyperopt", "--proxy", "flaky", "--benchmark", "nb201-imagenet16",
          "--seeds", "2", "--trials", "25", "--storage", url, "--quiet"])  # fmt: skip
    for n in ("3", "5"):
        main(["run", "--method", "csnas", "--benchmark", "nb201-cifar10", "--seeds", "1",
              "--trials", n, "--storage", url, *SMOKE])  # fmt: skip
    main(["run", "--method", "csnas", "--benchmark", "darts-cifar10", "--seeds", "1",
          "--trials", "2", "--storage", url, *SMOKE])  # fmt: skip
    main(["evaluate", "--method", "csnas", "--benchmark", "darts-cifar10", "--storage", url,
          *EVAL])  # fmt: skip


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from harness.proxies import PROXIES

    url = f"sqlite:///{tmp_path_factory.mktemp('scale') / 'mixed.db'}"
    PROXIES.register("flaky", lambda **kw: Flaky())
    try:
        _fill(url)
    finally:
        PROXIES.unregister("flaky")
    return url


def _read(url: str, incumbents: bool) -> Results:
    store = open_store(url, create=False)
    try:
        return read_store(store, incumbents=incumbents)
    finally:
        store.close()


def _both(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Results, Results]:
    monkeypatch.setattr(frames, "BATCH_RUNS", 4)  # several query batches
    return _read(url, True), _read(url, False)


def test_the_incumbent_rows_keep_few_rows_and_every_run(mixed_store, monkeypatch) -> None:
    inc, full = _both(mixed_store, monkeypatch)
    t, f = inc.trials, full.trials
    assert set(t["run_id"]) == set(f["run_id"]) and len(t) < len(f) / 2
    assert (f["status"] == "failed").any() and f["cached"].any()  # the store has both
    last = f.groupby("run_id").tail(1).set_index("run_id").sort_index()
    kept = t.groupby("run_id").tail(1).set_index("run_id").sort_index()
    pd.testing.assert_frame_equal(kept[last.columns], last)  # each run's answer, row for row
    g = f.groupby("run_id")
    assert kept["run_trials"].tolist() == g.size().sort_index().tolist()
    assert kept["run_labels_used"].tolist() == g["labels_used"].max().sort_index().tolist()
    share = g["cached"].mean().sort_index().to_numpy()
    assert kept["run_cached_share"].to_numpy() == pytest.approx(share, abs=1e-12)
    assert len(set(g.size())) > 2  # budget-cut runs of several lengths


@pytest.mark.parametrize("fmt", ["table", "md", "csv", "latex"])
def test_every_table_is_the_same_from_incumbent_rows(mixed_store, monkeypatch, fmt) -> None:
    from harness.report.sections import report_text

    inc, full = _both(mixed_store, monkeypatch)
    assert report_text(inc, fmt) == report_text(full, fmt)


def test_figures_and_the_page_are_the_same_from_incumbent_rows(mixed_store, monkeypatch) -> None:
    from harness.report.figures import svg_figures
    from harness.report.html import study_page

    inc, full = _both(mixed_store, monkeypatch)
    a = svg_figures(inc.trials, None, 0, inc.evaluations)
    b = svg_figures(full.trials, None, 0, full.evaluations)
    assert [n for n, _, _ in a] == [n for n, _, _ in b]
    for (name, svg_a, why_a), (_, svg_b, why_b) in zip(a, b):
        assert (svg_a, why_a) == (svg_b, why_b), name
    assert study_page(inc) == study_page(full)


def test_curves_are_drawn_at_a_fixed_resolution_beyond_it() -> None:
    """A run longer than EVALUATION_POINTS is drawn at that many evaluation counts, each the
    incumbent of the last row at or before it; shorter ones at every count."""
    from harness.report.figures import EVALUATION_POINTS, curves_by_evaluations, evaluation_grid

    n = 3 * EVALUATION_POINTS + 7
    rng = np.random.default_rng(0)
    truth = np.maximum.accumulate(rng.normal(size=n))
    runs = pd.DataFrame({"run_id": "r", "number": np.arange(n), "best_truth": truth})
    grid = evaluation_grid(n)
    assert len(grid) == EVALUATION_POINTS and grid[0] == 0 and grid[-1] == n - 1
    curves = curves_by_evaluations(runs, grid=grid)
    assert curves.shape == (1, EVALUATION_POINTS)
    assert curves[0].tolist() == truth[grid].tolist()
    assert evaluation_grid(50).tolist() == list(range(50))
    # rows where nothing changed may be absent: the same curve from the changes alone
    changes = runs[np.r_[True, np.diff(truth) != 0]]
    assert curves_by_evaluations(changes, grid=grid).tolist() == curves.tolist()


def test_exports_stream_the_whole_frame_text(mixed_store, monkeypatch) -> None:
    from harness.cli.report import export_text

    monkeypatch.setattr(frames, "BATCH_RUNS", 3)
    full = _read(mixed_store, False)
    whole = full.trials
    assert export_text(mixed_store, "csv", "trials") == whole.to_csv(index=False)
    streamed = json.loads(export_text(mixed_store, "json", "trials"))
    assert streamed == json.loads(whole.to_json(orient="records"))
    store = open_store(mixed_store, create=False)
    manifests = [r["manifest"] for r in store.runs()]
    store.close()
    expected = json.dumps(manifests, indent=1, sort_keys=True, default=str)
    assert export_text(mixed_store, "json", "manifests") == expected
    back = pd.read_csv(io.StringIO(export_text(mixed_store, "csv", "trials")))
    assert len(back) == len(whole) and back["run_id"].nunique() > 3 * 3


@pytest.mark.slow
def test_postgres_incumbent_rows_equal_sqlites(postgres_url, tmp_path) -> None:
    """The incumbent query in PostgreSQL's dialect (IS DISTINCT FROM, numeric averages) keeps
    the same rows and aggregates as SQLite's on the same runs."""
    from harness.cli import main
    from harness.proxies import PROXIES

    lite = f"sqlite:///{tmp_path / 'lite.db'}"
    PROXIES.register("flaky", lambda **kw: Flaky())
    try:
        for url in (lite, postgres_url):
            main(["run", "--method", "random,rea", "--benchmark", "nb201-cifar10", "--seeds",
                  "2", "--trials", "12", "--storage", url, "--quiet"])  # fmt: skip
            main(["run", "--strategy", "tpe-hyperopt", "--proxy", "flaky", "--benchmark",
                  "nb201-imagenet16", "--seeds", "1", "--trials", "20", "--storage", url,
                  "--quiet"])  # fmt: skip
    finally:
        PROXIES.unregister("flaky")
    columns = ["run_id", "number", "best_arch", "best_score", "regret", *frames.RUN_AGGREGATES]
    rows = [_read(url, True).trials[columns] for url in (lite, postgres_url)]
    pd.testing.assert_frame_equal(rows[0], rows[1], check_dtype=False)


def test_the_page_shows_a_bounded_number_of_rows_per_table() -> None:
    """A table with a row per run (returned cells on an open space) would grow the page with
    the store: it shows PAGE_ROWS rows and the command that gives them all."""
    from harness.report.html import PAGE_ROWS, _section
    from harness.report.sections import Section

    rows = pd.DataFrame({"run_id": [f"r{i}" for i in range(PAGE_ROWS + 50)], "x": 1.0})
    shown = _section(Section("returned", "Returned cells", rows, "caption"))
    assert shown["html"].count("<tr") == PAGE_ROWS + 1  # and the header row
    assert f"The first {PAGE_ROWS} of {PAGE_ROWS + 50:,} rows" in shown["caption"]
    assert "harness report --table returned --format csv" in shown["caption"]
    small = _section(Section("returned", "Returned cells", rows.head(3), "caption"))
    assert small["html"].count("<tr") == 4 and small["caption"] == "caption"


def test_a_band_of_many_runs_equals_the_exact_one_in_bounded_memory(monkeypatch) -> None:
    """Beyond BAND_EXACT_ELEMENTS the band's resampled means come from draw counts: the same
    band up to float rounding (NaN where no drawn run has a value, as nanmean gives)."""
    from harness.report import stats

    rng = np.random.default_rng(1)
    curves = rng.normal(size=(60, 40))
    curves[:5, :3] = np.nan  # runs without an answer yet
    curves[:, 0] = np.nan  # no run has one at the first point
    exact = stats.bootstrap_band(curves, n_resamples=300, seed=3)
    monkeypatch.setattr(stats, "BAND_EXACT_ELEMENTS", 0)
    counted = stats.bootstrap_band(curves, n_resamples=300, seed=3)
    for a, b in zip(exact, counted):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, equal_nan=True)


def test_a_bootstrap_of_many_seeds_draws_in_batches_to_the_same_interval(monkeypatch) -> None:
    """Thousands of seeds: the bootstrap draws its resamples in batches (bounded memory) from
    the same seeded stream, so the interval is the one drawn all at once."""
    from harness.report import stats

    x = np.random.default_rng(4).normal(size=3000)
    whole = stats.bootstrap_ci(x, n_resamples=999, seed=2)
    monkeypatch.setattr(stats, "BOOTSTRAP_ELEMENTS", 3000 * 50)
    assert stats._batch(3000, 999) == 50
    assert stats.bootstrap_ci(x, n_resamples=999, seed=2) == whole


def test_reads_cross_query_batches(mixed_store, monkeypatch) -> None:
    """The fixture's runs span several batches once BATCH_RUNS is small (what the equality
    tests above rely on)."""
    monkeypatch.setattr(frames, "BATCH_RUNS", 4)
    store = open_store(mixed_store, create=False)
    try:
        n_runs = len(store.runs())
        assert n_runs > 3 * 4
        assert len(list(store.iter_trials_frames(incumbents=True))) == -(-n_runs // 4)
        assert len(list(store.iter_runs())) == n_runs
    finally:
        store.close()


def test_finished_runs_read_from_their_summaries_equal_their_trials(
    mixed_store, monkeypatch, tmp_path
) -> None:
    """A finished run's stored summary (kept rows, aggregates) and report head give the frame
    its trials and manifest give: with every run summarized, none, and half."""
    import shutil
    import sqlite3

    monkeypatch.setattr(frames, "BATCH_RUNS", 4)
    monkeypatch.setattr(frames, "PAIRS", 5)  # several primary-key queries per batch
    path = tmp_path / "copy.db"
    shutil.copy(mixed_store.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    con = sqlite3.connect(path)
    n_runs, summarized, heads = con.execute(
        "SELECT count(*), count(summary), count(report_head) FROM runs"
    ).fetchone()
    assert summarized == heads == n_runs  # every run of the fixture finished
    stored = _read(url, True)
    con.execute("UPDATE runs SET summary = NULL, report_head = NULL WHERE rowid % 2 = 0")
    con.commit()
    half = _read(url, True)
    con.execute("UPDATE runs SET summary = NULL, report_head = NULL")
    con.commit()
    scanned = _read(url, True)
    con.close()
    pd.testing.assert_frame_equal(stored.trials, scanned.trials)
    pd.testing.assert_frame_equal(half.trials, scanned.trials)
    assert stored.manifests == scanned.manifests
