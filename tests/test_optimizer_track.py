"""The optimizer track's plan and its regression check's tolerance (the track itself is
committed under results/reference/optimizers/ and rerun by `harness reference optimizers
check`)."""

from __future__ import annotations

import pandas as pd
import pytest

from harness import HarnessError
from harness.reference import optimizers as track
from harness.reference.lookup import EXPERIMENT
from harness.runner import make_plan


def test_the_track_is_every_strategy_on_three_datasets_at_ten_seeds():
    plan = track.track_plan()
    methods = list(dict.fromkeys(r.method for r in plan.runs))
    assert methods == track.PRESETS + track.ADAPTERS
    assert len(plan.runs) == len(methods) * 3 * 10
    assert {r.trials for r in plan.runs} == {100}
    assert {r.proxy for r in plan.runs} == {"lookup-12"}
    assert "optuna:CmaEsSampler" in methods and "gp-optuna" in methods


def test_the_lookup_reference_s_runs_are_the_track_s_own():
    """Same master seed and names: random, rea, tpe and tpe-optuna are the same runs."""
    reference = make_plan(
        EXPERIMENT["methods"],
        EXPERIMENT["benchmarks"],
        seeds=EXPERIMENT["seeds"],
        trials=EXPERIMENT["trials"],
        master_seed=EXPERIMENT["master_seed"],
    )
    mine = track.track_plan(EXPERIMENT["methods"])
    assert sorted(mine.run_ids) == sorted(reference.run_ids)


def test_a_subset_of_seeds_and_methods():
    plan = track.track_plan(["reinforce", "nevergrad:NGOpt"], seeds=2)
    assert {(r.method, r.repetition) for r in plan.runs} == {
        (m, rep) for m in ("reinforce", "nevergrad:NGOpt") for rep in (0, 1)
    }
    with pytest.raises(HarnessError, match="'bohb' is not in the track"):
        track.track_plan(["bohb"])


def _runs(finals: dict[tuple[str, int], float]) -> pd.DataFrame:
    rows = []
    for (method, rep), final in finals.items():
        for number in range(3):
            rows.append(dict(benchmark="nb201-cifar10", method=method, repetition=rep,
                             number=number, best_truth=final - (2 - number)))  # fmt: skip
    return pd.DataFrame(rows)


def test_where_the_environment_differs_each_rerun_lies_in_the_committed_range():
    committed = _runs({("rea", 0): 93.5, ("rea", 1): 94.0, ("rea", 2): 93.8})
    assert track.outside_range(committed, _runs({("rea", 0): 93.6})) == []
    assert track.outside_range(committed, _runs({("rea", 0): 94.0})) == []  # the edge is in
    (problem,) = track.outside_range(committed, _runs({("rea", 1): 94.2}))
    assert problem == (
        "rea on nb201-cifar10, repetition 1: 94.20 outside the committed seeds' 93.50 to 94.00"
    )
