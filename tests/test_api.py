"""The Python API (`import harness`): what a notebook does, and the CLI is built on."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import harness


def test_run_trials_summary_figures_in_a_notebook(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    frame = harness.run(methods="tpe,random", benchmarks=["nb201-cifar10"], seeds=2, trials=8,
                        storage=url)  # fmt: skip
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2 * 2 * 8
    assert set(frame.attrs["statuses"].values()) == {"done"}
    again = harness.run(methods=["tpe", "random"], seeds=2, trials=8, storage=url)
    assert set(again.attrs["statuses"].values()) == {"skipped"}  # resumable, nothing redone
    stored = harness.trials(url)
    pd.testing.assert_frame_equal(stored, frame, check_like=False)
    summary = harness.summary(url)
    assert list(summary.method) == ["random", "tpe"] and (summary.n_seeds == 2).all()
    pd.testing.assert_frame_equal(summary, harness.summary(frame))
    files = harness.figures(frame, out=tmp_path / "figs")
    assert any(p.name == "anytime_evaluations.png" for p in files)
    from harness.api import report

    text = report(url, "csv", table="summary")
    assert text.startswith("benchmark,method")


def test_plan_checks_everything_and_stores_nothing(tmp_path):
    plan = harness.plan(["rea"], "nb201-cifar10,nb201-cifar100", seeds=3, trials=5)
    assert len(plan.runs) == 6 and len(set(plan.run_ids)) == 6
    with pytest.raises(harness.HarnessError, match="--seeds"):
        harness.run(["rea"], seeds=0, storage=f"sqlite:///{tmp_path / 'x.db'}")
    assert not (tmp_path / "x.db").exists()
    with pytest.raises(harness.HarnessError, match="nothing to run"):
        harness.plan([])
    with pytest.raises(harness.HarnessError, match="no trials"):
        harness.summary(pd.DataFrame())


def test_import_harness_stays_light():
    code = "import sys, harness; print(sorted(m for m in ('pandas', 'sqlalchemy', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert callable(harness.run) and harness.__all__[0] == "HarnessError"
