"""The optimizer track (`harness reference optimizers`): every shipped strategy, and the
optuna and nevergrad adapters a NAS paper reaches for, with NAS-Bench-201's 12-epoch lookup on
its three datasets, 10 seeds x 100 trials; written to results/reference/optimizers/.

The master seed is the lookup reference's (2026), so `random`, `rea`, `tpe` and `tpe-optuna`
are the reference experiment's very runs (same run ids, same trials). The paired tests are of
`random` (the floor) and of `rea` (NATS-Bench's strongest) against every other strategy, one
table per dataset so Holm's family is one dataset's comparisons. `check` reruns the first
`--seeds` repetitions of every strategy and compares each trial with the committed ones.

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


#: trial columns a rerun must reproduce exactly where the environment is the recorded one
COMPARED = ["run_id", "number", "arch", "score", "truth", "best_truth"]


def check(seeds: int, workers: int | None, out: Path | None = None) -> bool:
    """Rerun the first `seeds` repetitions of every strategy; True when each trial equals the
    committed one (run ids included, so the code and inputs are the committed ones too)."""
    out = reference_dir() / FOLDER if out is None else out
    committed = pd.read_csv(out / "trials.csv.gz")
    plan = track_plan(None, seeds)
    fresh = _trials(plan, None, workers)
    ids = set(plan.run_ids)
    want = committed[committed["run_id"].isin(ids)]
    a = fresh[COMPARED].sort_values(["run_id", "number"]).reset_index(drop=True)
    b = want[COMPARED].sort_values(["run_id", "number"]).reset_index(drop=True)
    missing = ids - set(want["run_id"])
    if missing:
        print(f"{len(missing)} of {len(ids)} runs are not among the committed ones: the code or "
              "its inputs changed (run ids differ)")  # fmt: skip
        return False
    same = a.equals(b)
    differing = sorted(set(fresh["method"][~a.eq(b).all(axis=1).to_numpy()]) if not same else [])
    print(
        f"optimizer track: {len(fresh)} trials of {len(ids)} runs "
        + ("identical" if same else f"DIFFER ({', '.join(differing)})")
    )
    return same


def write(frame: pd.DataFrame, out: Path | None = None) -> None:
    """Trials, the summary/compare/ranks tables, the paired tests against each of VERSUS per
    dataset, figures (critical difference included), into `out`."""
    from harness.reference.lookup import tables
    from harness.report.figures import make_figures
    from harness.report.sections import report_tables

    out = reference_dir() / FOLDER if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "trials.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    for name, text in tables(frame).items():
        (out / name).write_text(text)
    for versus in (v for v in VERSUS if v in set(frame["method"])):
        for fmt in ("md", "csv"):
            blocks = [
                report_tables(
                    frame[frame["benchmark"] == b], fmt, versus=versus, which=("compare",)
                )["compare"]
                for b in BENCHMARKS
                if b in set(frame["benchmark"])
            ]
            (out / f"compare-{versus}.{fmt}").write_text("\n".join(blocks))
    ran = [m for m in PRESETS + ADAPTERS if m in set(frame["method"])]
    experiment = {
        "methods": ran,
        "benchmarks": BENCHMARKS,
        "seeds": SEEDS,
        "trials": TRIALS,
        "master_seed": MASTER_SEED,
    }
    (out / "experiment.json").write_text(json.dumps(experiment, indent=1) + "\n")
    make_figures(frame, out / "figures")
    print(f"wrote {out} ({len(frame)} trials)")
