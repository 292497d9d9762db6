"""The plan driver every executor shares: rounds of runs until each is done somewhere.

An executor runs a batch of runs (in this process, in worker processes, on a Dask cluster)
and says how each ended. Runs another worker holds ('busy') or whose lease was lost ('lost')
are tried again after a pause, until every run of the plan is complete: several `harness run`
commands, processes or hosts can therefore share one store and one plan, and each run is
executed exactly once (leases, harness.leases). Progress is read back from the store.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from harness import HarnessError
from harness.candidates import Evaluator
from harness.leases import DEFAULT_SECONDS
from harness.runner import Plan, RunSpec, execute_run
from harness.store import Store, open_store

RETRY = ("busy", "lost")
log = logging.getLogger("harness.executors")


@dataclass(frozen=True)
class Options:
    url: str
    workers: int = 1
    scheduler: str | None = None
    lease_seconds: float = DEFAULT_SECONDS
    poll_seconds: float = 0.5
    plugins: tuple[str, ...] = ()  # imported by every worker before its first run
    #: the parent's logging (harness.log.settings), set up again in each worker process
    log: tuple[int, str | None] | None = None


class Session(Protocol):
    """A started executor (pool, cluster): runs batches of runs, then is closed."""

    def run_all(self, specs: list[RunSpec], tick: Callable[[], None]) -> dict[str, str]:
        """Execute the runs; call `tick` now and then; return run_id -> status."""
        ...


#: (options, store, a function giving the progress bar once it exists) -> a started session
Starter = Callable[[Options, Store, Callable[[], Any]], AbstractContextManager[Session]]


class Progress:
    """A progress bar fed by the store's trial count (every executor, any process)."""

    def __init__(self, store: Store, plan: Plan, enabled: bool) -> None:
        self.store, self.run_ids = store, plan.run_ids
        total = sum(r.trials or 0 for r in plan.runs) or None
        self.bar: Any = _bar(total) if enabled else None
        self.seen = 0
        self.tick()

    def tick(self) -> None:
        if self.bar is None:
            return
        count = self.store.count_trials(self.run_ids)
        self.bar.update(count - self.seen)
        self.seen = count

    def local(self, k: int = 1) -> None:
        """A trial finished in this process: count it without asking the store."""
        if self.bar is not None:
            self.bar.update(k)
            self.seen += k

    def close(self) -> None:
        if self.bar is not None:
            self.tick()
            self.bar.close()


def _bar(total: int | None) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="trial", desc="search", file=sys.stderr, dynamic_ncols=True)


def drive(plan: Plan, opts: Options, start: Starter, progress: bool) -> dict[str, str]:
    """Execute the plan to completion; returns run_id -> 'done', 'resumed', 'skipped' (was
    complete already) or 'elsewhere' (completed meanwhile by another worker or command)."""
    store = open_store(opts.url, create=True)
    results: dict[str, str] = {}
    waited: set[str] = set()
    pending = list(plan.runs)
    bar: Progress | None = None
    try:
        with start(opts, store, lambda: bar) as session:  # the cluster is up: show progress
            bar = Progress(store, plan, progress)
            while pending:
                if any(spec.parallel > 1 for spec in pending):
                    evaluator = getattr(session, "evaluator", lambda: None)()
                    statuses = run_here(pending, store, opts, bar, evaluator)
                else:
                    statuses = session.run_all(pending, bar.tick)
                retry = [s for s in pending if statuses[s.run_id] in RETRY]
                new = [s.run_id for s in retry if s.run_id not in waited]
                if new:
                    log.info(
                        "%d run(s) held by another worker or lost with their lease (%s): "
                        "waiting, then trying again",
                        len(new),
                        ", ".join(new[:3]) + (", ..." if len(new) > 3 else ""),
                    )
                for spec in pending:
                    status = statuses[spec.run_id]
                    if status not in RETRY:
                        elsewhere = status == "skipped" and spec.run_id in waited
                        results[spec.run_id] = "elsewhere" if elsewhere else status
                waited.update(s.run_id for s in retry)
                pending = retry
                if pending:
                    _pause(opts.poll_seconds, bar.tick)
    finally:
        if bar is not None:
            bar.close()
        store.close()
    return results


def run_here(
    specs: list[RunSpec],
    store: Store,
    opts: Options,
    bar: Progress,
    evaluator: Evaluator | None = None,
) -> dict[str, str]:
    """Each run driven by this process, one after another: the serial executor, and every
    executor's runs with several candidates in flight (`--parallel`), whose evaluations go to
    `evaluator` (its workers) while this process asks, tells and stores."""
    out = {}
    for spec in specs:
        out[spec.run_id] = execute_run(
            spec, store, on_trial=bar.local, lease_seconds=opts.lease_seconds, evaluator=evaluator
        )
    bar.tick()
    return out


def _pause(seconds: float, tick: Callable[[], None]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(0.25, seconds))
        tick()


_STORES: dict[str, Store] = {}


def run_in_worker(
    spec: RunSpec, url: str, lease_seconds: float, plugins: tuple[str, ...] = ()
) -> tuple[str, str]:
    """What a worker process (pool or Dask) executes: one run against the shared store, whose
    connection the worker opens once and keeps for the runs it is given after. The plan's
    plugins are imported first (once per process), so their names resolve here too."""
    from harness import plugins as plugin_modules

    plugin_modules.load(plugins)
    store = _STORES.get(url)
    if store is None:
        store = _STORES[url] = open_store(url, create=False, check=False)  # parent checked
    return spec.run_id, execute_run(spec, store, lease_seconds=lease_seconds)


def check_workers(workers: int) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 1024:
        raise HarnessError(f"--workers must be between 1 and 1024, got {workers!r}")
