"""The Python API for notebooks and scripts; the `harness` CLI is a thin layer over it.

    import harness
    trials = harness.run(methods=["tpe", "random"], benchmarks=["nb201-cifar10"], seeds=3,
                         trials=50, storage="sqlite:///study.db")
    harness.summary(trials)                      # one row per benchmark x method
    harness.figures("sqlite:///study.db", out="figures/")

Everything takes a storage URL (SQLite file or PostgreSQL) or, where it reads results, a
trials DataFrame. Bad input raises harness.HarnessError with one line naming it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError
from harness.store.base import DEFAULT_URL

if TYPE_CHECKING:
    import pandas as pd

    from harness.report.results import Results
    from harness.runner import Plan


def _names(value: str | Iterable[str], what: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise HarnessError(f"{what} must be names, got {item!r}")
        out.extend(x.strip() for x in item.split(",") if x.strip())
    if not out:
        raise HarnessError(f"no {what} given")
    return list(dict.fromkeys(out))


def plan(
    methods: str | Iterable[str] | None = (),
    benchmarks: str | Iterable[str] = ("nb201-cifar10",),
    seeds: int = 5,
    trials: int | None = None,
    *,
    master_seed: int = 0,
    budget_seconds: float | None = None,
    proxy: str | None = None,
    proxy_settings: dict[str, Any] | None = None,
    profile: str | None = None,
    table: str | Path | None = None,
    nats_path: str | None = None,
    nats_trial: str = "mean",
    benchmark_settings: dict[str, Any] | None = None,
    plugins: Iterable[str] = (),
    strategies: str | Iterable[str] | None = (),
    strategy_settings: dict[str, Any] | None = None,
    parallel: int = 1,
) -> Plan:
    """The runs `run` would execute (methods x benchmarks x seeds), checked, nothing stored.

    `strategies` run any registered strategy with `proxy` (default `lookup-12`) and
    `strategy_settings`, named by both (`rea+meco`; a registered method that is exactly that
    pairing keeps its name); `proxy` also overrides the named `methods`' own proxy.
    `parallel`: candidates in flight per run, each evaluated by its own worker (1: ask,
    evaluate, tell, one at a time).

    `plugins`: modules (or .py files) that register proxies, strategies, methods, spaces or
    benchmarks (harness.plugins); the plan carries them to every worker.

    `table` (an NB201 table file; default: $HARNESS_NB201_TABLE, else the packaged one)
    becomes part of every run's identity together with its sha256. `benchmark_settings` go to
    every benchmark's `configure` (e.g. {"encoding": "edge"} for the DARTS benchmarks)."""
    from harness.runner import make_plan

    settings = dict(proxy_settings or {})
    if profile is not None:
        settings["profile"] = profile
    if table is None and os.environ.get("HARNESS_NB201_TABLE"):
        table = os.environ["HARNESS_NB201_TABLE"]  # read here, once: it travels in the plan
    named = [] if methods in ((), [], "", None) else _names(methods, "methods")
    paired = [] if strategies in ((), [], "", None) else _names(strategies, "strategies")
    return make_plan(
        named,
        _names(benchmarks, "benchmarks"),
        seeds=seeds,
        master_seed=master_seed,
        trials=trials,
        budget_seconds=budget_seconds,
        proxy=proxy,
        proxy_settings=settings,
        benchmark_settings={
            **(benchmark_settings or {}),
            **({"nats_path": nats_path, "nats_trial": nats_trial} if nats_path else {}),
        }
        or None,
        table=None if table is None else str(table),
        plugins=list(plugins),
        strategies=paired,
        strategy_settings=strategy_settings,
        parallel=parallel,
    )


def run(
    methods: str | Iterable[str] | None = (),
    benchmarks: str | Iterable[str] = ("nb201-cifar10",),
    seeds: int = 5,
    trials: int | None = None,
    storage: str = DEFAULT_URL,
    executor: str | None = None,
    *,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
    lease_seconds: float = 60.0,
    incumbents: bool = False,
    **plan_options: Any,
) -> pd.DataFrame:
    """Search (resumably) and return the plan's trials, one row per run x trial (with
    `incumbents`, only the rows where each run's incumbent changes and its aggregates: the
    report's input, `Store.trials_frame`).

    executor: "serial", "process" (`workers` processes) or "dask" (`scheduler`
    "tcp://host:port", else a local cluster of `workers`); by default process when `workers`
    > 1, dask with a `scheduler`, else serial (harness.executors.default_executor);
    `workers=None` takes one per core for computed proxies (harness.executors.auto_workers:
    the script then needs an `if __name__ == "__main__":` guard). Runs
    already complete in `storage` are not redone; the statuses per run are in
    `frame.attrs["statuses"]`. Other keyword options go to `plan` (master_seed,
    budget_seconds, proxy, proxy_settings, profile, table, nats_path, nats_trial,
    benchmark_settings, plugins, strategies, strategy_settings, parallel)."""
    from harness.executors import execute_plan

    the_plan = plan(methods, benchmarks, seeds, trials, **plan_options)
    statuses = execute_plan(
        the_plan,
        storage,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        lease_seconds=lease_seconds,
    )
    # drive checked the store; `incumbents` reads each run's incumbent rows only (what
    # `harness run`'s closing summary needs: memory follows the runs, not the trials)
    frame = _frame(storage, the_plan.run_ids, check=False, incumbents=incumbents)
    frame.attrs["statuses"] = statuses
    return frame


def _frame(
    storage: str, run_ids: list[str] | None, check: bool = True, incumbents: bool = False
) -> pd.DataFrame:
    from harness.report.results import read_store
    from harness.store import open_store

    store = open_store(storage, create=False, check=check)
    try:  # the report's frame: each run's trained cell and its scale attached; results
        # only (no store timestamps), so two stores holding the same runs give the same frame
        results = read_store(store, run_ids, incumbents=incumbents)
        return results.trials.drop(columns=["run_created"], errors="ignore")
    finally:
        store.close()


def trials(storage: str = DEFAULT_URL, run_ids: list[str] | None = None) -> pd.DataFrame:
    """Every trial in the store (or of `run_ids`), long format: the input of reports."""
    return _frame(storage, run_ids)


def _results_of(source: str | pd.DataFrame) -> Results:
    from harness.report.results import results_of

    return results_of(source)


def summary(
    source: str | pd.DataFrame = DEFAULT_URL, *, seed: int = 0, run_ids: list[str] | None = None
) -> pd.DataFrame:
    """One row per benchmark x method x scale: report metric, regret, labels, cost, with
    bootstrap intervals (the `harness report --table summary` numbers), `row` 'this store'.
    In context, without running anything: each benchmark's `optimum` and the share of its
    table's cells better than the returned cells (`worse_than_pct`, median over seeds; min,
    max), and after the store's rows the committed reference rows at the same trials budget
    (`row` 'reference: proxy track' or 'lookup track': random, rea, the best label-free
    method; never `best`); keep `summary[summary.row == "this store"]` for the store alone.
    Where a (method,
    benchmark, seed) slot holds runs of different identities, one line is warned and only
    one identity is kept (`run_ids` if given, else the newest): never both pooled."""
    import warnings

    from harness.report.frame import one_identity
    from harness.report.tables import summarize

    results = _results_of(source)
    if len(results.trials) == 0:
        raise HarnessError(
            f"no search runs in {results.source}: only cell evaluations "
            "(harness.api.report(..., table='evaluations'))"
        )
    trials, note = one_identity(results.trials, run_ids)
    if note:
        warnings.warn(note, UserWarning, stacklevel=2)
    from harness.report.context import summary_in_context

    return summary_in_context(summarize(trials, seed=seed), trials)


def report(
    source: str | pd.DataFrame = DEFAULT_URL,
    fmt: str = "table",
    *,
    versus: str | None = None,
    table: str = "all",
    seed: int = 0,
    run_ids: list[str] | None = None,
    correlate: str | Path | None = None,
    out: str | Path | None = None,
) -> str:
    """The `harness report` text, by the same code: every table the store allows (summary,
    paired tests, ranks, returned and trained cells) or one of them; fmt "html" gives the
    self-contained study page (written to `out` if given)."""
    from harness.report.output import write_report

    return write_report(
        _results_of(source),
        fmt,
        versus=versus,
        table=table,
        out=out,
        seed=seed,
        run_ids=run_ids,
        correlate=correlate,
    )


def figures(
    source: str | pd.DataFrame = DEFAULT_URL,
    out: str | Path = "results/figures",
    *,
    correlate: str | Path | None = None,
    seed: int = 0,
    dpi: int = 150,
) -> list[Path]:
    """Draw every figure the results allow into `out` (PNG and PDF); returns the files."""
    import warnings

    from harness.report.frame import one_identity
    from harness.report.output import write_figures

    results = _results_of(source)
    if len(results.trials) == 0:
        raise HarnessError(f"no search runs in {results.source}: no figures to draw")
    note = one_identity(results.trials)[1]
    if note:
        warnings.warn(note, UserWarning, stacklevel=2)
    return write_figures(results.trials, out, correlate=correlate, seed=seed, dpi=dpi)
