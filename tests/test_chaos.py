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
from typing import Any

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
    """The pool's worker processes: the fork server's (a child of the harness) Python children,
    not the commands it runs (the `git status` its warm-up asks for the environment record)."""
    try:
        return [w for server in proc.children() for w in server.children()
                if w.exe() == server.exe()]  # fmt: skip
    except psutil.Error:
        return []


def _deterministic(frame) -> bytes:
    return frame.drop(columns=["wall_s", "cum_wall_s"]).to_csv(index=False).encode()


def _grid_cmd(url: str, master_seed: int) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "run", "--method", ",".join(GRID["methods"]),
            "--benchmark", ",".join(BENCHMARKS), "--seeds", str(GRID["seeds"]),
            "--trials", str(GRID["trials"]), "--master-seed", str(master_seed), "--storage", url,
            "--executor", "process", "--workers", "2", "--quiet"]  # fmt: skip


def _plan(master_seed: int):
    return make_plan(GRID["methods"], BENCHMARKS, seeds=GRID["seeds"], trials=GRID["trials"],
                     master_seed=master_seed)  # fmt: skip


def kill_storm(
    url: str, kills: int, seed: int, harness_every: int = 25, deadline_s: float = 600.0
) -> dict[str, Any]:
    """Run the grid with `--executor process --workers 2`, sending `kills` kill -9 at random
    moments (half of them only once new trials were stored since the last kill, so that kills
    hit searches as well as start-ups and replays) to a random worker or, every
    `harness_every`-th kill starting with the fifth, to the harness command itself, which is
    then started again. Whether a kill hits the harness is fixed in advance, never drawn, and a
    grid that completes before the storm has sent its kills is followed by the next grid
    (master seed 1, 2, ...) on the same store: a fast machine gets the same storm, over more
    grids."""
    rng = random.Random(seed)
    stats: dict[str, Any] = {"workers": 0, "harness": 0, "restarts": 0, "grids": []}
    end = time.time() + deadline_s
    master, last = 0, -1
    proc = subprocess.Popen(_grid_cmd(url, master), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    run_ids = _plan(master).run_ids
    while time.time() < end:
        if proc.poll() is not None:
            if proc.returncode == -signal.SIGKILL:
                stats["restarts"] += 1
            else:
                assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
                stats["grids"].append(master)
                if stats["workers"] + stats["harness"] >= kills:
                    break
                master, last = master + 1, -1
                run_ids = _plan(master).run_ids
            proc = subprocess.Popen(_grid_cmd(url, master), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)  # fmt: skip
        sent = stats["workers"] + stats["harness"]
        if sent >= kills:
            time.sleep(0.1)
            continue
        time.sleep(rng.uniform(0.01, 0.1))
        count = _count(url, run_ids)
        if count <= last and rng.random() < 0.5:
            continue  # wait for the search to move on
        if sent % harness_every == 4:
            target, kind = proc.pid, "harness"
        else:
            workers = _workers(psutil.Process(proc.pid))
            if not workers:
                continue
            target, kind = rng.choice(workers).pid, "workers"
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            continue
        stats[kind] += 1
        last = count
    assert stats["grids"] and stats["grids"][-1] == master, f"storm did not finish: {stats}"
    return stats


def _check_grids(url: str, stats: dict[str, Any], tmp_path) -> None:
    """Every stormed grid holds exactly its planned trials, byte-identical to a serial run."""
    for master in stats["grids"]:
        plan = _plan(master)
        stormed = harness.trials(url, plan.run_ids)
        assert len(stormed) == len(plan.runs) * GRID["trials"]
        assert not stormed.duplicated(["run_id", "number"]).any()
        serial_url = f"sqlite:///{tmp_path / f'serial-{master}.db'}"
        serial = harness.run(**GRID, benchmarks=BENCHMARKS, master_seed=master,
                             storage=serial_url)  # fmt: skip
        assert _deterministic(stormed) == _deterministic(serial)


@pytest.mark.slow
def test_kill_storm_on_a_process_grid_loses_and_duplicates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'storm.db'}"
    stats = kill_storm(url, kills=100, seed=2026)
    assert stats["workers"] + stats["harness"] == 100, stats
    assert stats["harness"] == 4 and stats["restarts"] >= 1, stats
    _check_grids(url, stats, tmp_path)


def test_trained_proxy_run_killed_mid_evaluation_resumes_from_the_cache(tmp_path, monkeypatch):
    """kill -9 while cells train; the resumed run replays stored trials and serves cells
    evaluated before the kill from the cache: no finished cell is trained twice."""
    from pausing import pausing_command, wait_until_paused

    url = f"sqlite:///{tmp_path / 'trained.db'}"
    argv = ["run", "--method", "csnas", "--profile", "smoke", "--seeds", "1", "--trials", "6",
            "--storage", url, "--quiet"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one torch thread: a busy machine stays fast
    # paused as the third cell starts training: two finished and cached, killed mid-evaluation
    cmd, ready = pausing_command(tmp_path, argv, evaluations=2)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_until_paused(proc, ready)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
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
    stats = kill_storm(postgres_url, kills=300, seed=7, deadline_s=1200.0)
    assert stats["workers"] + stats["harness"] == 300, stats
    assert stats["harness"] == 12, stats
    _check_grids(postgres_url, stats, tmp_path)
