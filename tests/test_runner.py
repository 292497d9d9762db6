from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from harness import HarnessError
from harness.executors import execute_plan
from harness.runner import make_plan
from harness.seeds import derive_seed
from harness.store import open_store

LOOKUP_METHODS = ["random", "rea", "tpe", "tpe-optuna", "bo-gp"]


def _trials(url, run_ids=None):
    store = open_store(url, create=False)
    try:
        return store.trials_frame(run_ids)
    finally:
        store.close()


def _key(frame):
    return list(zip(frame.run_id, frame.number, frame.arch, frame.score, frame.best_truth))


def test_seeds_are_independent_of_order_and_of_other_methods():
    alone = make_plan(["tpe"], ["nb201-cifar10"], seeds=3, trials=5)
    mixed = make_plan(["random", "tpe"], ["nb201-cifar100", "nb201-cifar10"], seeds=3, trials=5)
    by_id = {r.run_id: r for r in mixed.runs}
    for spec in alone.runs:
        assert spec.run_id in by_id and by_id[spec.run_id].seed == spec.seed
    seeds = {r.seed for r in mixed.runs}
    assert len(seeds) == len(mixed.runs)
    assert derive_seed(0, "a", 1) == derive_seed(0, "a", 1) != derive_seed(1, "a", 1)


@pytest.mark.parametrize("method", LOOKUP_METHODS)
def test_every_lookup_method_runs_and_records_complete_trials(method, store_url):
    plan = make_plan([method], ["nb201-cifar10"], seeds=1, trials=12)
    execute_plan(plan, store_url, progress=False)
    df = _trials(store_url)
    assert list(df.number) == list(range(12))
    assert (df.status == "ok").all() and (df.direction == "maximize").all()
    # the incumbent is chosen by proxy score, and its truth is what the table says
    best = df.loc[df.score.idxmax()]
    assert df.best_score.iloc[-1] == best.score
    assert df.best_truth.iloc[-1] == best.truth
    assert df.regret.iloc[-1] == pytest.approx(94.37333333 - best.truth, abs=1e-6)
    assert df.cum_simulated_s.iloc[-1] == pytest.approx(df.simulated_s.sum())
    assert (df.labels_used == 25_000).all()


def test_same_plan_gives_identical_trials_in_a_fresh_store(tmp_path):
    plan = make_plan(["tpe", "rea"], ["nb201-cifar100"], seeds=2, trials=25, master_seed=7)
    a, b = (f"sqlite:///{tmp_path / n}" for n in ("a.db", "b.db"))
    execute_plan(plan, a, progress=False)
    execute_plan(plan, b, progress=False)
    assert _key(_trials(a)) == _key(_trials(b))
    other = make_plan(["tpe", "rea"], ["nb201-cifar100"], seeds=2, trials=25, master_seed=8)
    execute_plan(other, a, progress=False)
    assert _key(_trials(a, other.run_ids)) != _key(_trials(b))


def test_completed_runs_are_not_redone(store_url):
    plan = make_plan(["random"], ["nb201-cifar10"], seeds=2, trials=5)
    assert set(execute_plan(plan, store_url, progress=False).values()) == {"done"}
    assert set(execute_plan(plan, store_url, progress=False).values()) == {"skipped"}
    assert len(_trials(store_url)) == 10


def test_crash_mid_run_resumes_without_loss_or_duplicates(store_url, tmp_path, monkeypatch):
    plan = make_plan(["tpe", "rea"], ["nb201-cifar10"], seeds=2, trials=30)
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    execute_plan(plan, reference, progress=False)

    from pausing import crash_before_stored

    with monkeypatch.context() as patched:
        # dies in the second run, before trial 17 is stored
        crash_before_stored(patched, 47)
        with pytest.raises(KeyboardInterrupt):
            execute_plan(plan, store_url, progress=False)
    assert len(_trials(store_url)) == 46
    statuses = execute_plan(plan, store_url, progress=False)
    assert sorted(statuses.values()) == ["done", "done", "resumed", "skipped"]
    assert _key(_trials(store_url)) == _key(_trials(reference))


def _writes(monkeypatch, every: float) -> list[int]:
    """Record the rows of each trial write, with the runner's write window set to `every`."""
    from harness import runner
    from harness.store.sql import SqlStore

    sizes: list[int] = []
    real_add = SqlStore.add_trials

    def add(self, rows, owner=None):
        sizes.append(len(rows))
        return real_add(self, rows, owner)

    monkeypatch.setattr(runner, "WRITE_EVERY_S", every)
    monkeypatch.setattr(SqlStore, "add_trials", add)
    return sizes


def test_cheap_trials_are_committed_together_slow_ones_at_once(tmp_path, monkeypatch):
    """Table lookups ending within the window share a commit; with no window each trial is its
    own commit; the stored trials are the same either way."""
    plan = make_plan(["tpe", "random"], ["nb201-cifar10"], seeds=1, trials=30)
    together = _writes(monkeypatch, 1e9)
    execute_plan(plan, f"sqlite:///{tmp_path / 'together.db'}", progress=False)
    assert together == [30, 30]
    alone = _writes(monkeypatch, 0.0)
    execute_plan(plan, f"sqlite:///{tmp_path / 'alone.db'}", progress=False)
    assert alone == [1] * 60
    a, b = (_trials(f"sqlite:///{tmp_path / n}.db") for n in ("together", "alone"))
    assert _key(a) == _key(b)


def test_trials_waiting_are_committed_before_an_evaluation_that_may_take_long(
    tmp_path, monkeypatch
):
    """A proxy that is not a table lookup: when its k-th evaluation starts, the k trials
    before it are in the store, whatever the write window (the store never lags behind a
    slow trial)."""
    from harness import runner

    _writes(monkeypatch, 1e9)
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    seen: list[int] = []

    class Computed:
        """lookup-12's numbers, declared as computed (needs_table False)."""

        name, direction, deterministic, needs_table = "computed-12", "maximize", True, False

        def __init__(self, inner):
            self.inner = inner

        def settings(self):
            return self.inner.settings()

        def evaluate(self, arch, benchmark, seed):
            seen.append(len(_trials(url)) if seen else 0)
            return self.inner.evaluate(arch, benchmark, seed)

    real_make = runner.make_proxy
    monkeypatch.setattr(runner, "make_proxy", lambda name, **kw: Computed(real_make(name, **kw)))
    execute_plan(make_plan(["random"], ["nb201-cifar10"], seeds=1, trials=8), url, progress=False)
    assert seen == list(range(8))


def test_an_error_mid_run_keeps_the_trials_that_ended(tmp_path, monkeypatch):
    """A proxy failing at the 13th evaluation: the 12 trials before it, still waiting to be
    committed together, are stored before the error propagates."""
    from harness import runner

    _writes(monkeypatch, 1e9)
    real_make = runner.make_proxy

    def make_proxy(name, **settings):
        proxy = real_make(name, **settings)
        real_eval, calls = proxy.evaluate, [0]

        def evaluate(arch, benchmark, seed):
            calls[0] += 1
            if calls[0] == 13:
                raise RuntimeError("evaluation 13 failed")
            return real_eval(arch, benchmark, seed)

        proxy.evaluate = evaluate
        return proxy

    monkeypatch.setattr(runner, "make_proxy", make_proxy)
    url = f"sqlite:///{tmp_path / 'err.db'}"
    plan = make_plan(["random"], ["nb201-cifar10"], seeds=1, trials=30)
    with pytest.raises(RuntimeError, match="evaluation 13"):
        execute_plan(plan, url, progress=False)
    assert list(_trials(url).number) == list(range(12))


def test_kill_9_mid_run_then_resume(tmp_path):
    """The command pauses after its 40th stored trial (tests/pausing.py) and is killed there:
    however fast the machine, the kill lands mid-run."""
    from pausing import pausing_command, wait_until_paused

    url = f"sqlite:///{tmp_path / 'killed.db'}"
    argv = ["run", "--method", "tpe", "--seeds", "1", "--trials", "150", "--quiet",
            "--storage", url]  # fmt: skip
    pausing, ready = pausing_command(tmp_path, argv, trials=40)
    proc = subprocess.Popen(pausing, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_until_paused(proc, ready)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(_trials(url)) == 40
    cmd = [sys.executable, "-m", "harness.cli", *argv]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    killed = _trials(url)
    assert list(killed.number) == list(range(150))
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    subprocess.run([*cmd[:-1], fresh], check=True, capture_output=True)
    assert _key(_trials(fresh)) == _key(killed)


def test_budget_stops_before_the_simulated_cost_would_exceed_it(store_url):
    plan = make_plan(["random"], ["nb201-cifar10"], seeds=1, budget_seconds=2_000.0)
    assert plan.runs[0].trials is None
    execute_plan(plan, store_url, progress=False)
    df = _trials(store_url)
    assert 0 < df.cum_simulated_s.iloc[-1] <= 2_000.0
    # the next trial of the same seeded search would have crossed the budget
    longer = make_plan(["random"], ["nb201-cifar10"], seeds=1, trials=len(df) + 1)
    other = store_url.replace("harness.db", "longer.db")
    execute_plan(longer, other, progress=False)
    assert _trials(other).cum_simulated_s.iloc[-1] > 2_000.0


def test_parallel_workers_give_the_same_trials(tmp_path):
    plan = make_plan(["random", "tpe"], ["nb201-cifar10"], seeds=2, trials=15)
    a, b = (f"sqlite:///{tmp_path / n}" for n in ("serial.db", "parallel.db"))
    execute_plan(plan, a, workers=1, progress=False)
    execute_plan(plan, b, workers=2, progress=False)
    assert _key(_trials(a)) == _key(_trials(b))


def test_manifest_records_config_seed_versions_and_table_hash(store_url):
    plan = make_plan(["tpe"], ["nb201-imagenet16"], seeds=1, trials=3)
    execute_plan(plan, store_url, progress=False)
    store = open_store(store_url, create=False)
    (run,) = store.runs()
    m = run["manifest"]
    assert m["seed"] == plan.runs[0].seed == run["seed"]
    assert m["config"]["trials"] == 3 and m["config"]["method"] == "tpe"
    assert m["strategy_settings"]["gamma"] == 0.25
    assert len(m["benchmark"]["table_sha256"]) == 64
    assert m["versions"]["hyperopt"] != "absent"
    assert "x-valid" in m["benchmark"]["search_metric"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(methods=["nope"]), "unknown method 'nope'"),
        (dict(benchmarks=["nb201-mnist"]), "unknown benchmark"),
        (dict(seeds=0), "--seeds"),
        (dict(trials=0), "--trials"),
        (dict(proxy="telepathy"), "unknown proxy"),
        (dict(proxy_settings={"epochs": 5}), "epochs"),
    ],
)
def test_bad_plans_fail_before_anything_is_stored(kwargs, match):
    args = dict(methods=["tpe"], benchmarks=["nb201-cifar10"], seeds=1, trials=3)
    args.update(kwargs)
    with pytest.raises(HarnessError, match=match):
        make_plan(**args)


def test_failed_evaluations_are_recorded_and_the_search_goes_on(store_url, register):
    """A proxy that fails on some cells (NaN loss, divergence) gives failed trials, not a crash."""
    from dataclasses import dataclass

    from harness.proxies import PROXIES, Evaluation

    @dataclass
    class Flaky:
        name: str = "flaky"
        direction: str = "minimize"
        deterministic: bool = True  # no cache: an isomorphic twin would reuse the failure

        def settings(self):
            return {}

        def evaluate(self, arch, benchmark, seed):
            if arch.ops[0] in ("none", "avg_pool_3x3"):
                return Evaluation.failed("minimize", "loss is nan")
            return Evaluation(score=float(sum(arch.codes)), direction="minimize", wall_s=0.01)

    register(PROXIES, "flaky", lambda **kw: Flaky())
    plan = make_plan(["tpe"], ["nb201-cifar10"], seeds=1, trials=30, proxy="flaky")
    execute_plan(plan, store_url, progress=False)
    df = _trials(store_url)
    assert len(df) == 30
    failed = df[df.status == "failed"]
    assert len(failed) > 0 and (df.status == "ok").any()
    assert failed.arch.str.startswith(("|none", "|avg_pool")).all()
    ok = df[df.status == "ok"]
    # the incumbent only ever comes from successful trials
    assert df.best_score.iloc[-1] == ok.score.min()
    assert set(df.best_arch.dropna()) <= set(ok.arch)


def test_trained_evaluations_are_cached_across_restarts(store_url):
    """Rerunning from scratch on the same store retrains nothing: every evaluation is a hit."""
    import sqlite3

    settings = {"profile": "smoke"}
    plan = make_plan(["csnas"], ["nb201-cifar10"], seeds=1, trials=4, proxy_settings=settings)
    execute_plan(plan, store_url, progress=False)
    first = _trials(store_url)
    db = store_url.removeprefix("sqlite:///")
    con = sqlite3.connect(db)
    con.execute("delete from trials")
    con.execute("delete from runs")
    con.commit()
    con.close()
    execute_plan(plan, store_url, progress=False)
    second = _trials(store_url)
    assert second.cached.all()
    assert list(second.score) == list(first.score)
    assert list(second.simulated_s) == list(first.simulated_s)  # the cost a real search pays
    assert (second.labels_used == 0).all()
