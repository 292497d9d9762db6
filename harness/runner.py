"""The runner: a plan (methods x benchmarks x repetitions) executed run by run, resumably.

A trial: `params = strategy.ask()`, `arch = space.decode(params)`, `ev = cache or
proxy.evaluate(arch)`, `strategy.tell(loss)`, `truth = benchmark.report(arch)`, `store.add`.
Each trial is committed as it ends. Resume replays the stored trials through a freshly seeded
strategy (checking that it proposes the same parameters), then goes on: a run killed at any
point finishes with exactly the requested trials, none lost and none duplicated.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from harness import HarnessError, __version__
from harness.benchmarks import BENCHMARKS, Benchmark
from harness.methods import METHODS
from harness.proxies import PROXIES, Evaluation, make_proxy
from harness.seeds import derive_seed
from harness.spaces import SPACES
from harness.store import Store, evaluation_key, open_store
from harness.strategies import STRATEGIES, make_strategy


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's trials. Its hash is the run id."""

    method: str
    benchmark: str
    repetition: int
    master_seed: int
    strategy: str
    proxy: str
    trials: int | None
    budget_seconds: float | None = None
    strategy_settings: dict[str, Any] = field(default_factory=dict)
    proxy_settings: dict[str, Any] = field(default_factory=dict)
    benchmark_settings: dict[str, Any] = field(default_factory=dict)

    def resolve_benchmark(self) -> Benchmark:
        benchmark = BENCHMARKS.get(self.benchmark)
        return (
            benchmark.configure(**self.benchmark_settings) if self.benchmark_settings else benchmark
        )

    @property
    def seed(self) -> int:
        """Strategy seed: independent per (method, benchmark, repetition)."""
        return derive_seed(
            self.master_seed, "strategy", self.method, self.benchmark, self.repetition
        )

    @property
    def proxy_seed(self) -> int:
        """Proxy seed: shared by every method at one repetition, so they see the same noise
        (common random numbers) and share cached evaluations."""
        return derive_seed(self.master_seed, "proxy", self.repetition)

    @property
    def run_id(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass
class Plan:
    runs: list[RunSpec]

    @property
    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.runs]


def make_plan(
    methods: list[str],
    benchmarks: list[str],
    seeds: int,
    master_seed: int = 0,
    trials: int | None = None,
    budget_seconds: float | None = None,
    proxy: str | None = None,
    proxy_settings: dict[str, Any] | None = None,
    benchmark_settings: dict[str, Any] | None = None,
) -> Plan:
    """Resolve names and settings up front, so bad input fails before anything is stored."""
    if seeds < 1:
        raise HarnessError(f"--seeds must be a positive number of repetitions, got {seeds}")
    if trials is not None and trials < 1:
        raise HarnessError(f"--trials must be positive, got {trials}")
    if budget_seconds is not None and not budget_seconds > 0:
        raise HarnessError(f"--budget-seconds must be positive, got {budget_seconds}")
    runs = []
    for method_name in methods:
        method = METHODS.get(method_name)
        STRATEGIES.get(method.strategy)
        proxy_name = proxy or method.proxy
        PROXIES.get(proxy_name)
        settings = dict(method.proxy_settings) if proxy is None else {}
        settings.update(proxy_settings or {})
        resolved = make_proxy(proxy_name, **settings)  # validates settings
        n_trials = trials
        if n_trials is None and budget_seconds is None:
            n_trials = _default_trials(method.default_trials, resolved.settings())
        for bench_name in benchmarks:
            benchmark = BENCHMARKS.get(bench_name)
            if benchmark_settings:
                benchmark = benchmark.configure(**benchmark_settings)  # fails early
            SPACES.get(benchmark.space)
            if getattr(resolved, "needs_table", False) and benchmark.truth_source != "table":
                raise HarnessError(
                    f"proxy {proxy_name} (method {method_name}) reads a benchmark table, and "
                    f"{bench_name} has none: use a trained or zero-cost proxy there"
                )
            for rep in range(seeds):
                runs.append(
                    RunSpec(
                        method=method_name,
                        benchmark=bench_name,
                        repetition=rep,
                        master_seed=master_seed,
                        strategy=method.strategy,
                        proxy=proxy_name,
                        trials=n_trials,
                        budget_seconds=budget_seconds,
                        strategy_settings=dict(method.strategy_settings),
                        proxy_settings=resolved.settings(),
                        benchmark_settings=dict(benchmark_settings or {}),
                    )
                )
    return Plan(runs)


def _default_trials(method_default: int, proxy_settings: dict[str, Any]) -> int:
    """Trained proxies take the trial count their profile recommends; lookups the method's."""
    if "profile" in proxy_settings:
        from harness.proxies.profiles import recommended_trials

        return recommended_trials(str(proxy_settings["profile"]))
    return method_default


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version(), "csnas-harness": __version__}
    for dist in ("numpy", "torch", "optuna", "hyperopt", "scikit-optimize", "sqlalchemy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def manifest(spec: RunSpec, strategy_settings: dict[str, Any], proxy: Any) -> dict[str, Any]:
    benchmark = spec.resolve_benchmark()
    return {
        "run_id": spec.run_id,
        "config": asdict(spec),
        "seed": spec.seed,
        "proxy_seed": spec.proxy_seed,
        "strategy_settings": strategy_settings,
        "proxy_settings": proxy.settings(),
        "proxy_direction": proxy.direction,
        "benchmark": {
            "name": benchmark.name,
            "search_metric": benchmark.search_metric,
            "report_metric": benchmark.report_metric,
            "optimum": benchmark.optimum,
            "truth_source": benchmark.truth_source,
            "space": benchmark.space,
            **benchmark.manifest(),
        },
        "versions": _versions(),
        "platform": platform.platform(),
        "argv": sys.argv,
    }


def execute_run(spec: RunSpec, store: Store, on_trial: Callable[[int], None] | None = None) -> str:
    """Run (or resume, or skip if done) one run; returns 'done', 'resumed' or 'skipped'."""
    run_id = spec.run_id
    if store.run_status(run_id) == "done":
        return "skipped"
    benchmark = spec.resolve_benchmark()
    space = SPACES.get(benchmark.space)
    strategy = make_strategy(spec.strategy, space.param_space, spec.seed, **spec.strategy_settings)
    proxy = make_proxy(spec.proxy, **spec.proxy_settings)
    settings_json = json.dumps(proxy.settings(), sort_keys=True)
    store.start_run(
        run_id,
        dict(
            method=spec.method,
            benchmark=spec.benchmark,
            proxy=spec.proxy,
            strategy=spec.strategy,
            repetition=spec.repetition,
            seed=spec.seed,
        ),
        manifest(spec, getattr(strategy, "settings", {}), proxy),
    )
    optimum = benchmark.optimum
    best_loss: float | None = None
    best_score = math.nan
    best_truth: float | None = None
    best_arch: str | None = None
    cum_wall = cum_sim = 0.0

    done = store.trials(run_id)
    for row in done:  # replay: the seeded strategy must propose exactly what was stored
        suggestion = strategy.ask()
        if suggestion.params != row["params"] or suggestion.number != row["number"]:
            raise HarnessError(
                f"run {run_id}: trial {row['number']} in the store differs from the strategy's "
                "replay (code or library versions changed?); use a fresh --storage"
            )
        loss = _loss(row["status"], row["score"], row["direction"])
        strategy.tell(suggestion.number, loss)
        if loss is not None and (best_loss is None or loss < best_loss):
            best_loss, best_score = loss, row["score"]
            best_truth, best_arch = row["truth"], row["arch"]
        cum_wall, cum_sim = row["cum_wall_s"], row["cum_simulated_s"]

    number = len(done)
    while spec.trials is None or number < spec.trials:
        t0 = time.perf_counter()
        suggestion = strategy.ask()
        arch = space.decode(suggestion.params)
        arch_key = space.canonical_key(arch)
        ev, cached = _evaluate(store, proxy, settings_json, arch, arch_key, benchmark, spec)
        if spec.budget_seconds is not None and cum_sim + ev.simulated_s > spec.budget_seconds:
            break  # the next evaluation would exceed the simulated budget
        loss = ev.loss
        strategy.tell(suggestion.number, loss)
        truth = benchmark.report(arch)
        wall = time.perf_counter() - t0
        if loss is not None and (best_loss is None or loss < best_loss):
            best_loss, best_score, best_truth = loss, ev.score, truth
            best_arch = space.format(arch)
        cum_wall += wall
        cum_sim += ev.simulated_s
        store.add_trial(
            dict(
                run_id=run_id,
                number=suggestion.number,
                params=suggestion.params,
                arch=space.format(arch),
                arch_key=arch_key,
                status=ev.status,
                score=ev.score,
                direction=ev.direction,
                truth=truth,
                best_score=best_score,
                best_arch=best_arch,
                best_truth=best_truth,
                regret=_regret(optimum, best_truth),
                wall_s=wall,
                simulated_s=ev.simulated_s,
                cum_wall_s=cum_wall,
                cum_simulated_s=cum_sim,
                labels_used=ev.labels_used,
                cached=cached,
            )
        )
        number += 1
        if on_trial is not None:
            on_trial(1)
    store.finish_run(run_id)
    return "resumed" if done else "done"


def _regret(optimum: float | None, truth: float | None) -> float | None:
    """Regret needs both a known optimum and the incumbent's truth (a table); else None."""
    if optimum is None or truth is None:
        return None
    return optimum - truth


def _loss(status: str, score: float | None, direction: str) -> float | None:
    if status != "ok" or score is None or not math.isfinite(score):
        return None
    return score if direction == "minimize" else -score


def _evaluate(
    store: Store,
    proxy: Any,
    settings_json: str,
    arch: Any,
    arch_key: str,
    benchmark: Any,
    spec: RunSpec,
) -> tuple[Evaluation, bool]:
    """Serve trained-proxy evaluations from the store's cache; table lookups need none."""
    if proxy.deterministic:
        return proxy.evaluate(arch, benchmark, spec.proxy_seed), False
    key = evaluation_key(proxy.name, settings_json, arch_key, spec.proxy_seed)
    hit = store.cached_evaluation(key)
    if hit is not None:
        return Evaluation(**hit), True
    ev = proxy.evaluate(arch, benchmark, spec.proxy_seed)
    store.cache_evaluation(key, proxy.name, settings_json, arch_key, spec.proxy_seed, ev.to_dict())
    return ev, False


# -- executors ------------------------------------------------------------------------------
def _worker(spec: RunSpec, url: str, threads: int) -> tuple[str, str]:
    """Process-pool entry point: each worker opens its own store connection."""
    if threads > 0:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
    store = open_store(url, create=False)
    try:
        return spec.run_id, execute_run(spec, store)
    finally:
        store.close()


def execute_plan(
    plan: Plan,
    url: str,
    workers: int = 1,
    progress: bool = True,
) -> dict[str, str]:
    """Run every run of the plan (in-process, or in `workers` processes); returns statuses."""
    if workers < 1:
        raise HarnessError(f"--workers must be positive, got {workers}")
    store = open_store(url, create=True)
    total = sum(r.trials or 0 for r in plan.runs) or None
    bar = _progress_bar(total, progress)
    bar.update(store.count_trials(plan.run_ids))
    results: dict[str, str] = {}
    try:
        if workers == 1 or len(plan.runs) == 1:
            for spec in plan.runs:
                results[spec.run_id] = execute_run(spec, store, on_trial=bar.update)
        else:
            results = _execute_parallel(plan, url, workers, store, bar)
    finally:
        bar.close()
        store.close()
    return results


def _execute_parallel(plan: Plan, url: str, workers: int, store: Store, bar: Any) -> dict:
    import concurrent.futures as cf
    import multiprocessing as mp

    threads = max(1, (os.cpu_count() or 1) // workers)
    results: dict[str, str] = {}
    seen = bar.n
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        pending = {pool.submit(_worker, spec, url, threads) for spec in plan.runs}
        while pending:
            finished, pending = cf.wait(pending, timeout=0.5)
            for fut in finished:
                run_id, status = fut.result()
                results[run_id] = status
            count = store.count_trials(plan.run_ids)  # progress read back from the store
            bar.update(count - seen)
            seen = count
    return results


class _NullBar:
    n = 0

    def update(self, k: int = 1) -> None:
        self.n += k

    def close(self) -> None:
        pass


def _progress_bar(total: int | None, enabled: bool) -> Any:
    if not enabled:
        return _NullBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="trial", desc="search", file=sys.stderr, dynamic_ncols=True)
