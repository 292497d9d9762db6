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


def test_az_nas_population_ranks_the_classes_and_every_cell() -> None:
    """`az-nas:population`: the sum of log(rank / n) of the four components, over the 40
    classes (unique) and over all their member cells, each with its class's components
    (all); a NaN component counts as -inf, as the authors' code makes it."""
    from scipy import stats

    from harness.correlate import rank_correlation

    frame, reps = _scores("maximize", 1.0)
    rng = np.random.default_rng(0)
    comps = {c: frame["truth"].to_numpy() + rng.normal(0, 1, 40) for c in
             ("expressivity", "progressivity", "trainability", "complexity")}  # fmt: skip
    comps["trainability"][5] = np.nan
    parts = [frame.assign(proxy=f"az-nas:{c}", score=v) for c, v in comps.items()]
    out = nb201.all_cells_table(pd.concat([frame, *parts], ignore_index=True))
    out = out[out["proxy"] == "az-nas:population"].set_index(["truth", "cells"])
    table = load_table()
    group = np.asarray(table["unique_group"])
    filled = {c: np.nan_to_num(v, nan=-np.inf) for c, v in comps.items()}

    def log_rank(columns: list[np.ndarray]) -> np.ndarray:
        return sum(np.log(stats.rankdata(v) / len(v)) for v in columns)

    unique = log_rank(list(filled.values()))
    truth = np.asarray(table["c10_test_acc_200"], dtype=float)
    want = rank_correlation(unique, truth[reps], seed=0, n_resamples=1000)["spearman_rho"]
    assert out.loc[("cifar10 ori-test", "unique")]["spearman_rho"] == pytest.approx(want)
    members = np.flatnonzero(np.isin(group, reps))
    where = {r: i for i, r in enumerate(reps)}
    every = log_rank([v[[where[g] for g in group[members]]] for v in filled.values()])
    want = rank_correlation(every, truth[members], seed=0, n_resamples=1000)["spearman_rho"]
    everyone = out.loc[("cifar10 ori-test", "all")]
    assert everyone["n"] == len(members)
    assert everyone["spearman_rho"] == pytest.approx(want)
    assert everyone["published_rho"] == 0.913
