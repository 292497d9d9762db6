"""Executors: where a plan's runs execute. `serial` (this process), `process` (a pool of worker
processes on this host), `dask` (a Dask distributed cluster, local or remote).

All of them drive the same loop (base.drive): runs are claimed under leases, results go to
the shared store, and runs held by other workers are waited for, never run twice.
"""

from __future__ import annotations

from typing import Any

from harness import HarnessError
from harness.executors.base import Options, check_workers, drive
from harness.leases import DEFAULT_SECONDS
from harness.runner import Plan

EXECUTORS = ("serial", "process", "dask")


def _starter(name: str) -> Any:
    """The executor's `start`, imported only when chosen (Dask is an optional dependency)."""
    import importlib

    return importlib.import_module(f"harness.executors.{name}").start


def default_executor(executor: str | None, workers: int, scheduler: str | None) -> str:
    """The one default: an explicit executor; else dask with a scheduler, process with more
    than one worker, serial otherwise."""
    if executor is not None:
        return executor
    if scheduler is not None:
        return "dask"
    return "process" if workers > 1 else "serial"


def execute_plan(
    plan: Plan,
    url: str,
    executor: str | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    lease_seconds: float = DEFAULT_SECONDS,
) -> dict[str, str]:
    """Run every run of the plan to completion; returns run_id -> status. The one entry point
    (the API and the CLI call it): without `executor`, `workers` > 1 means `process`, else
    `serial`."""
    executor = default_executor(executor, workers, scheduler)
    if executor not in EXECUTORS:
        raise HarnessError(f"unknown executor {executor!r} (executors: {', '.join(EXECUTORS)})")
    check_workers(workers)
    if scheduler is not None and executor != "dask":
        raise HarnessError(f"--scheduler needs --executor dask, not {executor}")
    if not 1 <= lease_seconds <= 86_400:
        raise HarnessError(f"--lease-seconds must be between 1 and 86400, got {lease_seconds}")
    if executor == "process" and (workers == 1 or len(plan.runs) == 1):
        executor = "serial"  # one worker process would only add start-up time
    opts = Options(
        url=url,
        workers=workers,
        scheduler=scheduler,
        lease_seconds=lease_seconds,
        plugins=tuple(plan.plugins),
    )
    return drive(plan, opts, _starter(executor), progress)


__all__ = ["EXECUTORS", "Options", "default_executor", "execute_plan"]
