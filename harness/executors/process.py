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
import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from harness.executors.base import Options, run_in_worker
from harness.runner import RunSpec
from harness.store import Store


def _init_worker(threads: int, parent: int) -> None:
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


class ProcessSession:
    def __init__(self, opts: Options) -> None:
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
            initargs=(self.threads, os.getpid()),
        )

    def run_all(self, specs: list[RunSpec], tick: Callable[[], None]) -> dict[str, str]:
        """Every run once; runs a dying worker took down are submitted again to a new pool."""
        out: dict[str, str] = {}
        args = (self.opts.url, self.opts.lease_seconds)
        todo = list(specs)
        while todo:
            try:
                futures = {self.pool.submit(run_in_worker, spec, *args): spec for spec in todo}
            except cf.process.BrokenProcessPool:  # a worker died while the pool was idle
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

    def _rebuild(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._pool()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def start(opts: Options, store: Store, bar: Any) -> closing[ProcessSession]:
    """The session, closed when the `with` block ends (whatever ends it)."""
    return closing(ProcessSession(opts))
