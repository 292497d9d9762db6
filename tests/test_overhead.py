"""What the overhead work changed keeps its guarantees: a trial is written only by its run's
lease holder (checked inside SQLite's insert now), a replayed write is accepted without a
duplicate, one heartbeat thread renews every lease of a process and none after its release,
the manifest's environment is read again when the process imports more, and the breakdown
of `harness bench grid` runs (its figures are printed, never asserted)."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time

import pytest
from test_storage import _fields, _trial

from harness import leases
from harness.store import open_store


@pytest.fixture
def store(storage_url):
    s = open_store(storage_url)
    yield s
    s.close()


def test_only_the_lease_holder_writes_and_a_replayed_write_is_accepted(store):
    store.start_run("r1", _fields(), {"benchmark": {}, "pad": "x" * 5000})
    assert store.claim_run("r1", "A", 60) is None
    assert store.add_trial(_trial("r1", 0, score=5.0), "A")
    assert store.add_trial(_trial("r1", 0, score=-1.0), "A")  # stored before: nothing added
    assert store.add_trials([_trial("r1", 0), _trial("r1", 1, score=6.0)], "A")
    assert not store.add_trial(_trial("r1", 2), "B")  # not the holder: refused
    assert store.take_over("r1", "B", "A", 60)
    assert not store.add_trial(_trial("r1", 2), "A")  # A lost it: nothing written
    assert not store.add_trials([_trial("r1", 1), _trial("r1", 3)], "A")
    assert store.add_trial(_trial("r1", 2, score=7.0), "B")
    rows = store.trials("r1")
    assert [(r["number"], r["score"]) for r in rows] == [(0, 5.0), (1, 6.0), (2, 7.0)]


def test_the_sqlite_store_checkpoints_every_ten_thousand_pages(tmp_path):
    from harness.store.connect import WAL_AUTOCHECKPOINT

    path = tmp_path / "s.db"
    store = open_store(f"sqlite:///{path}")
    try:
        conn = store._writer._conn()
        cur = conn.cursor()
        modes = [cur.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "synchronous")]
        assert modes == ["wal", 1]  # 1: NORMAL
        assert cur.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_AUTOCHECKPOINT
        store.start_run("r1", _fields(), {"benchmark": {}})
        store.claim_run("r1", "A", 60)
        assert store.add_trial(_trial("r1", 0), "A")
        # committed: another connection (another process) reads it at once
        other = sqlite3.connect(path)
        assert other.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == 1
        other.close()
    finally:
        store.close()


def test_one_heartbeat_thread_renews_every_lease_and_none_after_release(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        for run in ("r1", "r2"):
            store.start_run(run, _fields(), {"benchmark": {}})
        a = leases.claim(store, "r1", "A", 0.3)
        b = leases.claim(store, "r2", "A", 0.3)
        assert isinstance(a, leases.Lease) and isinstance(b, leases.Lease)
        beats = [t for t in threading.enumerate() if t.name == "lease-heartbeat"]
        assert len(beats) == 1
        first = {r["run_id"]: r["lease_expires"] for r in store.runs()}
        time.sleep(0.5)  # past the 0.3 s claim: only renewals keep them
        renewed = {r["run_id"]: r["lease_expires"] for r in store.runs()}
        assert all(renewed[r] > first[r] for r in first)
        assert store.claim_run("r1", "B", 60) is not None  # still held by A
        a.stop()
        stopped_at = {r["run_id"]: r["lease_expires"] for r in store.runs()}["r1"]
        time.sleep(0.4)
        assert {r["run_id"]: r["lease_expires"] for r in store.runs()}["r1"] == stopped_at
        assert store.claim_run("r1", "B", 60) is None  # lapsed: B takes it
        assert store.take_over("r2", "C", "A", 60)  # r2 taken from A: A finds it lost
        deadline = time.monotonic() + 5
        while not b.lost.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.lost.is_set()
        b.stop()
        assert not a.lost.is_set()
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_renews_its_own_leases(tmp_path):
    """The parent's heartbeat thread does not exist in a forked child: the child starts one."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    store.start_run("r1", _fields(), {"benchmark": {}})
    store.start_run("r2", _fields(), {"benchmark": {}})
    parent = leases.claim(store, "r1", "P", 0.3)
    assert isinstance(parent, leases.Lease)
    pid = os.fork()
    if pid == 0:  # the child: its own store and lease, renewed by its own thread
        code = 1
        try:
            child_store = open_store(url, check=False)
            lease = leases.claim(child_store, "r2", "C", 0.3)
            before = child_store.runs(["r2"])[0]["lease_expires"]
            time.sleep(0.5)
            after = child_store.runs(["r2"])[0]["lease_expires"]
            lease.stop()
            code = 0 if isinstance(lease, leases.Lease) and after > before else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    parent.stop()
    store.close()
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_manifest_environment_is_read_again_after_more_imports(monkeypatch):
    import harness.runner as runner

    calls = []
    real = runner.environment

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(runner, "environment", counting)
    monkeypatch.setattr(runner, "_ENVIRONMENTS", {})
    if "torch" in sys.modules:
        pytest.skip("torch imported in this process: every manifest reads the environment")
    first = runner._environment()
    assert runner._environment() is first and len(calls) == 1
    monkeypatch.setitem(sys.modules, "harness_test_new_module", sys)  # as if one more import
    runner._environment()
    assert len(calls) == 2
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")  # a kernel variable: read again
    assert runner._environment()["variables"].get("OPENBLAS_CORETYPE") == "Haswell"


def test_the_breakdown_measures_each_part(tmp_path):
    from harness.bench import overhead
    from harness.bench.grid import GRID_BENCHMARKS, GRID_METHODS
    from harness.runner import make_plan

    plan = make_plan(GRID_METHODS, GRID_BENCHMARKS[:1], seeds=1, trials=3)
    parts = overhead.run_parts(plan, f"sqlite:///{tmp_path / 'b.db'}")
    assert [p.name for p in parts] == list(overhead.GAP_PARTS)
    assert [p.count for p in parts] == [4, 12, 12]
    lines = overhead.table(parts, bare=1.0, harness=1.5)
    assert len(lines) == 1 + len(parts) + 1 and "remainder" in lines[-1]
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}", create=False)
    try:  # the parts wrote what a run writes: every trial, every run finished
        assert store.count_trials(plan.run_ids) == 12
        assert {store.run_status(r) for r in plan.run_ids} == {"done"}
    finally:
        store.close()
