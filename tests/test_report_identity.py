"""A report row holds runs of one experiment: runs whose identity differs only in the seed
index. Two experiments of one (method, benchmark), interleaved across seeds, are never pooled:
the newest run's experiment (or the selected runs') is kept whole, the other left out in one
note line."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import harness as cli

import harness
from harness import api
from harness.report.frame import one_identity

QUICK = ["--method", "random", "--trials", "5", "--quiet"]


def _run(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> set[str]:
    """Run, and return the run ids it added to the store."""
    before = (
        set(harness.trials(url)["run_id"])
        if Path(url.removeprefix("sqlite:///")).exists()
        else set()
    )
    code, _, err = cli(capsys, "run", *QUICK, "--storage", url, *argv)
    assert code == 0, err
    return set(harness.trials(url)["run_id"]) - before


def _summary(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[pd.DataFrame, str]:
    code, out, err = cli(capsys, "report", "--storage", url, "--format", "csv",
                         "--table", "summary", *argv)  # fmt: skip
    assert code == 0, err
    return pd.read_csv(io.StringIO(out)), err


def _finals(url: str, run_ids: set[str]) -> pd.Series:
    t = harness.trials(url)
    t = t[t["run_id"].isin(run_ids)].sort_values("number")
    return t.groupby("run_id")["best_truth"].last()


@pytest.fixture(scope="module")
def interleaved(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, set[str], set[str]]:
    """Seeds 0-1 of random with lookup-12, then seed 0 again with lookup-200 (newest)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mix') / 'mix.db'}"
    from harness.cli import main

    main(["run", *QUICK, "--seeds", "2", "--storage", url])
    first = set(harness.trials(url)["run_id"])
    main(["run", *QUICK, "--seeds", "1", "--proxy", "lookup-200", "--storage", url])
    second = set(harness.trials(url)["run_id"]) - first
    assert len(first) == 2 and len(second) == 1
    return url, first, second


def test_interleaved_experiments_are_never_pooled(interleaved, capsys) -> None:
    url, first, second = interleaved
    summary, err = _summary(capsys, url)
    # one row, of the newest run's experiment only: its one seed, its one proxy
    assert summary["n_seeds"].tolist() == [1]  # not seed 0 of one and seed 1 of the other
    assert summary["proxy"].tolist() == ["lookup-200"]  # not "lookup-12, lookup-200"
    assert summary["test_acc_mean"].iloc[0] == pytest.approx(_finals(url, second).mean())
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, err
    assert "2 run(s) of 1 other experiment(s) left out, never pooled" in notes[0]
    assert "newest" in notes[0] and all(r in notes[0] for r in first)
    # the markdown report says it once, beside the same row
    code, out, err = cli(capsys, "report", "--storage", url, "--format", "md")
    assert code == 0, err
    assert sum("other experiment(s) left out" in line for line in out.splitlines()) == 1
    with pytest.warns(UserWarning, match="1 other experiment"):
        assert harness.summary(url)["proxy"].tolist() == ["lookup-200"]


def test_selected_run_ids_keep_their_experiment_whole(interleaved) -> None:
    url, first, _ = interleaved
    # one run of the older experiment selected: its experiment, both seeds, is reported
    with pytest.warns(UserWarning, match="1 run\\(s\\) of 1 other experiment"):
        summary = api.summary(url, run_ids=[sorted(first)[0]])
    assert summary["n_seeds"].tolist() == [2] and summary["proxy"].tolist() == ["lookup-12"]
    assert summary["test_acc_mean"].iloc[0] == pytest.approx(_finals(url, first).mean())


def test_a_frame_read_back_from_csv_tells_proxies_apart(interleaved) -> None:
    url, first, second = interleaved
    frame = pd.read_csv(io.StringIO(harness.trials(url).to_csv(index=False)))
    kept, note = one_identity(frame)
    assert set(kept["run_id"]) in (first, second) and note is not None
    assert "other experiment(s) left out" in note


def test_a_changed_trials_budget_is_another_experiment(tmp_path, capsys) -> None:
    """Proxy and profile alike: only the run spec (here --trials) tells the two apart."""
    url = f"sqlite:///{tmp_path / 'b.db'}"
    _run(capsys, url, "--seeds", "2")
    newest = _run(capsys, url, "--seeds", "1", "--trials", "7")
    summary, err = _summary(capsys, url)
    assert summary["n_seeds"].tolist() == [1]
    assert summary["evaluations_mean"].tolist() == [7.0]  # not (7 + 5) / 2
    assert summary["test_acc_mean"].iloc[0] == pytest.approx(_finals(url, newest).mean())
    assert "2 run(s) of 1 other experiment(s) left out" in err


def test_the_newest_experiment_is_kept_whole_and_one_experiment_extended_is_pooled(
    tmp_path, capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    _run(capsys, url, "--seeds", "1", "--proxy", "lookup-200")
    newer = _run(capsys, url, "--seeds", "2")
    summary, err = _summary(capsys, url)
    assert summary["n_seeds"].tolist() == [2] and summary["proxy"].tolist() == ["lookup-12"]
    assert "1 run(s) of 1 other experiment(s) left out" in err
    # the same experiment with more seeds: still one experiment, every seed pooled
    more = _run(capsys, url, "--seeds", "3")
    assert len(more) == 1
    summary, err = _summary(capsys, url)
    assert summary["n_seeds"].tolist() == [3]
    assert summary["test_acc_mean"].iloc[0] == pytest.approx(_finals(url, newer | more).mean())
    assert "1 run(s) of 1 other experiment(s) left out" in err
