"""scripts/ladder_partial.py: its rho with the truth is the committed summary's, and its partial
coefficient follows the formula (a cell set where the readout is the parameter count plus
independent noise has partial rho with the truth near 0 given the parameter count)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
LADDER = ROOT / "results" / "reference" / "ladder" / "cpu"


@pytest.fixture
def lp(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    return importlib.import_module("ladder_partial")


def test_rho_with_the_truth_is_the_committed_summarys(lp) -> None:  # type: ignore[no-untyped-def]
    table = lp.partial_table(pd.read_csv(LADDER / "cells.csv.gz"), "1000x10").set_index("proxy")
    summary = pd.read_csv(LADDER / "summary.csv")
    rows = summary[(summary.rung == "1000x10") & (summary.readout == "loss-drop")]
    for row in rows.itertuples():
        assert table.loc[f"{row.proxy}:loss-drop", "rho_truth"] == pytest.approx(
            row.spearman_rho, abs=5e-4
        )


def _cells(readout: np.ndarray, truth: np.ndarray, params: np.ndarray) -> pd.DataFrame:
    archs = [f"a{i}" for i in range(len(truth))]
    base = dict(rung="-", direction="maximize")
    return pd.concat([
        pd.DataFrame(dict(base, proxy="params", arch=archs, score=params, truth=truth)),
        pd.DataFrame(dict(base, proxy="lookup-12", arch=archs, score=truth, truth=truth)),
        pd.DataFrame(dict(rung="r", direction="maximize", proxy="x", arch=archs, score=readout,
                          truth=truth)),
    ])  # fmt: skip


def test_a_readout_that_is_only_network_size_has_no_partial_rho(lp) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    params = rng.normal(size=2000)
    truth = params + rng.normal(size=2000)
    only_size = lp.partial_table(_cells(params + 0.1 * rng.normal(size=2000), truth, params), "r")
    assert only_size.rho_truth[0] > 0.6
    assert abs(only_size.partial_rho_given_params[0]) < 0.1
    beyond = lp.partial_table(_cells(truth - params, truth, params), "r")  # the part size misses
    assert beyond.partial_rho_given_params[0] > 0.6
