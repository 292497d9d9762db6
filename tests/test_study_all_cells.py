"""The whole-space rows of the NB201 study: each class's score is spread over its isomorphic
cells, signed by the proxy's direction, and judged against each truth column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.benchmarks.table import load_table
from harness.spaces.nb201 import NB201Space
from harness.studies import nb201


def _scores(direction: str, sign: float) -> tuple[pd.DataFrame, np.ndarray]:
    table, space = load_table(), NB201Space()
    cells = space.sample_unique(40, np.random.default_rng(3))
    reps = np.array([space.index(c) for c in cells])
    truth = np.asarray(table["c10_test_acc_200"], dtype=float)[reps]
    frame = pd.DataFrame(
        {
            "proxy": "meco",
            "arch": [space.format(c) for c in cells],
            "score": sign * truth,
            "direction": direction,
            "status": "ok",
            "truth": truth,
        }
    )
    return frame, reps


@pytest.mark.parametrize(("direction", "sign"), [("maximize", 1.0), ("minimize", -1.0)])
def test_scores_follow_direction_and_spread_over_isomorphic_cells(
    direction: str, sign: float
) -> None:
    frame, reps = _scores(direction, sign)
    out = nb201.all_cells_table(frame).set_index(["truth", "cells"])
    unique = out.loc[("cifar10 ori-test", "unique")]
    assert unique["n"] == 40
    assert unique["spearman_rho"] == pytest.approx(1.0)  # the score is the truth itself
    group = np.asarray(load_table()["unique_group"])
    members = int(np.isin(group, reps).sum())
    everyone = out.loc[("cifar10 ori-test", "all")]
    assert everyone["n"] == members > 40  # NB201 classes have several members
    assert everyone["spearman_rho"] < 1.0  # isomorphic cells' accuracies differ
    assert out.loc[("cifar10-valid test", "unique")]["spearman_rho"] < 1.0
    assert unique["published_rho"] == 0.894
    assert not unique["reproduced"]


def test_a_failed_score_ranks_last() -> None:
    frame, _ = _scores("maximize", 1.0)
    worst = frame["truth"].idxmax()
    frame.loc[worst, "status"] = "failed"
    out = nb201.all_cells_table(frame).set_index(["truth", "cells"])
    assert out.loc[("cifar10 ori-test", "unique")]["spearman_rho"] < 1.0
