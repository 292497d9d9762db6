"""`harness bench <what>`: the speed figures, printed and never asserted (harness/bench/).

`grid` (the harness over a bare loop, executors, databases, store writes, GP-BO),
`strategies` (each strategy's own ask + tell per trial), `proxies`
(trained proxies: seconds per cell, images/s), `zero-cost` (seconds per cell of each
zero-cost proxy), `evaluate` (evaluate's training step, projected schedule hours).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness import HarnessError
from harness.cli.run import _split


@click.group()
def bench() -> None:
    """Measure speed (printed figures; run on a quiet machine)."""


@bench.command("strategies")
@click.option("--strategy", "names", multiple=True, help="Strategies [the optimizer track's].")
@click.option("--trials", type=int, default=100, show_default=True)
@click.option("--seeds", type=int, default=3, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write JSON.")
def strategies(names: tuple[str, ...], trials: int, seeds: int, out: str | None) -> None:
    """Each strategy's own cost per trial: ask + tell in ms on table lookups (mean over the
    run and over its last tenth), and its construction; medians over seeds."""
    from harness.bench.strategies import DEFAULT, run_bench
    from harness.strategies import STRATEGIES

    for flag, value in (("--trials", trials), ("--seeds", seeds)):
        if not 1 <= value <= 100_000:
            raise HarnessError(f"{flag} must be between 1 and 100000, got {value}")
    chosen = _split(names) or DEFAULT
    for name in chosen:
        STRATEGIES.get(name)  # unknown: one line before any timing
    rows = run_bench(chosen, trials, seeds)
    if out:
        Path(out).write_text(json.dumps(rows, indent=1) + "\n")


@bench.command("grid")
@click.option("--seeds", type=int, default=10, show_default=True)
@click.option("--trials", type=int, default=100, show_default=True)
@click.option("--workers", type=int, default=2, show_default=True)
@click.option("--gp-trials", type=int, default=100, show_default=True)
@click.option(
    "--repeats",
    type=int,
    default=3,
    show_default=True,
    help="Interleaved bare/harness pairs; the median ratio is reported.",
)
@click.option(
    "--postgres",
    default="auto",
    show_default=True,
    help="PostgreSQL URL to measure on; 'auto' starts a throwaway server; 'none' skips it.",
)
@click.option(
    "--executors", default="serial,process,dask", show_default=True, help="Which to time."
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write JSON.")
def grid(
    seeds: int,
    trials: int,
    workers: int,
    gp_trials: int,
    repeats: int,
    postgres: str,
    executors: str,
    out: str | None,
) -> None:
    """Measure the harness: overhead over a bare loop, the lookup grid per executor and
    database, store write cost per trial, GP-BO cost."""
    from harness.bench.grid import run_bench
    from harness.executors import EXECUTORS, check_workers

    sizes = (("--seeds", seeds), ("--trials", trials), ("--gp-trials", gp_trials))
    for flag, value in (*sizes, ("--repeats", repeats)):
        if not 1 <= value <= 100_000:
            raise HarnessError(f"{flag} must be between 1 and 100000, got {value}")
    check_workers(workers)
    chosen = tuple(_split((executors,)))
    unknown = [e for e in chosen if e not in EXECUTORS]
    if unknown or not chosen:
        raise HarnessError(f"--executors {executors!r}: choose from {', '.join(EXECUTORS)}")
    figures = run_bench(
        seeds=seeds,
        trials=trials,
        workers=workers,
        gp_trials=gp_trials,
        postgres=None if postgres == "none" else postgres,
        executors=chosen,
        repeats=repeats,
    )
    for line in figures["lines"]:
        click.echo(line)
    if out:
        from harness.files import write_text

        write_text(out, json.dumps(figures, indent=1))


@bench.command("proxies")
@click.option("--profile", "profiles", multiple=True, default=("quick", "paper"), show_default=True)
@click.option(
    "--proxy",
    "proxies",
    multiple=True,
    default=("contrastive", "contrastive/simclr", "supervised"),
    show_default=True,
)
@click.option("--cells", type=int, default=2, show_default=True)
@click.option("--paper-cells", type=int, default=1, show_default=True)
@click.option("--paper-epochs", type=int, default=1, show_default=True, help="Then extrapolate.")
@click.option("--no-naive", is_flag=True, help="Skip the naive DataLoader comparison.")
@click.option("--threads", type=int, default=None, help="torch CPU threads.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--benchmark", default="nb201-cifar10", show_default=True, help="Its space's nets.")
def proxies_cmd(
    profiles: tuple[str, ...],
    proxies: tuple[str, ...],
    cells: int,
    paper_cells: int,
    paper_epochs: int,
    no_naive: bool,
    threads: int | None,
    seed: int,
    benchmark: str,
) -> None:
    """Seconds per cell and images/s of the trained proxies, and the speed-up over a naive
    per-image DataLoader pipeline."""
    from harness.bench.proxies import bench_proxies as run
    from harness.bench.proxies import format_table

    for flag, value in (
        ("--cells", cells),
        ("--paper-cells", paper_cells),
        ("--paper-epochs", paper_epochs),
    ):
        if value < 1:
            raise HarnessError(f"{flag} must be >= 1, got {value}")
    rows = run(
        profiles=profiles,
        proxies=proxies,
        cells=cells,
        paper_cells=paper_cells,
        seed=seed,
        naive=not no_naive,
        paper_epochs=paper_epochs,
        benchmark=benchmark,
        threads=threads,
    )
    click.echo(format_table(rows))


@bench.command("zero-cost")
@click.option("--proxy", "proxies", multiple=True, help="Zero-cost proxies; comma lists ok [all].")
@click.option("--benchmark", default="nb201-cifar10", show_default=True)
@click.option("--cells", type=int, default=5, show_default=True, help="Timed cells per proxy.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--threads", type=int, default=1, show_default=True, help="CPU threads (the `threads` setting)."
)
@click.option("--set", "sets", multiple=True, help="Setting override key=value (every proxy).")
def zero_cost(
    proxies: tuple[str, ...],
    benchmark: str,
    cells: int,
    seed: int,
    threads: int,
    sets: tuple[str, ...],
) -> None:
    """Seconds per cell of each zero-cost proxy (default: reference settings, one thread)."""
    import torch

    from harness.bench.peak import measured_peak
    from harness.bench.zero_cost import format_rows, time_proxies, zero_cost_names
    from harness.cli.run import parse_set

    if cells < 1 or threads < 1:
        raise HarnessError(f"--cells and --threads must be >= 1, got {cells} and {threads}")
    names = zero_cost_names(proxies)
    torch.set_num_threads(threads)
    rows = time_proxies(names, benchmark, cells, seed, parse_set(sets), threads)
    click.echo(format_rows(rows, measured_peak(threads), threads))
    click.echo(f"({threads} thread(s), {benchmark}; wall-clock on this machine)")


@bench.command("evaluate")
@click.option("--steps", type=int, default=3, show_default=True, help="Timed steps per case.")
@click.option("--threads", type=int, default=None, help="torch CPU threads.")
@click.option("--device", default="auto", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write JSON.")
def evaluate_cmd(steps: int, threads: int | None, device: str, out: str | None) -> None:
    """Images/s of evaluate's training step (DARTS and NB201 evaluation networks, fp32 vs
    bf16 + channels-last), projected hours of the published schedules, and checkpoint cost."""
    from harness.bench.evaluate import format_lines, run_bench

    if steps < 1:
        raise HarnessError(f"--steps must be >= 1, got {steps}")
    figures = run_bench(steps=steps, threads=threads, device=device)
    for line in format_lines(figures):
        click.echo(line)
    if out:
        Path(out).write_text(json.dumps(figures, indent=1))


def _sizes(text: str, flag: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(float(x)) for x in _split((text,)))
    except ValueError:
        raise HarnessError(f"{flag} must be comma-separated trial counts, got {text!r}") from None
    bad = [n for n in sizes if not 1_000 <= n <= 100_000_000]
    if bad:
        raise HarnessError(f"{flag}: each size must be between 1,000 and 100,000,000, got {bad[0]}")
    return sizes


def _steps(text: str, flag: str) -> tuple[str, ...]:
    from harness.bench.store import STEPS

    steps = tuple(_split((text,)))
    unknown = [x for x in steps if x not in STEPS]
    if unknown or not steps:
        what = unknown[0] if unknown else "(none)"
        raise HarnessError(f"{flag}: unknown step {what!r} (steps: {', '.join(STEPS)})")
    return steps


@bench.command("store")
@click.option("--sizes", default="1e4,1e5,1e6", show_default=True, help="Trials per SQLite store.")
@click.option(
    "--pg-sizes", default="3e6", show_default=True, help="Trials per PostgreSQL store ('' skips)."
)
@click.option(
    "--postgres",
    default="auto",
    show_default=True,
    help="PostgreSQL server URL (databases bench_store_<n> kept and reused) or 'auto' "
    "(a throwaway server).",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the SQLite stores and pages here (reused by the next call) [a temp folder].",
)
@click.option(
    "--steps", default="run,report,page,export", show_default=True, help="Steps on SQLite."
)
@click.option(
    "--pg-steps", default="run,report,page,export", show_default=True, help="On PostgreSQL."
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write JSON.")
def store(
    sizes: str,
    pg_sizes: str,
    postgres: str,
    folder: str | None,
    steps: str,
    pg_steps: str,
    out: str | None,
) -> None:
    """How run, report, page and export time and peak memory grow with the trials in a store:
    real lookup studies of each size, each step its own process (hours at 3,000,000)."""
    from harness.bench.store import run_bench

    rows = run_bench(
        _sizes(sizes, "--sizes"),
        None if postgres == "none" else postgres,
        _sizes(pg_sizes, "--pg-sizes") if pg_sizes.strip() else (),
        folder,
        _steps(steps, "--steps"),
        _steps(pg_steps, "--pg-steps"),
    )
    if out:
        Path(out).write_text(json.dumps(rows, indent=1) + "\n")


@bench.command("dask")
@click.option("--workers", default="1,2,4", show_default=True, help="Local worker counts.")
@click.option(
    "--workload",
    "workloads",
    default="lookup,naswot",
    show_default=True,
    help="lookup (table lookups, milliseconds a trial), naswot (a computed proxy).",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write JSON.")
def dask_cmd(workers: str, workloads: str, out: str | None) -> None:
    """A local Dask cluster's throughput (trials per second, its start-up included) against
    its number of workers, on table lookups and on a computed proxy."""
    from harness.bench.dask import WORKLOADS, run_bench
    from harness.executors import check_workers

    try:
        counts = tuple(int(x) for x in _split((workers,)))
    except ValueError:
        raise HarnessError(f"--workers must be comma-separated counts, got {workers!r}") from None
    for n in counts:
        check_workers(n)
    names = tuple(_split((workloads,)))
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or not names or not counts:
        raise HarnessError(
            f"--workload: unknown {unknown[0] if unknown else '(none)'!r} "
            f"(workloads: {', '.join(WORKLOADS)})"
        )
    rows = run_bench(counts, names)
    if out:
        Path(out).write_text(json.dumps(rows, indent=1) + "\n")


@bench.command("figure")
@click.option(
    "--store",
    "store_json",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="JSON from `harness bench store --out`.",
)
@click.option(
    "--dask",
    "dask_json",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="JSON from `harness bench dask --out`.",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder.")
def figure(store_json: str, dask_json: str | None, out: str) -> None:
    """Draw cost-growth.png/.svg: seconds, peak memory and file sizes against trials, and
    Dask throughput against workers."""
    from harness.bench.figure import draw_files

    for path in draw_files(store_json, dask_json, out):
        click.echo(str(path))
