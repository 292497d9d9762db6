"""scripts/ladder_search.py: it reports only the newest experiment of a store that holds two
(a search resumed under changed code restarts its runs under new ids), names the method apart
from the track's `csnas`, and tests it against exactly the two methods fixed before it ran."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness import api

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ls(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    return importlib.import_module("ladder_search")


def test_newest_experiment_beside_the_track(  # type: ignore[no-untyped-def]
    ls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = f"sqlite:///{tmp_path / 'search.db'}"
    # two experiments of one method in the same seed slots: 6 trials, then 8 (newer)
    api.run("random", seeds=2, trials=6, storage=search, proxy="params")
    api.run("random", seeds=2, trials=8, storage=search, proxy="params")
    track = api.run("random,tpe,rea", seeds=2, trials=5, storage=f"sqlite:///{tmp_path / 't.db'}")
    track = track.replace({"method": {"tpe": "csnas"}})  # the track's own csnas rows
    track.to_csv(tmp_path / "track.csv.gz", index=False)
    out = tmp_path / "out"
    argv = ["--storage", search, "--track", str(tmp_path / "track.csv.gz"), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["ladder_search.py", *argv])
    ls.main()
    trials = pd.read_csv(out / "trials.csv.gz")
    assert set(trials["method"]) == {ls.METHOD}
    assert trials.groupby("run_id").size().tolist() == [8, 8]  # the newer experiment only
    compare = pd.read_csv(out / "compare.csv")
    assert sorted(compare["method"]) == ["csnas", "random"]  # not rea: fixed before the run
    summary = (out / "summary.md").read_text()
    assert "| rea |" in summary and f"| {ls.METHOD} |" in summary
    seen = pd.read_csv(out / "visited.csv")
    assert seen["distinct_cells"].le(8).all() and len(seen) == 2  # one row a run, newest only
