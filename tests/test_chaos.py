"""Chaos: a seeded storm of kill -9 on a process-executor grid (workers and the harness
itself), and a trained-proxy run killed mid-evaluation. Whatever is killed, the store ends
with exactly the planned trials, byte-identical to a serial run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import psutil
import pytest

import harness
from harness.runner import make_plan
from harness.store import open_store

GRID = dict(methods=["random", "rea", "tpe", "tpe-optuna"], seeds=6, trials=30)
BENCHMARKS = ["nb201-cifar10", "nb201-cifar100"]


def _count(url: str, run_ids: list[str]) -> int:
    try:
        store = open_store(url, create=False)
    except harness.HarnessError:
        return 0
    try:
        return store.count_trials(run_ids)
    finally:
        store.close()


def _workers(proc: psutil.Process) -> list[psutil.Process]:
    """The pool's worker processes: children of the fork server (a child of the harness)."""
    try:
        return [w for child in proc.children() for w in child.children()]
    except psutil.NoSuchProcess:
        return []


def _deterministic(frame) -> bytes:
    return frame.drop(columns=["wall_s", "cum_wall_s"]).to_csv(index=False).encode()


def kill_storm(
    url: str, kills: int, seed: int, max_restarts: int = 4, deadline_s: float = 240.0
) -> dict[str, int]:
    """Run the grid with `--executor process --workers 2`, sending kill -9 at random moments
    (half of them only once new trials were stored since the last kill, so that kills hit
    searches as well as start-ups and replays) to a random worker
    or, one time in sixteen (at most `max_restarts` times: each restart costs a Python
    start-up), to the harness command itself, which is then started again."""
    rng = random.Random(seed)
    plan = make_plan(GRID["methods"], BENCHMARKS, seeds=GRID["seeds"], trials=GRID["trials"])
    cmd = [sys.executable, "-m", "harness.cli", "run", "--method", ",".join(GRID["methods"]),
           "--benchmark", ",".join(BENCHMARKS), "--seeds", str(GRID["seeds"]),
           "--trials", str(GRID["trials"]), "--storage", url, "--executor", "process",
           "--workers", "2", "--quiet"]  # fmt: skip
    stats = {"workers": 0, "harness": 0, "restarts": 0}
    end = time.time() + deadline_s
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    last = -1
    while time.time() < end:
        if proc.poll() is not None:
            if proc.returncode != -signal.SIGKILL:
                assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
                break  # the grid is complete (the storm may have run out of grid: see stats)
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True)  # fmt: skip
            stats["restarts"] += 1
        if stats["workers"] + stats["harness"] >= kills:
            time.sleep(0.1)
            continue
        time.sleep(rng.uniform(0.01, 0.1))
        count = _count(url, plan.run_ids)
        if count <= last and rng.random() < 0.5:
            continue  # wait for the search to move on
        target = None
        if rng.random() < 1 / 16 and stats["harness"] < max_restarts:
            target, kind = proc.pid, "harness"
        else:
            workers = _workers(psutil.Process(proc.pid))
            if workers:
                target, kind = rng.choice(workers).pid, "workers"
        if target is None:
            continue
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            continue
        stats[kind] += 1
        last = count
    if proc.poll() is None:
        proc.wait(timeout=max(1.0, end - time.time()))
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    stats["trials"] = _count(url, plan.run_ids)
    return stats


def test_kill_storm_on_a_process_grid_loses_and_duplicates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'storm.db'}"
    stats = kill_storm(url, kills=100, seed=2026)
    assert stats["workers"] + stats["harness"] >= 100, stats
    assert stats["harness"] >= 1 and stats["workers"] >= 1, stats
    plan = make_plan(GRID["methods"], BENCHMARKS, seeds=GRID["seeds"], trials=GRID["trials"])
    stormed = harness.trials(url, plan.run_ids)
    assert len(stormed) == len(plan.runs) * GRID["trials"] == stats["trials"]
    assert not stormed.duplicated(["run_id", "number"]).any()
    serial = harness.run(**GRID, benchmarks=BENCHMARKS, storage=f"sqlite:///{tmp_path / 's.db'}")
    assert _deterministic(stormed) == _deterministic(serial)


def test_trained_proxy_run_killed_mid_evaluation_resumes_from_the_cache(tmp_path, monkeypatch):
    """kill -9 while cells train; the resumed run replays stored trials and serves cells
    evaluated before the kill from the cache: no finished cell is trained twice."""
    url = f"sqlite:///{tmp_path / 'trained.db'}"
    args = ["--method", "csnas", "--profile", "smoke", "--seeds", "1", "--trials", "6"]
    cmd = [sys.executable, "-m", "harness.cli", "run", *args, "--storage", url, "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one torch thread: a busy machine stays fast
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 180
    evaluated = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            store = open_store(url, create=False)
        except harness.HarnessError:
            continue
        evaluated = store.counts()["evaluations"]
        store.close()
        if evaluated >= 2:
            time.sleep(0.1)  # into the next cell's training
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    store = open_store(url, create=False)
    before = store.counts()
    store.close()
    assert before["trials"] < 6

    from harness import runner

    calls: list[str] = []
    real_make = runner.make_proxy

    def counting_make(name, **settings):
        proxy = real_make(name, **settings)
        real_eval = proxy.evaluate

        def evaluate(arch, benchmark, seed):
            calls.append(repr(arch))
            return real_eval(arch, benchmark, seed)

        proxy.evaluate = evaluate
        return proxy

    import torch

    monkeypatch.setattr(runner, "make_proxy", counting_make)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        frame = harness.run(["csnas"], seeds=1, trials=6, profile="smoke", storage=url)
    finally:
        torch.set_num_threads(threads)
    assert len(frame) == 6 and list(frame.number) == list(range(6))
    store = open_store(url, create=False)
    after = store.counts()
    store.close()
    # every cell the killed process finished was reused: only new cells were trained
    assert len(calls) == after["evaluations"] - before["evaluations"]
    assert after["evaluations"] == frame.arch_key.nunique()
    assert frame.cached.sum() >= before["evaluations"] - before["trials"]


@pytest.mark.slow
def test_longer_kill_storm_on_postgresql(postgres_url, tmp_path):
    """The storm's longer variant (`nox -s slow`): 300 kills, the shared store on PostgreSQL."""
    stats = kill_storm(postgres_url, kills=300, seed=7, max_restarts=10, deadline_s=900.0)
    assert stats["workers"] + stats["harness"] >= 300, stats
    plan = make_plan(GRID["methods"], BENCHMARKS, seeds=GRID["seeds"], trials=GRID["trials"])
    stormed = harness.trials(postgres_url, plan.run_ids)
    serial = harness.run(**GRID, benchmarks=BENCHMARKS, storage=f"sqlite:///{tmp_path / 's.db'}")
    assert _deterministic(stormed) == _deterministic(serial)
