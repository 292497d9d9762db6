"""The optimizer track (`harness reference optimizers`): every shipped strategy, and the
optuna and nevergrad adapters a NAS paper reaches for, with NAS-Bench-201's 12-epoch lookup on
its three datasets, 10 seeds x 100 trials; written to results/reference/optimizers/.

The master seed is the lookup reference's (2026), so `random`, `rea`, `tpe` and `tpe-optuna`
give the reference experiment's very trials. The paired tests are of
`random` (the floor) and of `rea` (NATS-Bench's strongest) against every other strategy, one
table per dataset so Holm's family is one dataset's comparisons. `check` reruns the first
`--seeds` repetitions of every strategy and compares each trial with the committed ones, as
the lookup reference's check does (identical where the environment is the recorded one).

Resumable: `--storage` keeps the runs; `--methods` runs a subset and keeps the committed trials
of the others.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from harness import HarnessError
from harness.reference import reference_dir

FOLDER = "optimizers"
#: registered methods (a strategy with the lookup), then adapters run as `--strategy NAME`
PRESETS = [
    "random", "rea", "tpe", "tpe-optuna", "bo-gp", "gp-optuna", "smac", "reinforce",
    "local-search",
]  # fmt: skip
ADAPTERS = [
    "optuna:CmaEsSampler", "optuna:QMCSampler", "optuna:NSGAIISampler", "nevergrad:NGOpt",
    "nevergrad:DiscreteOnePlusOne", "nevergrad:PortfolioDiscreteOnePlusOne",
]  # fmt: skip
BENCHMARKS = ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"]
SEEDS = 10
TRIALS = 100
MASTER_SEED = 2026  # the lookup reference's
VERSUS = ("random", "rea")
#: left out of `check`: scikit-optimize's GP costs ~1 s a trial at 100 trials (`harness bench
#: strategies`), most of a check's time; archived upstream and unchanged, it is covered by the
#: conformance kit (tests/test_strategies.py), as in the lookup reference
UNCHECKED = ("bo-gp",)


def track_plan(methods: list[str] | None = None, seeds: int = SEEDS) -> Any:
    """The track's runs (those of `methods` only, when given), the first `seeds` repetitions."""
    from harness.runner import Plan, make_plan

    known = PRESETS + ADAPTERS
    for name in methods or []:
        if name not in known:
            raise HarnessError(f"--methods: {name!r} is not in the track ({', '.join(known)})")
    chosen = [m for m in known if methods is None or m in methods]
    plan = make_plan(
        [m for m in chosen if m in PRESETS],
        BENCHMARKS,
        seeds=SEEDS,
        master_seed=MASTER_SEED,
        trials=TRIALS,
        strategies=[m for m in chosen if m in ADAPTERS],
    )
    return Plan([r for r in plan.runs if r.repetition < seeds], plugins=plan.plugins)


def _trials(plan: Any, storage: str | None, workers: int | None) -> pd.DataFrame:
    from harness.executors import execute_plan
    from harness.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        url = storage or f"sqlite:///{Path(tmp) / 'optimizers.db'}"
        execute_plan(plan, url, workers=workers, progress=sys.stderr.isatty())
        store = open_store(url, create=False)
        fresh = store.trials_frame(plan.run_ids)
        store.close()
    return pd.read_csv(pd.io.common.StringIO(fresh.to_csv(index=False)))  # the file's dtypes


def run(
    storage: str | None, methods: list[str] | None, workers: int | None, out: Path | None = None
) -> None:
    """Run (or resume) the track, then write it with the committed trials of the others."""
    from harness.reference.proxy_track import with_committed

    fresh = _trials(track_plan(methods), storage, workers)
    out = reference_dir() / FOLDER if out is None else out
    path = out / "trials.csv.gz"
    write(with_committed(fresh, pd.read_csv(path) if path.exists() else None), out)


def check(seeds: int, workers: int | None, out: Path | None = None) -> int:
    """Rerun the first `seeds` repetitions of every strategy but UNCHECKED: 0 when each trial
    is identical to the committed one where the environment is the recorded one, or, where it
    differs (other
    library versions or kernels), when each rerun run's result lies within the committed
    seeds' range (`outside_range`); else 1."""
    from harness.reference.lookup import environment_report
    from harness.reproduce import divergence

    out = reference_dir() / FOLDER if out is None else out
    committed = pd.read_csv(out / "trials.csv.gz")
    checked = [m for m in PRESETS + ADAPTERS if m not in UNCHECKED]
    fresh = _trials(track_plan(checked, seeds), None, workers)
    keys = ["method", "benchmark", "repetition"]
    wanted = pd.MultiIndex.from_frame(fresh[keys].drop_duplicates())
    mine = committed[pd.MultiIndex.from_frame(committed[keys]).isin(wanted)]
    differs = environment_report(out)
    forked = divergence(mine, fresh)
    if forked is None:
        print(f"optimizer track reproduced: {len(fresh)} trials of {len(wanted)} runs identical")
        return 0
    print(f"DIVERGED: {forked.line()}", file=sys.stderr)
    if not differs:
        print("REGRESSION: the environment is the recorded one, so every trial must be "
              "identical", file=sys.stderr)  # fmt: skip
        return 1
    problems = outside_range(committed, fresh)
    for problem in problems:
        print(f"REGRESSION: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"optimizer track reproduced within tolerance (environment differs: "
            f"{'; '.join(differs)}): each rerun run's result within the range of the "
            f"committed {SEEDS} seeds"
        )
    return 1 if problems else 0


def outside_range(committed: pd.DataFrame, fresh: pd.DataFrame) -> list[str]:
    """The tolerance where the environment differs, for a rerun of a few seeds: each rerun
    run's final report metric within [min, max] of the committed seeds' final results of the
    same strategy and dataset (a mean over 1-3 seeds has no interval to be judged by)."""
    from harness.reproduce import final_results

    ref = final_results(committed).groupby(["benchmark", "method"])["final"].agg(["min", "max"])
    problems = []
    for row in final_results(fresh).itertuples():
        low, high = ref.loc[(row.benchmark, row.method)]
        if not low <= row.final <= high:
            problems.append(
                f"{row.method} on {row.benchmark}, repetition {row.repetition}: "
                f"{row.final:.2f} outside the committed seeds' {low:.2f} to {high:.2f}"
            )
    return problems


def write(frame: pd.DataFrame, out: Path | None = None) -> None:
    """Trials, the summary/compare/ranks tables, the paired tests against each of VERSUS per
    dataset, figures (critical difference included), into `out`."""
    from harness.reference.lookup import tables, write_environment
    from harness.reference.proxy_track import write_compares
    from harness.report.figures import make_figures

    out = reference_dir() / FOLDER if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    # wall times are measured, never compared (lookup.WALL): 0.1 ms keeps 45,000 trials under
    # 3 MB (2.80 MB against 3.56 MB at full precision)
    frame = frame.assign(**{c: frame[c].round(4) for c in ("wall_s", "cum_wall_s")})
    frame.to_csv(out / "trials.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    for name, text in tables(frame).items():
        (out / name).write_text(text)
    write_compares(frame, VERSUS, BENCHMARKS, out)
    ran = [m for m in PRESETS + ADAPTERS if m in set(frame["method"])]
    experiment = {
        "methods": ran,
        "benchmarks": BENCHMARKS,
        "seeds": SEEDS,
        "trials": TRIALS,
        "master_seed": MASTER_SEED,
    }
    (out / "experiment.json").write_text(json.dumps(experiment, indent=1) + "\n")
    write_environment(out)
    make_figures(frame, out / "figures")
    print(f"wrote {out} ({len(frame)} trials)")


#: the strategies of the candidates-in-flight table (the cheap ones: bo-gp, gp-optuna and smac
#: would add about an hour here for a k of their own) and the numbers in flight
PARALLEL_METHODS = ["random", "rea", "tpe", "tpe-optuna", "reinforce", "local-search"]
PARALLEL_ADAPTERS = ["nevergrad:NGOpt"]
KS = (1, 4, 8)


def parallel_run(storage: str | None, workers: int | None, out: Path | None = None) -> None:
    """The same searches with k = 1, 4, 8 candidates in flight (a table lookup: no worker
    needed, the strategy's view is what changes), then `parallel.csv`/`.md`: each k's mean ±
    sd of the returned cell and its paired difference from k = 1 over the 10 seeds."""
    from harness.runner import make_plan

    frames = []
    for k in KS:
        plan = make_plan(
            PARALLEL_METHODS,
            BENCHMARKS,
            seeds=SEEDS,
            master_seed=MASTER_SEED,
            trials=TRIALS,
            strategies=PARALLEL_ADAPTERS,
            parallel=k,
        )
        frames.append(_trials(plan, storage, workers).assign(k=k))
    table = parallel_table(pd.concat(frames, ignore_index=True))
    out = reference_dir() / FOLDER if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "parallel.csv", index=False)
    (out / "parallel.md").write_text(_markdown(table))
    print(f"wrote {out / 'parallel.csv'} ({len(table)} rows)")


def parallel_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, strategy): k = 1's final result, and each other k's with its
    paired difference (mean, two-sided paired t-test p, wins and losses over the seeds)."""
    from scipy import stats

    frame = frame.assign(strategy=frame["method"].str.replace(r"\[.*\]", "", regex=True))
    last = frame.sort_values("number").groupby(["k", "run_id"]).tail(1)
    rows = []
    for (bench, strategy), group in last.groupby(["benchmark", "strategy"], sort=True):
        finals = {k: g.set_index("repetition")["best_truth"] for k, g in group.groupby("k")}
        base = finals[1]
        row: dict[str, Any] = {
            "benchmark": bench,
            "strategy": strategy,
            "k1_mean": base.mean(),
            "k1_sd": base.std(),
        }
        for k in KS[1:]:
            diff = (finals[k] - base).dropna()
            moved = bool((diff != 0).any())
            row[f"k{k}_mean"] = finals[k].mean()
            row[f"k{k}_sd"] = finals[k].std()
            row[f"k{k}_diff"] = diff.mean()
            row[f"k{k}_p"] = stats.ttest_rel(finals[k][diff.index], base[diff.index]).pvalue if (
                moved and diff.std() > 0) else float("nan")  # fmt: skip
            row[f"k{k}_better"] = int((diff > 0).sum())
            row[f"k{k}_worse"] = int((diff < 0).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown(table: pd.DataFrame) -> str:
    lines = [
        "| dataset | strategy | k = 1 | k = 4 | vs k = 1 | k = 8 | vs k = 1 |",
        "|:---|:---|---:|---:|:---|---:|:---|",
    ]
    for r in table.itertuples():
        cells = [f"{r.k1_mean:.2f} ± {r.k1_sd:.2f}"]
        for k in KS[1:]:
            mean, sd, diff = (getattr(r, f"k{k}_{x}") for x in ("mean", "sd", "diff"))
            p, better, worse = (getattr(r, f"k{k}_{x}") for x in ("p", "better", "worse"))
            shown = "identical" if better == worse == 0 else (
                f"{diff:+.2f}, p {p:.2f}, better on {better}, worse on {worse}")  # fmt: skip
            cells += [f"{mean:.2f} ± {sd:.2f}", shown]
        lines.append(f"| {r.benchmark} | {r.strategy} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: the label-free row: the track's best strategy (gp-optuna: average rank 1.67, tied with the
#: archived bo-gp and first on CIFAR-10, the maintained one chosen) with the strongest label-free
#: proxy of the committed study (MeCo, rho +0.90 on 200 cells), on CIFAR-10 at the label-free
#: track's master seed, so its proxy seeds are those of the track's `meco-rea`
LABEL_FREE = {"strategy": "gp-optuna", "proxy": "meco", "benchmark": "nb201-cifar10"}
LABEL_FREE_MASTER_SEED = 0
#: the label-free track's rows it is compared with (results/reference/proxy-track/)
LABEL_FREE_VERSUS = ["meco-rea", "meco-tpe", "az-nas-rea", "rea", "tpe", "random"]


def label_free_run(storage: str | None, workers: int | None, out: Path | None = None) -> None:
    """Run (or resume) the label-free row, then write `label-free.md`/`.csv`: its summary and
    its paired tests against the label-free track's committed rows, seed by seed."""
    from harness.report.sections import report_tables
    from harness.runner import make_plan

    plan = make_plan(
        [],
        [LABEL_FREE["benchmark"]],
        seeds=SEEDS,
        master_seed=LABEL_FREE_MASTER_SEED,
        trials=TRIALS,
        strategies=[LABEL_FREE["strategy"]],
        proxy=LABEL_FREE["proxy"],
    )
    fresh = _trials(plan, storage, workers)
    out = reference_dir() / FOLDER if out is None else out
    track = pd.read_csv(out.parent / "proxy-track" / "trials.csv.gz")
    track = track[
        (track["benchmark"] == LABEL_FREE["benchmark"]) & track["method"].isin(LABEL_FREE_VERSUS)
    ]
    frame = pd.concat([fresh, track], ignore_index=True)
    name = str(fresh["method"].iloc[0])
    fresh.to_csv(out / "label-free-trials.csv.gz", index=False,
                 compression={"method": "gzip", "mtime": 0})  # fmt: skip
    for fmt in ("md", "csv"):
        text = report_tables(frame, fmt, versus=name, which=("summary", "compare"))
        (out / f"label-free.{fmt}").write_text("\n".join(text.values()))
    print(f"wrote {out / 'label-free.md'} ({len(fresh)} trials of {name})")
