"""Candidates in flight: where a run's proxy evaluations execute when it keeps several.

With `--parallel k` a run asks k candidates before the first is told; each candidate's
evaluation is a `Job` handed to an `Evaluator`: inline (this process, lazily, in ask order:
the serial executor), the process executor's worker pool, or Dask workers. The runner tells
the results in ask order, so what a strategy sees, and so the trials, depend on the seed and
k only, never on which evaluation finished first or where it ran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.proxies import Evaluation


@dataclass(frozen=True)
class Job:
    """One candidate's evaluation, in terms a fresh worker process can rebuild."""

    proxy: str
    proxy_settings: dict[str, Any]
    arch: Any
    benchmark: str
    benchmark_settings: dict[str, Any]
    seed: int
    plugins: tuple[str, ...] = field(default=())


class Pending(Protocol):
    """An evaluation under way; `result` waits for it, `cancel` drops it (a run that stops
    leaves no work queued behind the next run's candidates)."""

    def result(self) -> Evaluation: ...

    def cancel(self) -> None: ...


class Evaluator(Protocol):
    """Where jobs execute (an executor's workers). `submit` must not block on the job."""

    def submit(self, job: Job) -> Pending: ...


class Done:
    """An evaluation already known (a cache hit, a table lookup)."""

    def __init__(self, evaluation: Evaluation) -> None:
        self._evaluation = evaluation

    def result(self) -> Evaluation:
        return self._evaluation

    def cancel(self) -> None:
        """Nothing is under way."""


class Deferred:
    """An evaluation run in this process when its result is first asked for (in ask order,
    since the runner tells in ask order): the serial executor's k candidates in flight."""

    def __init__(self, proxy: Any, arch: Any, benchmark: Any, seed: int) -> None:
        self._args = (proxy, arch, benchmark, seed)
        self._evaluation: Evaluation | None = None

    def result(self) -> Evaluation:
        if self._evaluation is None:
            proxy, arch, benchmark, seed = self._args
            self._evaluation = proxy.evaluate(arch, benchmark, seed)
        return self._evaluation

    def cancel(self) -> None:
        """Nothing was started."""


_PROXIES: dict[str, Any] = {}


def evaluate_job(job: Job) -> dict[str, Any]:
    """What a worker runs for one candidate: the job's plugins imported, its proxy built once
    per process (per settings) and kept, its benchmark resolved; the evaluation as a dict."""
    from harness import plugins as plugin_modules
    from harness.benchmarks import BENCHMARKS
    from harness.proxies import make_proxy

    plugin_modules.load(job.plugins)
    key = job.proxy + json.dumps(job.proxy_settings, sort_keys=True, default=str)
    proxy = _PROXIES.get(key)
    if proxy is None:
        proxy = _PROXIES[key] = make_proxy(job.proxy, **job.proxy_settings)
    benchmark = BENCHMARKS.get(job.benchmark)
    if job.benchmark_settings:
        benchmark = benchmark.configure(**job.benchmark_settings)
    return proxy.evaluate(job.arch, benchmark, job.seed).to_dict()


__all__ = ["Deferred", "Done", "Evaluator", "Job", "Pending", "evaluate_job"]
