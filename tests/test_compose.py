"""Any strategy with any proxy (`--strategy S --proxy P --strategy-set k=v`), and several
candidates in flight (`--parallel k`): names, identity, one-line mistakes, and the same trials
under every executor and after a crash or a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from harness import HarnessError
from harness.executors import execute_plan
from harness.methods import compose
from harness.runner import make_plan
from harness.store import open_store


def _trials(url):
    store = open_store(url, create=False)
    try:
        return store.trials_frame(None)
    finally:
        store.close()


def _key(frame):
    return list(zip(frame.run_id, frame.number, frame.arch, frame.score, frame.best_truth))


def _cli(*argv, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *argv], capture_output=True, text=True, cwd=cwd
    )


# -- composing ------------------------------------------------------------------------------


def test_a_pairing_that_is_a_preset_is_that_preset_with_its_runs():
    paired = make_plan([], ["nb201-cifar10"], seeds=2, trials=5, strategies=["rea"], proxy="meco")
    preset = make_plan(["meco-rea"], ["nb201-cifar10"], seeds=2, trials=5)
    assert paired.run_ids == preset.run_ids
    assert make_plan([], ["nb201-cifar10"], 1, trials=5, strategies=["tpe-hyperopt"]).runs[
        0
    ].run_id == (make_plan(["tpe"], ["nb201-cifar10"], 1, trials=5).runs[0].run_id)


def test_other_pairings_are_named_by_both_with_their_settings():
    assert compose("random", "meco").name == "random+meco"
    assert compose("rea", "lookup-12", {"population_size": 20}).name == (
        "rea[population_size=20]"
    )  # the default proxy, a table lookup, is left out of the name
    assert compose("optuna:QMCSampler", "lookup-12").name == "optuna:QMCSampler"
    plain = make_plan([], ["nb201-cifar10"], 1, trials=5, strategies=["rea"], proxy="synflow")
    wider = make_plan(
        [],
        ["nb201-cifar10"],
        1,
        trials=5,
        strategies=["rea"],
        proxy="synflow",
        strategy_settings={"population_size": 20},
    )
    assert plain.runs[0].method == "rea+synflow"
    assert wider.runs[0].method == "rea[population_size=20]+synflow"
    assert wider.runs[0].strategy_settings == {"population_size": 20}
    assert plain.runs[0].run_id != wider.runs[0].run_id


def test_strategy_settings_reach_the_manifest_and_the_strategy(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    plan = make_plan(
        [],
        ["nb201-cifar10"],
        1,
        trials=12,
        strategies=["rea"],
        strategy_settings={"population_size": 4, "sample_size": 2},
    )
    execute_plan(plan, url, progress=False)
    store = open_store(url, create=False)
    try:
        manifest = store.runs(plan.run_ids)[0]["manifest"]
    finally:
        store.close()
    assert manifest["strategy_settings"] == {"population_size": 4, "sample_size": 2}
    assert manifest["config"]["strategy_settings"] == {"population_size": 4, "sample_size": 2}
    # a population of 4 (not 10): from the fifth trial on, every cell is a one-edge mutant of
    # one of the 4 cells told before it
    params = [json.loads(p) if isinstance(p, str) else p for p in _trials(url).params]

    def distance(a, b):
        return sum(a[k] != b[k] for k in a)

    assert all(any(distance(params[i], b) == 1 for b in params[i - 4 : i]) for i in range(4, 12))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategies": ["nope"]}, "unknown strategy 'nope'"),
        ({"strategies": ["rea"], "strategy_settings": {"popsize": 5}}, "popsize"),
        ({"strategies": ["rea"], "strategy_settings": {"sample_size": 50}}, "sample_size"),
        ({"strategy_settings": {"population_size": 5}}, "needs --strategy"),
        ({"methods": []}, "nothing to run"),
        ({"strategies": ["rea"], "parallel": 0}, "--parallel must be between"),
        ({"strategies": ["rea"], "parallel": 2.5}, "--parallel must be an integer"),
    ],
)
def test_bad_pairings_fail_in_one_line_before_anything_is_stored(kwargs, match):
    args = {"methods": ["rea"], **kwargs}
    if "strategies" in kwargs and "methods" not in kwargs:
        args["methods"] = []
    methods = args.pop("methods")
    with pytest.raises(HarnessError, match=match) as err:
        make_plan(methods, ["nb201-cifar10"], 1, trials=5, **args)
    assert "\n" not in str(err.value)


def test_the_cli_pairs_and_refuses_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    done = _cli("run", "--strategy", "random", "--proxy", "params", "--seeds", "1",
                "--trials", "5", "--quiet", "--storage", url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "random+params" in done.stdout
    for argv, words in (
        (["--strategy", "rea", "--strategy-set", "popsize=5"], "popsize"),
        (["--method", "rea", "--strategy-set", "population_size=5"], "needs --strategy"),
        (["--strategy", "optuna:NoSuchSampler"], "NoSuchSampler"),
        ([], "nothing to run"),
    ):
        bad = _cli("run", *argv, "--storage", url)
        assert bad.returncode == 2, (argv, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert words in bad.stderr


# -- candidates in flight -------------------------------------------------------------------


def test_one_candidate_in_flight_keeps_the_run_ids_of_before():
    plan = make_plan(["tpe"], ["nb201-cifar10"], 1, trials=5)
    assert "parallel" not in plan.runs[0].config()
    four = make_plan(["tpe"], ["nb201-cifar10"], 1, trials=5, parallel=4)
    assert four.runs[0].config()["parallel"] == 4
    assert four.run_ids != plan.run_ids


def test_pending_candidates_turn_on_a_strategy_s_constant_liar():
    one = make_plan(["tpe-optuna"], ["nb201-cifar10"], 1, trials=5)
    four = make_plan(["tpe-optuna"], ["nb201-cifar10"], 1, trials=5, parallel=4)
    assert one.runs[0].strategy_settings == {}
    assert four.runs[0].strategy_settings == {"constant_liar": True}
    kept = make_plan(
        [],
        ["nb201-cifar10"],
        1,
        trials=5,
        parallel=4,
        strategies=["tpe-optuna"],
        strategy_settings={"constant_liar": False},
    )
    assert kept.runs[0].strategy_settings == {"constant_liar": False}


def test_k_in_flight_is_asks_ahead_told_in_ask_order(tmp_path):
    """With k = 4, trial n is asked before trial n - 3 is told: REA's first 10 asks (its
    random population) stay random, and the 11th is asked when only 7 are told, so the same
    seed at k = 1 and k = 4 gives different trials after the start-up."""
    urls = {k: f"sqlite:///{tmp_path / f'k{k}.db'}" for k in (1, 4)}
    for k, url in urls.items():
        execute_plan(
            make_plan([], ["nb201-cifar10"], 1, trials=30, strategies=["random"], parallel=k),
            url,
            progress=False,
        )
    random = {k: list(_trials(u).arch) for k, u in urls.items()}
    assert random[1] == random[4]  # random search ignores what it is told
    for k, url in urls.items():
        execute_plan(make_plan(["tpe"], ["nb201-cifar10"], 1, trials=40, parallel=k), url,
                     progress=False)  # fmt: skip
    frames = {k: _trials(u) for k, u in urls.items()}
    tpe = {k: list(f[f.run_id.str.len() > 0].arch) for k, f in frames.items()}
    assert tpe[1][:20] == tpe[4][:20]  # start-up draws
    assert tpe[1] != tpe[4]


def test_a_crash_mid_run_with_candidates_in_flight_resumes_to_the_same_trials(
    store_url, tmp_path, monkeypatch
):
    plan = make_plan(["tpe", "rea"], ["nb201-cifar10"], seeds=1, trials=30, parallel=4)
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    execute_plan(plan, reference, progress=False)

    from pausing import crash_before_stored

    with monkeypatch.context() as patched:
        # dies in the second run, with 4 candidates asked and untold
        crash_before_stored(patched, 43)
        with pytest.raises(KeyboardInterrupt):
            execute_plan(plan, store_url, progress=False)
    assert len(_trials(store_url)) == 42
    statuses = execute_plan(plan, store_url, progress=False)
    assert sorted(statuses.values()) == ["resumed", "skipped"]
    assert _key(_trials(store_url)) == _key(_trials(reference))


def test_trained_candidates_give_the_same_trials_here_and_on_worker_processes(tmp_path):
    """csnas at the smoke profile, 2 in flight: evaluated in this process one after another,
    or two at a time on a process pool, the trials are the same."""
    plan = make_plan(["csnas"], ["nb201-cifar10"], 1, trials=6, parallel=2,
                     proxy_settings={"profile": "smoke"})  # fmt: skip
    keys = {}
    for executor, workers in (("serial", 1), ("process", 2)):
        url = f"sqlite:///{tmp_path / f'{executor}.db'}"
        statuses = execute_plan(plan, url, executor=executor, workers=workers, progress=False)
        assert list(statuses.values()) == ["done"]
        keys[executor] = _key(_trials(url))
    assert keys["serial"] == keys["process"]
    assert len({arch for _, _, arch, _, _ in keys["serial"]}) > 1


@pytest.mark.slow
def test_trained_candidates_on_dask_workers_give_the_same_trials(tmp_path):
    pytest.importorskip("distributed")
    plan = make_plan(["csnas"], ["nb201-cifar10"], 1, trials=6, parallel=2,
                     proxy_settings={"profile": "smoke"})  # fmt: skip
    keys = {}
    for executor in ("serial", "dask"):
        url = f"sqlite:///{tmp_path / f'{executor}.db'}"
        execute_plan(plan, url, executor=executor, workers=2, progress=False)
        keys[executor] = _key(_trials(url))
    assert keys["serial"] == keys["dask"]


def test_kill_9_with_candidates_in_flight_then_resume(tmp_path):
    from pausing import pausing_command, wait_until_paused

    url = f"sqlite:///{tmp_path / 'killed.db'}"
    argv = ["run", "--method", "tpe", "--seeds", "1", "--trials", "90", "--parallel", "3",
            "--quiet", "--storage", url]  # fmt: skip
    pausing, ready = pausing_command(tmp_path, argv, trials=35)
    proc = subprocess.Popen(pausing, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_until_paused(proc, ready)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(_trials(url)) == 35
    done = _cli(*argv)
    assert done.returncode == 0, done.stderr
    killed = _trials(url)
    assert list(killed.number) == list(range(90))
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert _cli(*argv[:-1], fresh).returncode == 0
    assert _key(_trials(fresh)) == _key(killed)


def test_a_run_that_stops_cancels_what_is_still_in_flight(tmp_path, monkeypatch):
    """The budget ends the run with k - 1 candidates asked and untold: each is cancelled (on
    a worker pool: dropped before it starts), none is told or stored."""
    from harness import candidates

    cancelled = []
    monkeypatch.setattr(candidates.Deferred, "cancel", lambda self: cancelled.append(self))
    url = f"sqlite:///{tmp_path / 'b.db'}"
    plan = make_plan(["random"], ["nb201-cifar10"], 1, budget_seconds=3_000.0, parallel=4)
    execute_plan(plan, url, progress=False)
    assert len(cancelled) == 3
    full = make_plan(["random"], ["nb201-cifar10"], 1, trials=10, parallel=4)
    execute_plan(full, f"sqlite:///{tmp_path / 'f.db'}", progress=False)
    assert len(cancelled) == 3  # a run that completes has nothing left in flight
