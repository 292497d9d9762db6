"""Executors: serial, process and Dask give the same trials; a Dask worker killed with SIGKILL
mid-plan costs nothing; trained-proxy tasks ask the cluster for a GPU."""

from __future__ import annotations

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


def test_a_dask_worker_killed_mid_plan_changes_nothing(tmp_path, dask_cluster):
    from distributed import Client

    plan = dict(methods=["tpe", "rea"], benchmarks=["nb201-cifar100"], seeds=3, trials=40)
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
        count = 0
        while time.time() < deadline and count < total // 4:
            time.sleep(0.05)
            count = _count(url, make_plan(**plan).run_ids)
        assert count < total, "the plan finished before a worker could be killed"
        os.kill(next(iter(pids.values())), signal.SIGKILL)
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
