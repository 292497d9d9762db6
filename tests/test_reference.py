"""The regression check itself must catch a changed trial (nox -s regression relies on it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("reference", REPO / "scripts" / "reference.py")
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return pd.read_csv(reference.OUT / "trials.csv.gz")


def test_committed_results_pass_their_own_check(committed):
    assert reference.check(committed.copy()) == 0


def test_a_changed_trial_or_table_fails_the_check(committed, capsys):
    changed = committed.copy()
    changed.loc[123, "score"] += 0.01
    assert reference.check(changed) == 1
    assert "row 123 column score" in capsys.readouterr().err
    moved = committed.copy()
    last = moved.groupby("run_id").tail(1).index
    moved.loc[last, "best_truth"] -= 1.0  # final answers shift: the summary table differs too
    assert reference.check(moved) == 1
