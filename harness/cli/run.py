"""`harness run`, `list`, `export`, `bench`: the search side of the CLI."""

from __future__ import annotations

import json
from typing import Any

import click

from harness import HarnessError
from harness.store.base import DEFAULT_URL, redact


def _split(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return list(dict.fromkeys(out))


def parse_set(values: tuple[str, ...], option: str = "--set") -> dict[str, Any]:
    """`--set key=value` overrides; values parsed as JSON where they parse."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise HarnessError(f"{option} expects key=value, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


@click.command()
@click.option(
    "--method",
    "methods",
    multiple=True,
    help="Named method(s) (presets of a strategy and a proxy); comma lists ok.",
)
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    help="Strategy(ies), each run with --proxy (default lookup-12) and named by both, e.g. "
    "`--strategy rea --proxy meco` is `rea+meco`; comma lists ok. Adapters: "
    "optuna:<SamplerClass>, nevergrad:<optimizer>.",
)
@click.option(
    "--strategy-set",
    "strategy_sets",
    multiple=True,
    help="Strategy setting key=value for --strategy (repeatable), e.g. population_size=20.",
)
@click.option(
    "--parallel",
    type=int,
    default=1,
    show_default=True,
    help="Candidates in flight per run, each evaluated by its own worker (process, dask); "
    "told in ask order, so the trials depend on the seed and this number only.",
)
@click.option(
    "--benchmark",
    "benchmarks",
    multiple=True,
    default=("nb201-cifar10",),
    show_default=True,
    help="Benchmark(s); comma lists ok (`harness list`).",
)
@click.option("--seeds", type=int, default=5, show_default=True, help="Repetitions per method.")
@click.option(
    "--trials",
    type=int,
    default=None,
    help="Evaluations (proxy queries) per run  [default: the method's own, 100 for every "
    "shipped method]",
)
@click.option(
    "--budget-seconds",
    type=float,
    default=None,
    help="Simulated cost limit per run  [default: none, --trials alone]",
)
@click.option(
    "--master-seed",
    type=int,
    default=0,
    show_default=True,
    help="Derives every run's strategy and proxy seeds.",
)
@click.option(
    "--proxy",
    default=None,
    help="The proxy of each --strategy, and the override of each --method's own  "
    "[default: lookup-12 for --strategy; the method's own]",
)
@click.option(
    "--profile",
    default=None,
    help="Trained/zero-cost proxy profile: smoke (seconds, shipped sample), quick, paper "
    "(the authors' setup)  [default: quick]",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    help="Proxy setting key=value (repeatable; goes to every proxy of the plan that takes "
    "it). Keys: every computed proxy: threads (CPU threads per evaluation, default 1); "
    "contrastive: augment batch_size data device epochs head heldout_images "
    "image_size lr memory_weight momentum negatives profile proj_dim score temperature "
    "train_images variant weight_decay; supervised: the same less head memory_weight "
    "negatives proj_dim score temperature variant; rotation: the supervised keys + score "
    "(augment also unnas); simsiam: the same + proj_dim; naswot, jacov, snip, grad-norm: "
    "batch_size bn data device init scale; swap: those + mu regular repeats sigma; "
    "synflow: bn device image_size init scale; params: scale; flops: image_size scale; "
    "meco: as naswot; zico: those + batches; az-nas: batch_size bn clip_eigenvalues device "
    "image_size reference scale; vkdnw: batch_size bn device grad_params image_size per_tensor "
    "scale; epe-nas, fisher, grasp, plain: as naswot; l2-norm: device init scale; dextr: as "
    "naswot + coordinates curve_size; lookup-12/200: epochs. `harness list` names the "
    "proxies.",
)
@click.option(
    "--benchmark-set",
    "bench_sets",
    multiple=True,
    help="Benchmark setting key=value, e.g. encoding=edge (DARTS: the authors' encoding).",
)
@click.option("--storage", default=DEFAULT_URL, show_default=True, help="Database URL.")
@click.option(
    "--executor",
    type=click.Choice(["serial", "process", "dask"]),
    default=None,
    help="Where runs execute [serial; process if --workers > 1].",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes (process, dask)  [default: one per core, at most one per run, for "
    "computed proxies; 1 for table lookups; the trials are the same either way]",
)
@click.option("--scheduler", default=None, help="Dask scheduler tcp://HOST:PORT [local cluster].")
@click.option(
    "--lease-seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="A run's claim lapses this long after its worker's last heartbeat.",
)
@click.option(
    "--table",
    "table",
    default=None,
    help="NB201 table file (.npz) to use  [default: $HARNESS_NB201_TABLE, else the packaged one]",
)
@click.option(
    "--nats-path",
    default=None,
    help="Official NATS-Bench tss files: look up there  [default: the NB201 table]",
)
@click.option(
    "--nats-trial",
    type=click.Choice(["mean", "sample"]),
    default="mean",
    show_default=True,
    help="With --nats-path: the mean over training trials, or one seeded trial.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress bar, no closing tally; log warnings only.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Also log each skipped run and cache hit (DEBUG); by default the log names new "
    "stores, lease takeovers and retries.",
)
@click.option(
    "--log-file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Append every log record (DEBUG, with time and process) to FILE.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar  [default: only when stderr is a terminal]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "md", "csv", "latex"]),
    default="table",
    show_default=True,
    help="The closing summary: table (compact, for a terminal) or every column as md, csv "
    "or latex (`harness report` gives every table, and html).",
)
def run(
    methods: tuple[str, ...],
    strategies: tuple[str, ...],
    strategy_sets: tuple[str, ...],
    parallel: int,
    benchmarks: tuple[str, ...],
    seeds: int,
    trials: int | None,
    budget_seconds: float | None,
    master_seed: int,
    proxy: str | None,
    profile: str | None,
    sets: tuple[str, ...],
    bench_sets: tuple[str, ...],
    storage: str,
    executor: str | None,
    workers: int | None,
    scheduler: str | None,
    lease_seconds: float,
    table: str | None,
    nats_path: str | None,
    nats_trial: str,
    quiet: bool,
    verbose: int,
    log_file: str | None,
    progress: bool | None,
    fmt: str,
) -> None:
    """Search: methods x benchmarks x seeds, resumable; ends with the summary table.

    Several `harness run` commands (or hosts) may share one store and plan: each run is
    executed once, under a lease; the others take other runs or wait.

    Logging (stderr, `harness: ...`): new stores, lease takeovers and retries; -v adds skipped
    runs and cache hits, -q keeps warnings only; --log-file keeps everything."""
    import sys

    from harness import log

    log.configure(log.level_of(verbose, quiet), log_file)
    click.get_current_context().call_on_close(log.reset)  # on success and on error alike

    from harness import api
    from harness.executors import check_workers

    if progress is None:
        progress = not quiet and sys.stderr.isatty()
    if workers is not None:
        check_workers(workers)
    frame = api.run(
        _split(methods),
        _split(benchmarks),
        seeds,
        trials,
        storage,
        executor,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        lease_seconds=lease_seconds,
        master_seed=master_seed,
        budget_seconds=budget_seconds,
        proxy=proxy,
        proxy_settings=parse_set(sets),
        profile=profile,
        table=table,
        nats_path=nats_path,
        nats_trial=nats_trial,
        benchmark_settings=parse_set(bench_sets),
        strategies=_split(strategies),
        strategy_settings=parse_set(strategy_sets, "--strategy-set"),
        parallel=parallel,
        incumbents=True,  # the summary's numbers, memory bounded by the runs
    )
    statuses = frame.attrs["statuses"]
    if not quiet:
        click.echo(_tally(statuses, storage), err=True)
    if frame.empty:
        click.echo("no trials: every run stopped before its first evaluation (budget too small?)")
        return
    from harness.report.pending import evaluate_hints
    from harness.report.sections import summary_text

    click.echo(summary_text(frame, fmt))
    for line in evaluate_hints(frame, storage) if fmt == "table" else []:
        click.echo(line)


def _tally(statuses: dict[str, str], storage: str) -> str:
    """One line: how many runs this command executed, and how many others had done."""
    n = {k: sum(s == k for s in statuses.values()) for k in ("skipped", "elsewhere")}
    here = len(statuses) - n["skipped"] - n["elsewhere"]
    return (
        f"{here} of {len(statuses)} runs executed here, {n['skipped']} already complete in "
        f"{redact(storage)}, {n['elsewhere']} done by another worker meanwhile"
    )


@click.command("list")
def list_cmd() -> None:
    """Print every registered space, benchmark, proxy, strategy, protocol and method, and
    where each comes from (built-in, or the plugin that registered it)."""
    from harness.benchmarks import BENCHMARKS
    from harness.evaluate import PROTOCOLS
    from harness.methods import METHODS
    from harness.proxies import PROXIES
    from harness.spaces import SPACES
    from harness.strategies import STRATEGIES

    def names(registry: Any) -> str:
        return ", ".join(n + _origin(registry, n) for n in registry.names())

    click.echo("spaces:     " + names(SPACES))
    click.echo("benchmarks:")
    for name, b in BENCHMARKS.items():
        click.echo(f"  {name:18s} {b.describe()}{_origin(BENCHMARKS, name)}")
    click.echo("proxies:    " + names(PROXIES))
    click.echo("strategies: " + names(STRATEGIES))
    adapters = [f"{f.pattern} ({f.about})" + _family_origin(f) for f in STRATEGIES.families()]
    click.echo("adapters:   " + ", ".join(adapters))
    click.echo("protocols:  " + names(PROTOCOLS))
    click.echo("methods:")
    for name, m in METHODS.items():
        click.echo(
            f"  {name:16s} {m.strategy} + {m.proxy}: {m.description}{_origin(METHODS, name)}"
        )


def _origin(registry: Any, name: str) -> str:
    """'' for the harness's own names, else ' [from PLUGIN]'; ' [archived: WHY]' added for a
    name kept for old runs only (`Registry.archive`)."""
    origin = registry.origin(name)
    why = registry.archived(name)
    return ("" if origin == "built-in" else f" [from {origin}]") + (
        f" [archived: {why}]" if why else ""
    )


def _family_origin(family: Any) -> str:
    return "" if family.origin == "built-in" else f" [from {family.origin}]"


COMMANDS = [run, list_cmd]
