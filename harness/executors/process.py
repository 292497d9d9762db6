"""The process executor: runs spread over worker processes on this host (`--workers N`).

Workers come from a fork server that has already imported the runner and loaded the
benchmark table (harness.executors.warm), so a worker replaced after a crash starts in
milliseconds. Each worker opens its own store connection. A worker
killed mid-run (kill -9, out of memory) breaks the pool: the pool is rebuilt and the unfinished
runs are tried again; the dead worker's leases are taken over at once (its pid is gone). A
worker whose parent dies exits too, so no orphan goes on writing.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from typing import Any

from harness import HarnessError
from harness.candidates import Job, evaluate_job
from harness.executors.base import Options, run_in_worker
from harness.proxies import Evaluation
from harness.runner import RunSpec
from harness.store import Store

log = logging.getLogger("harness.executors")


def _init_worker(
    threads: int, parent: int, plugins: tuple[str, ...], log: tuple[int, str | None] | None
) -> None:
    from harness import log as harness_log
    from harness import plugins as plugin_modules

    harness_log.configure_worker(log)
    plugin_modules.load(plugins)  # the plan's plugins, before the first run
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    if "torch" in sys.modules:  # set the thread count only where torch is in use
        import torch

        torch.set_num_threads(threads)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.2)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)  # the harness that started us is gone: stop writing at once


def check_main_guard() -> None:
    """Worker processes import the script that started them (so its classes exist there too):
    a script that starts a pool at import, without `if __name__ == "__main__":`, would have
    every new worker start a pool again. Refuse it at once, in one line."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if mp.parent_process() is not None and getattr(main, "__name__", "") == "__mp_main__":
        raise HarnessError(
            f"{path or 'the main script'} started worker processes again inside a worker that "
            'imported it: put the code that calls harness.run under `if __name__ == "__main__":`'
        )
    spec_name = str(getattr(getattr(main, "__spec__", None), "name", ""))
    if spec_name.endswith(".__main__"):
        return  # `python -m package`: multiprocessing never re-imports a package's __main__
    if not path or not str(path).endswith(".py") or not os.path.isfile(path):
        return  # python -c, a notebook, the `harness` command: nothing re-imports a script
    if not _has_main_guard(str(path)):
        raise HarnessError(
            f"{path} starts worker processes when it is imported, and every worker imports "
            'it: put the code that calls harness.run under `if __name__ == "__main__":`'
        )


def _has_main_guard(path: str) -> bool:
    import ast

    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (OSError, SyntaxError, ValueError):
        return True  # cannot tell: let multiprocessing say what it says
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return True
    return False


class ProcessSession:
    def __init__(self, opts: Options) -> None:
        check_main_guard()
        self.opts = opts
        self.threads = max(1, (os.cpu_count() or 1) // opts.workers)
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["harness.executors.warm"])
        self.ctx = ctx
        self.pool = self._pool()

    def _pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            self.opts.workers,
            mp_context=self.ctx,
            initializer=_init_worker,
            initargs=(self.threads, os.getpid(), self.opts.plugins, self.opts.log),
        )

    def run_all(self, specs: list[RunSpec], tick: Callable[[], None]) -> dict[str, str]:
        """Every run once; runs a dying worker took down are submitted again to a new pool."""
        out: dict[str, str] = {}
        args = (self.opts.url, self.opts.lease_seconds, self.opts.plugins)
        todo = list(specs)
        while todo:
            futures = self._submit_all(todo, args)
            if futures is None:  # a worker died while the runs were being handed out
                self._rebuild()
                continue
            todo = []
            pending = set(futures)
            while pending:
                finished, pending = cf.wait(pending, timeout=0.5)
                tick()
                for fut in finished:
                    try:
                        run_id, status = fut.result()
                    except cf.process.BrokenProcessPool:
                        todo.append(futures[fut])
                        continue
                    out[run_id] = status
            if todo:
                self._rebuild()
        return out

    def _submit_all(
        self, specs: list[RunSpec], args: tuple[Any, ...]
    ) -> dict[cf.Future[tuple[str, str]], RunSpec] | None:
        """A future per run, or None where the pool broke meanwhile. A worker that dies while
        `submit` starts another one makes CPython (3.11) raise OSError('handle is closed'), not
        BrokenProcessPool: the pool's manager thread marks it broken and closes its call queue
        without the submit lock, and the new worker's start pickles that closed queue."""
        futures = {}
        try:
            for spec in specs:
                futures[self.pool.submit(run_in_worker, spec, *args)] = spec
        except cf.process.BrokenProcessPool:
            return None
        except OSError:
            if not getattr(self.pool, "_broken", False):  # set before the queue is closed
                raise
            return None
        return futures

    def _rebuild(self) -> None:
        log.info("a worker process died: starting a new pool; its runs are tried again")
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._pool()

    def evaluator(self) -> PoolEvaluator:
        """The pool as the evaluator of candidates in flight (`--parallel`)."""
        return PoolEvaluator(self)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


#: how often one candidate may take its worker down before the run gives up on it
MAX_EVALUATION_ATTEMPTS = 3


class PoolEvaluator:
    """Candidates evaluated on the pool's workers; a worker that dies mid-evaluation breaks
    the pool, which is rebuilt, and the candidate is evaluated again (its result depends on
    its seed only)."""

    def __init__(self, session: ProcessSession) -> None:
        self.session = session

    def submit(self, job: Job) -> _PoolPending:
        return _PoolPending(self.session, replace(job, plugins=self.session.opts.plugins))


class _PoolPending:
    def __init__(self, session: ProcessSession, job: Job) -> None:
        self.session, self.job = session, job
        self.future = self._submit()

    def _submit(self) -> cf.Future[dict[str, Any]]:
        """Submit, rebuilding the pool once where it broke meanwhile (see `_submit_all` for
        the OSError a dying worker can cause)."""
        try:
            return self.session.pool.submit(evaluate_job, self.job)
        except (cf.process.BrokenProcessPool, OSError) as err:
            if isinstance(err, OSError) and not getattr(self.session.pool, "_broken", False):
                raise
            self.session._rebuild()
            return self.session.pool.submit(evaluate_job, self.job)

    def cancel(self) -> None:
        """Dropped if not started; one already running finishes on its worker, unused."""
        self.future.cancel()

    def result(self) -> Evaluation:
        for attempt in range(1, MAX_EVALUATION_ATTEMPTS + 1):
            try:
                return Evaluation(**self.future.result())
            except cf.process.BrokenProcessPool:
                if attempt == MAX_EVALUATION_ATTEMPTS:
                    raise HarnessError(
                        f"a candidate of proxy {self.job.proxy} took its worker process down "
                        f"{attempt} times; giving up"
                    ) from None
                if getattr(self.session.pool, "_broken", False):
                    self.session._rebuild()
                self.future = self._submit()
        raise AssertionError("unreachable")


def start(opts: Options, store: Store, bar: Any) -> closing[ProcessSession]:
    """The session, closed when the `with` block ends (whatever ends it)."""
    return closing(ProcessSession(opts))
