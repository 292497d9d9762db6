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


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS says, else the count)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _worker_visible(origin: str, plugins: list[str]) -> bool:
    """True when a worker process builds the same name: built in, an installed entry point
    (origin "module (distribution)"), or a plugin the plan carries."""
    from pathlib import Path

    carried = {Path(p).stem if p.endswith(".py") else p for p in plugins}
    return origin == "built-in" or origin.endswith(")") or origin in carried


def _script_reimported() -> bool:
    """True when worker processes import this process's main module again (multiprocessing
    does for a script file and for `python -m module`), so the names it registers, and those
    of the modules it imports, exist there too. A notebook, an interactive session and
    `python -` (stdin) have no file to import."""
    import os
    import sys

    main = sys.modules.get("__main__")
    spec_name = str(getattr(getattr(main, "__spec__", None), "name", "") or "")
    if spec_name:
        return not spec_name.endswith("__main__")
    path = str(getattr(main, "__file__", "") or "")
    return path.endswith(".py") and os.path.isfile(path)


def _plan_names(plan: Plan) -> list[tuple[Any, str]]:
    """(registry, name) of every proxy, strategy, benchmark and space the plan's runs use,
    once each, in plan order."""
    from harness.benchmarks import BENCHMARKS
    from harness.proxies import PROXIES
    from harness.spaces import SPACES
    from harness.strategies import STRATEGIES

    names: dict[tuple[Any, str], None] = {}
    for r in plan.runs:
        names[(PROXIES, r.proxy)] = None
        names[(STRATEGIES, r.strategy)] = None
        names[(BENCHMARKS, r.benchmark)] = None
        names[(SPACES, BENCHMARKS.get(r.benchmark).space)] = None
    return list(names)


def check_worker_names(plan: Plan, executor: str) -> None:
    """Every name a run needs (proxy, strategy, benchmark, space) must exist in the worker
    processes: refuse, in one line and before any run starts, a name registered only in this
    process (a notebook cell, an interactive session, a module the workers do not import)."""
    if executor == "process" and _script_reimported():
        return  # each worker imports the script again, registrations included
    for registry, name in _plan_names(plan):
        origin = registry.origin(name)
        if _worker_visible(origin, plan.plugins):
            continue
        workers = "Dask workers" if executor == "dask" else "worker processes"
        where = (
            "in this notebook or interactive session (__main__)"
            if origin == "__main__"
            else f"by module {origin}"
        )
        fix = (
            "put the class in a module or .py file and load it as a plugin "
            "(harness.run(..., plugins=['FILE.py']) or --plugin FILE.py)"
            if origin == "__main__"
            else f"load it as a plugin (plugins=[{origin!r}] or --plugin {origin})"
        )
        raise HarnessError(
            f"{registry.kind} {name!r} is registered {where}, which the {workers} cannot "
            f"import: use executor='serial' (--executor serial), or {fix}"
        )


def auto_workers(plan: Plan) -> int:
    """`--workers` left out: one worker per usable core, at most one per run, when the plan's
    runs compute a proxy (each evaluation pins its own CPU threads, see the `threads`
    setting, so the trials are those of a serial run); 1 for table lookups (a lookup run
    takes milliseconds, a worker process seconds to start) and for names a worker process
    could not build (registered in this process only, not through a plugin). With `parallel`
    k > 1, one worker per candidate in flight, at most one per core."""
    from harness.proxies import make_proxy

    tables = {p: getattr(make_proxy(p), "needs_table", False) for p in {r.proxy for r in plan.runs}}
    computed = sum(not tables[r.proxy] for r in plan.runs)
    if not computed:
        return 1
    if not all(_worker_visible(reg.origin(name), plan.plugins) for reg, name in _plan_names(plan)):
        return 1
    in_flight = max(r.parallel for r in plan.runs)
    if in_flight > 1:  # the runs go one after another, each with k candidates on the workers
        return max(1, min(usable_cores(), in_flight))
    return max(1, min(usable_cores(), computed))


def execute_plan(
    plan: Plan,
    url: str,
    executor: str | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = True,
    lease_seconds: float = DEFAULT_SECONDS,
) -> dict[str, str]:
    """Run every run of the plan to completion; returns run_id -> status. The one entry point
    (the API and the CLI call it): without `executor`, `workers` > 1 means `process`, else
    `serial`; `workers=None` chooses (auto_workers)."""
    if workers is None:
        workers = 1 if executor == "serial" else auto_workers(plan)
    executor = default_executor(executor, workers, scheduler)
    if executor not in EXECUTORS:
        raise HarnessError(f"unknown executor {executor!r} (executors: {', '.join(EXECUTORS)})")
    check_workers(workers)
    if scheduler is not None and executor != "dask":
        raise HarnessError(f"--scheduler needs --executor dask, not {executor}")
    if not 1 <= lease_seconds <= 86_400:
        raise HarnessError(f"--lease-seconds must be between 1 and 86400, got {lease_seconds}")
    in_flight = max((r.parallel for r in plan.runs), default=1)
    if executor == "process" and (workers == 1 or (len(plan.runs) == 1 and in_flight == 1)):
        executor = "serial"  # one worker process would only add start-up time
    if executor != "serial":
        check_worker_names(plan, executor)
    from harness import log

    opts = Options(
        log=log.settings(),
        url=url,
        workers=workers,
        scheduler=scheduler,
        lease_seconds=lease_seconds,
        plugins=tuple(plan.plugins),
    )
    return drive(plan, opts, _starter(executor), progress)


__all__ = ["EXECUTORS", "Options", "auto_workers", "default_executor", "execute_plan"]
