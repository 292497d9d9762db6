"""The Dask executor: one task per run on a Dask distributed cluster.

`--scheduler tcp://HOST:PORT` submits to an existing cluster (workers started by `dask worker`
or dask-jobqueue on SLURM); without it a LocalCluster of `--workers` processes starts on the
loopback interface. Tasks write their trials to the shared store (use a server database when
workers are on other hosts); the client shows progress read back from the store. A worker that
dies mid-run is replaced by the cluster, which reschedules its task; the new attempt takes the
lease of the dead one (at once on the same host, after the lease lapses elsewhere) and resumes
from the stored trials. Trained-proxy runs on a CUDA device ask for one `GPU` resource, so
only workers started with `--resources GPU=1` take them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from typing import Any

from harness import HarnessError
from harness.candidates import Job, evaluate_job
from harness.executors.base import Options, run_in_worker
from harness.proxies import Evaluation
from harness.runner import RunSpec
from harness.store import Store, redact

#: how often one run may be lost with its worker before the plan gives up on it
MAX_ATTEMPTS = 10


def resources(spec: RunSpec) -> dict[str, float]:
    """Cluster resources a run's task needs: a GPU for trained proxies set to a CUDA device."""
    device = str(spec.proxy_settings.get("device", "cpu"))
    return {"GPU": 1} if device.startswith("cuda") else {}


class DaskSession:
    def __init__(self, opts: Options) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise HarnessError(
                "--executor dask needs Dask distributed: pip install 'csnas-harness[dask]'"
            ) from None
        self.opts = opts
        self.cluster: Any = None
        if opts.scheduler:
            try:
                self.client = Client(opts.scheduler, timeout="5s")
            except (OSError, TimeoutError, ValueError) as err:
                reason = redact(str(err).splitlines()[0] if str(err) else type(err).__name__)
                raise HarnessError(
                    f"cannot reach Dask scheduler {opts.scheduler!r}: {reason}"
                ) from None
        else:
            from harness.executors.process import check_main_guard

            check_main_guard()  # a LocalCluster's workers are processes too
            self.cluster = LocalCluster(
                n_workers=opts.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        self.attempts: dict[str, int] = {}
        self._send_plugins()

    def _send_plugins(self) -> None:
        """Single-file plugins go to every worker (a remote host cannot import a file it does
        not have); packages must be installed there, like the harness itself."""
        from harness import plugins

        for path in plugins.single_files(self.opts.plugins):
            self.client.upload_file(str(path), load=False)

    def run_all(self, specs: list[RunSpec], tick: Callable[[], None]) -> dict[str, str]:
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        out: dict[str, str] = {}
        args = (self.opts.url, self.opts.lease_seconds, self.opts.plugins)
        futures = {
            self.client.submit(
                run_in_worker,
                spec,
                *args,
                key=f"harness-run-{spec.run_id}-{uuid.uuid4().hex[:8]}",
                pure=False,
                resources=resources(spec) or None,
            ): spec
            for spec in specs
        }
        pending = set(futures)
        while pending:
            time.sleep(0.2)
            finished = {f for f in pending if f.done()}
            pending -= finished
            tick()
            for fut in finished:
                spec = futures[fut]
                try:
                    run_id, status = fut.result()
                except (KilledWorker, FutureCancelledError, OSError):
                    run_id, status = spec.run_id, self._lost(spec)
                out[run_id] = status
        return out

    def _lost(self, spec: RunSpec) -> str:
        n = self.attempts[spec.run_id] = self.attempts.get(spec.run_id, 0) + 1
        if n >= MAX_ATTEMPTS:
            raise HarnessError(f"run {spec.run_id} was lost with its worker {n} times; giving up")
        logging.getLogger("harness.executors").info(
            "run %s was lost with its Dask worker (attempt %d of %d): trying again",
            spec.run_id,
            n,
            MAX_ATTEMPTS,
        )
        return "lost"

    def evaluator(self) -> DaskEvaluator:
        """The cluster's workers as the evaluators of candidates in flight (`--parallel`)."""
        return DaskEvaluator(self)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def start(opts: Options, store: Store, bar: Any) -> closing[DaskSession]:
    """The session, closed when the `with` block ends (whatever ends it)."""
    return closing(DaskSession(opts))


#: Dask retries a candidate's task this often: after a lost worker, and also after an
#: exception, which it cannot tell apart (a proxy that raises would otherwise run 10 times)
CANDIDATE_RETRIES = 2


class DaskEvaluator:
    """Candidates as Dask tasks (a GPU resource where the proxy runs on CUDA); a task lost
    with its worker is retried by Dask itself (`retries`), then fails the run in one line."""

    def __init__(self, session: DaskSession) -> None:
        self.session = session

    def submit(self, job: Job) -> _DaskPending:
        job = replace(job, plugins=self.session.opts.plugins)
        device = str(job.proxy_settings.get("device", "cpu"))
        future = self.session.client.submit(
            evaluate_job,
            job,
            key=f"harness-candidate-{uuid.uuid4().hex[:12]}",
            pure=False,
            retries=CANDIDATE_RETRIES,
            resources={"GPU": 1} if device.startswith("cuda") else None,
        )
        return _DaskPending(future, job)


class _DaskPending:
    def __init__(self, future: Any, job: Job) -> None:
        self.future, self.job = future, job

    def cancel(self) -> None:
        self.future.cancel()

    def result(self) -> Evaluation:
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        try:
            return Evaluation(**self.future.result())
        except (KilledWorker, FutureCancelledError, OSError) as err:
            raise HarnessError(
                f"a candidate of proxy {self.job.proxy} was lost with its Dask worker "
                f"({type(err).__name__}); giving up"
            ) from None
