"""Results in context (issue 27): every summary places a benchmark with a table against its
optimum, the share of its cells better than each returned cell, and the committed tracks'
rows at the same budget, shipped as package data; never mixed with the store's own rows.

One small real store: random and rea on nb201-cifar10 at the committed tracks' budget (100
trials, 2 seeds: lookups, about 2 s), and a synflow search on darts-cifar100 (no table).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import harness as cli

import harness
from harness import api
from harness.report.context import REFERENCE_ROWS, reference_rows, reference_rows_from

REPO = Path(__file__).resolve().parents[1]


def test_shipped_reference_rows_equal_the_committed_results() -> None:
    """The package's rows are what results/reference/'s summaries give: they cannot drift."""
    expected = reference_rows_from(REPO / "results" / "reference")
    assert REFERENCE_ROWS.read_text() == expected.to_csv(index=False, lineterminator="\n")
    rows = reference_rows()
    c10 = rows[(rows["benchmark"] == "nb201-cifar10") & (rows["track"] == "proxy track")]
    assert c10.set_index("method").loc["random", "test_acc_mean"] == pytest.approx(93.7225)
    assert set(rows["track"]) == {"lookup track", "proxy track"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from harness.cli import main

    url = f"sqlite:///{tmp_path_factory.mktemp('context') / 'c.db'}"
    with contextlib.redirect_stdout(io.StringIO()):  # not in the first test's captured output
        main(["run", "--method", "random,rea", "--seeds", "2", "--trials", "100", "--storage",
              url, "--quiet"])  # fmt: skip
        main(["run", "--method", "synflow-tpe", "--benchmark", "darts-cifar100", "--seeds", "1",
              "--trials", "2", "--storage", url, "--quiet"])  # fmt: skip
    return url


def test_terminal_summary_in_context(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "report", "--storage", store, "--table", "summary")
    assert code == 0, err
    lines = out.splitlines()
    # fits a terminal (the `harness evaluate` command a pending run's hint prints is one line)
    assert max(len(ln) for ln in lines if not ln.lstrip().startswith("harness ")) <= 100
    block = out[out.index("nb201-cifar10:") :]
    mine, refs = block.split("reference rows, not run here", 1)
    assert "the committed proxy track at 100 trials" in refs
    ref_rows = [ln.split()[0] for ln in refs.splitlines() if ln.endswith("-       -")]
    assert ref_rows == ["random", "rea", "meco-rea"]  # random, rea, the best label-free
    assert "*" in mine and "*" not in refs.split("optimum")[0]  # never starred
    assert "optimum 94.37: the best of the 15,625 NB201 cells" in out
    assert "random's returned cells are worse than" in out
    assert "darts-cifar100 has no table: no optimum, cell percentile or reference rows" in out
    readings = [ln for ln in lines if ln.startswith("Reading: ")]
    assert [r.split(":")[1].strip() for r in readings] == ["random", "rea"]  # none for darts
    flat = " ".join(out.split())
    assert (
        "random search at the same budget reaches 93.72 (committed proxy track, 10 seeds)" in flat
    )


def test_run_ends_with_the_reading(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The summary `harness run` closes with (every run found complete: nothing rerun)."""
    code, out, err = cli(capsys, "run", "--method", "random,rea", "--seeds", "2", "--trials",
                         "100", "--storage", store)  # fmt: skip
    assert code == 0, err
    tail = out.strip().split("\n\n")[-1]
    assert tail.startswith("Reading: random: ") and "\nReading: rea: " in tail, tail
    flat = " ".join(tail.split())
    assert "points lower" in flat or "points higher" in flat or "the same" in flat
    assert "its cells are worse than" in flat and tail.endswith(").")


def test_markdown_and_csv_hold_the_context(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, md, err = cli(capsys, "report", "--storage", store, "--format", "md")
    assert code == 0, err
    assert "| nb201-cifar10 | random | reference: proxy track | 100 | 10 |" in md
    assert "| nb201-cifar10 | random | this store | 100 | 2 |" in md
    assert "darts-cifar100 has no table" in md
    assert "rea: " in md and "points" in md  # the readings, in the context caption
    code, csv, err = cli(capsys, "report", "--storage", store, "--format", "csv")
    blocks = csv.strip().split("\n\n")
    summary = pd.read_csv(io.StringIO(blocks[0]))
    assert "row" not in summary.columns and set(summary["method"]) == {
        "random",
        "rea",
        "synflow-tpe",
    }
    context = next(b for b in blocks if b.startswith("# context"))
    frame = pd.read_csv(io.StringIO(context.split("\n", 1)[1]))
    assert set(frame["row"]) == {"this store", "reference: proxy track"}
    assert frame["benchmark"].eq("nb201-cifar10").all()  # darts-cifar100: none
    own = frame[frame["row"] == "this store"]
    assert own["worse_than_pct"].between(0, 100).all() and own["cells"].eq(15625).all()
    # reference rows stay out of the store's paired tests and ranks
    for name in ("compare", "ranks"):
        block = next(b for b in blocks if b.startswith(f"# {name}"))
        assert "meco-rea" not in block and "reference" not in block


def test_api_summary_and_report(store: str) -> None:
    summary = harness.summary(store)
    own = summary[summary["row"] == "this store"]
    refs = summary[summary["row"] != "this store"]
    assert sorted(own["method"]) == ["random", "rea", "synflow-tpe"]
    assert list(refs["method"]) == ["random", "rea", "meco-rea"]
    assert set(refs["row"]) == {"reference: proxy track"} and not refs["best"].any()
    assert (refs["evaluations_mean"] == 100).all() and (refs["n_seeds"] == 10).all()
    c10 = own[own["benchmark"] == "nb201-cifar10"]
    assert c10["optimum"].round(2).eq(94.37).all() and c10["worse_than_pct"].notna().all()
    darts = own[own["benchmark"] == "darts-cifar100"]
    assert darts["optimum"].isna().all() and darts["worse_than_pct"].isna().all()
    text = api.report(store, "md")
    assert "reference: proxy track" in text and "darts-cifar100 has no table" in text


def test_html_page_leads_with_the_reading(store: str, tmp_path: Path) -> None:
    page = api.report(store, "html", out=tmp_path / "p.html")
    found = page.index('<section id="found">')
    assert found < page.index('id="fig-anytime_evaluations"') < page.index('id="T_summary"')
    assert "random search at the same budget reaches 93.72" in page[found:]
    assert "darts-cifar100 has no table" in page[found : page.index('id="T_summary"')]
    assert "<figcaption>Anytime performance: the report metric" in page
    assert "<figcaption>anytime_" not in page and 'alt="anytime_' not in page


def test_no_reference_rows_at_another_budget(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, err = cli(capsys, "run", "--method", "random", "--seeds", "1", "--trials", "20",
                         "--storage", url, "--quiet")  # fmt: skip
    assert code == 0, err
    assert "reference rows, not run here" not in out
    assert "no committed reference rows at 20 trials" in out
    assert "no committed random search at 20 trials" in " ".join(out.split())
    assert harness.summary(url)["row"].tolist() == ["this store"]
