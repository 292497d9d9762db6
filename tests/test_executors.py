"""Executors: serial, process and Dask give the same trials; a Dask worker killed with SIGKILL
mid-plan costs nothing; trained-proxy tasks ask the cluster for a GPU."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import threading
import time

import pytest

import harness
from harness.executors.dask import resources
from harness.runner import make_plan
from harness.store import open_store

WALL = ["wall_s", "cum_wall_s"]


def _key(frame):
    return frame.drop(columns=WALL).to_csv(index=False)


@pytest.fixture(scope="module")
def dask_cluster():
    """Two worker processes (with nannies that restart a killed one) on loopback."""
    import logging

    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    yield cluster
    cluster.close()


def _count(url, run_ids):
    try:
        store = open_store(url, create=False)
    except harness.HarnessError:
        return 0  # not created yet
    try:
        return store.count_trials(run_ids)
    finally:
        store.close()


PLAN = dict(methods=["random", "tpe"], benchmarks=["nb201-cifar10"], seeds=2, trials=15)


def test_process_and_dask_executors_match_serial(tmp_path, dask_cluster, postgres_url):
    serial = harness.run(**PLAN, storage=f"sqlite:///{tmp_path / 's.db'}")
    assert len(serial) == 60
    process = harness.run(
        **PLAN, storage=f"sqlite:///{tmp_path / 'p.db'}", executor="process", workers=2
    )
    dask = harness.run(
        **PLAN, storage=postgres_url, executor="dask", scheduler=dask_cluster.scheduler_address
    )
    assert _key(process) == _key(serial) == _key(dask)
    assert set(dask.attrs["statuses"].values()) == {"done"}


GATED = """
import time
from pathlib import Path

from harness.methods import METHODS, Method
from harness.proxies import PROXIES, make_proxy

GATE, OPEN_FOR = Path({gate!r}), 10
done = [0]


class Gated:
    \"\"\"lookup-12, but each process holds its 11th evaluation until the gate file exists.\"\"\"

    name, direction, deterministic, needs_table = "gated-12", "maximize", True, True

    def __init__(self):
        self.inner = make_proxy("lookup-12")

    def settings(self):
        return {{}}

    def evaluate(self, arch, benchmark, seed):
        done[0] += 1
        if done[0] > OPEN_FOR and not GATE.exists():
            GATE.with_suffix(".reached").touch()
        while done[0] > OPEN_FOR and not GATE.exists():
            time.sleep(0.02)
        return self.inner.evaluate(arch, benchmark, seed)


PROXIES.register("gated-12", lambda **kw: Gated())
for strategy in ("tpe-hyperopt", "rea"):
    METHODS.register(f"gated-{{strategy}}", Method(f"gated-{{strategy}}", strategy, "gated-12", "x"))
"""


def test_a_dask_worker_killed_mid_plan_changes_nothing(tmp_path, dask_cluster):
    """Every worker process holds its 11th evaluation until the test opens a gate (a plugin
    proxy), so the kill lands mid-plan however fast the machine is."""
    from distributed import Client

    plugin = tmp_path / "gated_plugin.py"
    gate = tmp_path / "gate"
    plugin.write_text(GATED.format(gate=str(gate)))
    plan = dict(methods=["gated-tpe-hyperopt", "gated-rea"], benchmarks=["nb201-cifar100"],
                seeds=3, trials=40, plugins=[str(plugin)])  # fmt: skip
    url = f"sqlite:///{tmp_path / 'dask.db'}"
    total = 2 * 3 * 40
    result: dict = {}

    def search():
        result["frame"] = harness.run(
            **plan, storage=url, executor="dask", scheduler=dask_cluster.scheduler_address
        )

    thread = threading.Thread(target=search)
    thread.start()
    with Client(dask_cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
        deadline = time.time() + 120
        while not gate.with_suffix(".reached").exists():  # a worker waits at its gate
            assert time.time() < deadline, "no worker reached the gate"
            time.sleep(0.05)
        assert _count(url, harness.plan(**plan).run_ids) < total
        os.kill(next(iter(pids.values())), signal.SIGKILL)
    gate.touch()
    thread.join(timeout=180)
    assert not thread.is_alive()
    frame = result["frame"]
    assert len(frame) == total
    assert not frame.duplicated(["run_id", "number"]).any()
    serial = harness.run(**plan, storage=f"sqlite:///{tmp_path / 'serial.db'}")
    assert _key(frame) == _key(serial)


def test_trained_proxy_runs_on_cuda_ask_the_cluster_for_a_gpu():
    cuda = make_plan(["random"], ["nb201-cifar10"], seeds=1, trials=1).runs[0]
    from dataclasses import replace

    assert resources(cuda) == {}
    on_gpu = replace(cuda, proxy_settings={**cuda.proxy_settings, "device": "cuda:0"})
    assert resources(on_gpu) == {"GPU": 1}


class _KillBeforeSecondSpawn(cf.ProcessPoolExecutor):
    """A real pool whose second worker is started just after its first was killed and the
    pool's manager thread has closed the call queue: the interleaving a kill storm hit by chance
    (CI, stop 24), where CPython's submit raised OSError('handle is closed')."""

    def _spawn_process(self) -> None:
        processes = self._processes
        if processes:
            os.kill(next(iter(processes.values())).pid, signal.SIGKILL)
            reader = self._call_queue._reader
            deadline = time.monotonic() + 30
            while not reader.closed and time.monotonic() < deadline:
                time.sleep(0.01)
            assert reader.closed, "the manager thread never closed the call queue"
        super()._spawn_process()


def test_a_worker_killed_while_the_pool_starts_workers_is_survived(tmp_path):
    from harness.executors.base import Options
    from harness.executors.process import ProcessSession

    class Session(ProcessSession):
        pools = 0

        def _pool(self) -> cf.ProcessPoolExecutor:
            Session.pools += 1
            if Session.pools > 1:
                return super()._pool()
            return _KillBeforeSecondSpawn(2, mp_context=self.ctx)

    url = f"sqlite:///{tmp_path / 'k.db'}"
    open_store(url, create=True).close()
    plan = make_plan(PLAN["methods"], PLAN["benchmarks"], seeds=PLAN["seeds"],
                     trials=PLAN["trials"])  # fmt: skip
    session = Session(Options(url=url, workers=2))
    try:
        statuses = session.run_all(list(plan.runs), lambda: None)
    finally:
        session.close()
    assert Session.pools == 2  # the first pool broke and was rebuilt
    assert sorted(statuses) == sorted(plan.run_ids)
    assert set(statuses.values()) <= {"done", "resumed"}
    serial = harness.run(**PLAN, storage=f"sqlite:///{tmp_path / 's.db'}")
    assert _key(harness.trials(url, plan.run_ids)) == _key(serial)
