"""The regression check itself must catch a changed trial (nox -s regression relies on it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.reference import lookup as reference
from harness.reference import reference_dir

#: this checkout's committed reference (the check's default is the working directory's)
REFERENCE = reference_dir(Path(__file__).resolve().parents[1])


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "trials.csv.gz")


def test_committed_results_pass_their_own_check(committed):
    assert reference.check(committed.copy(), env_differs=[], out=REFERENCE) == 0


def test_a_changed_trial_fails_the_check_where_the_environment_is_the_recorded_one(
    committed, capsys
):
    changed = committed.copy()
    changed.loc[123, "score"] += 0.01
    assert reference.check(changed, env_differs=[], out=REFERENCE) == 1
    err = capsys.readouterr().err
    assert "1 trials in 1 runs differ; first at random on nb201-cifar10, repetition 1" in err
    assert "trial 23: score" in err and "REGRESSION: the environment is the recorded one" in err


def test_elsewhere_a_forked_trial_is_judged_by_the_tolerance(committed, capsys):
    """Another environment: a changed trial is named, and passes while the results hold."""
    changed = committed.copy()
    changed.loc[123, "score"] += 0.01
    kernels = ["numpy_simd.widest X86_V4 vs X86_V3"]
    assert reference.check(changed, env_differs=kernels, out=REFERENCE) == 0
    out = capsys.readouterr()
    assert "DIVERGED: 1 trials in 1 runs differ" in out.err
    assert "within tolerance" in out.out
    moved = committed.copy()
    last = moved.groupby("run_id").tail(1).index
    moved.loc[last, "best_truth"] -= 1.0  # every final answer 1 point lower: outside intervals
    numpy = ["numpy 2.4.6 (recorded) vs 2.5.0 (here)"]
    assert reference.check(moved, env_differs=numpy, out=REFERENCE) == 1
    assert "outside the committed" in capsys.readouterr().err
