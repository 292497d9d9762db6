"""Several `harness run` commands on one store and one plan, and leases held by others."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import pytest

import harness
from harness.runner import make_plan
from harness.store import open_store

PLAN_ARGS = ["--method", "random,rea,tpe", "--seeds", "4", "--trials", "12"]
N_RUNS = 3 * 4


def _run_cli(url: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "harness.cli", "run", *PLAN_ARGS, "--storage", url]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _deterministic(frame):
    return frame.drop(columns=["wall_s", "cum_wall_s"]).to_csv(index=False)


def _start(store, spec) -> None:
    """The run's row, as the runner writes it, so that another owner can hold its lease."""
    from harness.proxies import make_proxy
    from harness.runner import manifest

    fields = dict(method=spec.method, benchmark=spec.benchmark, proxy=spec.proxy,
                  strategy=spec.strategy, repetition=spec.repetition, seed=spec.seed)  # fmt: skip
    store.start_run(spec.run_id, fields, manifest(spec, {}, make_proxy(spec.proxy)))


@pytest.mark.parametrize("n", [2, pytest.param(4, marks=pytest.mark.slow)])  # 4: ~15 s
def test_concurrent_commands_execute_each_run_exactly_once(n, storage_url, tmp_path):
    procs = [_run_cli(storage_url) for _ in range(n)]
    executed = 0
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "Traceback" not in err and "Error" not in err
        m = re.search(r"(\d+) of (\d+) runs executed here, (\d+) already complete", err)
        assert m is not None and int(m[2]) == N_RUNS, err
        executed += int(m[1])
        assert "nb201-cifar10" in out  # each prints the plan's summary table
    assert executed == N_RUNS  # no run executed by two commands, none by no one
    plan = make_plan(["random", "rea", "tpe"], ["nb201-cifar10"], seeds=4, trials=12)
    shared = harness.trials(storage_url, plan.run_ids)
    serial = harness.run(
        ["random", "rea", "tpe"], seeds=4, trials=12, storage=f"sqlite:///{tmp_path / 's.db'}"
    )
    assert len(shared) == N_RUNS * 12
    assert _deterministic(shared) == _deterministic(serial)


def test_a_run_leased_elsewhere_is_waited_for_then_taken_over_when_the_lease_lapses(
    storage_url,
):
    """A live lease of another host is never run over; once it lapses the run is resumed."""
    plan = make_plan(["random"], ["nb201-cifar10"], seeds=2, trials=6)
    held = plan.runs[0].run_id
    store = open_store(storage_url)
    _start(store, plan.runs[0])
    assert store.claim_run(held, "another-host:4242:cafe", 3.0) is None
    lapses = time.time() + 3.0
    frame = harness.run(["random"], seeds=2, trials=6, storage=storage_url)
    assert time.time() >= lapses
    rows = store.trials(held)
    assert len(rows) == 6 and min(r["created"] for r in rows) >= lapses
    assert frame.attrs["statuses"][held] == "done"
    assert store.run_status(held) == "done"
    store.close()


def test_a_lease_of_a_dead_process_on_this_host_is_taken_at_once(store_url):
    import socket

    plan = make_plan(["rea"], ["nb201-cifar10"], seeds=1, trials=5)
    run = plan.runs[0]
    store = open_store(store_url)
    _start(store, run)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    owner = f"{socket.gethostname()}:{int(dead.stdout)}:dead0000"
    assert store.claim_run(run.run_id, owner, 3600) is None  # would block for an hour
    t0 = time.time()
    harness.run(["rea"], seeds=1, trials=5, storage=store_url)
    assert time.time() - t0 < 60 and store.run_status(run.run_id) == "done"
    store.close()


@pytest.mark.parametrize(("every", "kept"), [(0.0, 10), (1e9, 0)])
def test_a_worker_that_lost_its_lease_stops_before_writing_more(
    store_url, monkeypatch, every, kept
):
    """If another worker takes the run (our heartbeats stopped reaching the store), the
    first one stops: it never writes a trial after losing the lease. Each trial committed as
    it ends (no write window), the 10 before the take-over are stored; all of them waiting to
    be committed together (an endless window), none is: the new holder computes them."""
    from harness import runner
    from harness.leases import Lease
    from harness.runner import execute_run

    monkeypatch.setattr(runner, "WRITE_EVERY_S", every)

    spec = make_plan(["random"], ["nb201-cifar10"], seeds=1, trials=50).runs[0]
    store = open_store(store_url)
    written: list[int] = []

    def steal(k: int) -> None:
        written.append(k)
        if len(written) == 10:
            assert store.take_over(spec.run_id, "thief:1:x", Lease_owner[0], 60)

    Lease_owner = ["?"]
    real_start = Lease.start

    def remember(self):
        Lease_owner[0] = self.owner
        return real_start(self)

    Lease.start = remember  # type: ignore[method-assign]
    try:
        status = execute_run(spec, store, on_trial=steal, lease_seconds=1.5)
    finally:
        Lease.start = real_start  # type: ignore[method-assign]
    assert status == "lost"
    assert len(store.trials(spec.run_id)) == kept  # the trial in flight was not written
    assert store.run_status(spec.run_id) == "running"
    store.close()


def test_no_second_writer_thread_races_a_lease(store_url):
    """Claims are atomic: of many threads claiming one run at once, exactly one wins."""
    store = open_store(store_url)
    store.start_run("r", dict(method="m", benchmark="b", proxy="p", strategy="s",
                              repetition=0, seed=1), {"benchmark": {}})  # fmt: skip
    wins: list[str] = []

    def grab(i: int) -> None:
        if store.claim_run("r", f"h:{i}:t", 60) is None:
            wins.append(f"h:{i}:t")

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    store.close()
