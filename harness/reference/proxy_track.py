"""The label-free proxy track (`harness reference proxy-track`): written to
results/reference/proxy-track/, not part of the regression (training is not guaranteed
bit-identical across machines and torch builds).

CSNAS against the same TPE with a supervised proxy, with the zero-cost label-free proxies and
with lookup baselines, on NB201 CIFAR-10; on CIFAR-100 and ImageNet16-120 the data-free
proxies (they need no images, so nothing but the resolution changes) beside the same lookup
baselines. Trained proxies at the quick profile, zero-cost proxies at their authors' settings;
on ImageNet16-120 the Gaussian inputs are 16x16, the dataset's resolution, as in the study.

Resumable: `--storage` keeps the runs, and rerunning continues where it stopped. `--methods`
and `--benchmarks` run a subset and keep the committed trials of every other (method,
benchmark) pair (same plan, same seeds), so pairs can be added to the committed track one at
a time.
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

#: the track's folder in the reference
FOLDER = "proxy-track"
CIFAR10_METHODS = [
    "csnas", "supervised-tpe", "synflow-tpe", "naswot-tpe", "swap-tpe", "tpe", "rea", "random",
    "az-nas-rea", "meco-rea", "az-nas-tpe", "meco-tpe", "zico-tpe", "vkdnw-tpe",
]  # fmt: skip
#: methods whose proxy needs no images (and no labels), with the lookup baselines
DATA_FREE_METHODS = ["az-nas-rea", "az-nas-tpe", "synflow-tpe", "vkdnw-tpe", "tpe", "rea", "random"]
#: benchmark -> (its methods, plan-wide proxy settings)
TRACK: dict[str, tuple[list[str], dict[str, Any]]] = {
    "nb201-cifar10": (CIFAR10_METHODS, {}),
    "nb201-cifar100": (DATA_FREE_METHODS, {}),
    "nb201-imagenet16": (DATA_FREE_METHODS, {"image_size": 16}),
}
SEEDS = 10
MASTER_SEED = 0
#: the 0-label recipe fixed before its results were seen (AZ-NAS's published aggregation,
#: searched with REA) and REA driven by the study table's strongest label-free proxy: the
#: paired tests of each against every other method are written beside csnas's
VERSUS = ("az-nas-rea", "meco-rea")


def track_plan(methods: list[str] | None = None, benchmarks: list[str] | None = None) -> Any:
    """The track's runs, or those of the named methods and benchmarks (each where the track
    has it); an unknown name is an error, and so is a selection with no run."""
    from harness.runner import Plan, make_plan

    known = sorted({m for ms, _ in TRACK.values() for m in ms})
    for name in methods or []:
        if name not in known:
            raise HarnessError(f"--methods: {name!r} is not in the track ({', '.join(known)})")
    for name in benchmarks or []:
        if name not in TRACK:
            raise HarnessError(f"--benchmarks: {name!r} is not in the track ({', '.join(TRACK)})")
    runs, plugins = [], []
    for bench in benchmarks or list(TRACK):
        track_methods, settings = TRACK[bench]
        chosen = [m for m in track_methods if methods is None or m in methods]
        if chosen:
            part = make_plan(
                chosen, [bench], seeds=SEEDS, master_seed=MASTER_SEED, proxy_settings=settings
            )
            runs += part.runs
            plugins += [p for p in part.plugins if p not in plugins]
    if not runs:
        raise HarnessError("--methods/--benchmarks: the track has no run with those names")
    return Plan(runs, plugins=plugins)


def with_committed(fresh: pd.DataFrame, committed: pd.DataFrame | None) -> pd.DataFrame:
    """The fresh runs plus the committed trials of every (method, benchmark) not rerun now."""
    if committed is None:
        return fresh
    pairs = set(zip(fresh["method"], fresh["benchmark"]))
    keep = [pair not in pairs for pair in zip(committed["method"], committed["benchmark"])]
    return pd.concat([committed[keep], fresh], ignore_index=True)


def run(
    storage: str | None,
    methods: list[str] | None,
    benchmarks: list[str] | None = None,
    out: Path | None = None,
) -> None:
    """Run (or resume) the track, then write whatever runs are complete into `out` (default
    the reference's proxy-track/)."""
    from harness.executors import execute_plan
    from harness.store import open_store

    plan = track_plan(methods, benchmarks)
    with tempfile.TemporaryDirectory() as tmp:
        url = storage or f"sqlite:///{Path(tmp) / 'proxy-track.db'}"
        execute_plan(plan, url, workers=None, progress=sys.stderr.isatty())  # a worker per core
        store = open_store(url, create=False)
        fresh = store.trials_frame(plan.run_ids)
        store.close()
    fresh = pd.read_csv(pd.io.common.StringIO(fresh.to_csv(index=False)))  # the file's dtypes
    out = reference_dir() / FOLDER if out is None else out
    path = out / "trials.csv.gz"
    write(with_committed(fresh, pd.read_csv(path) if path.exists() else None), out)


def write_compares(
    frame: pd.DataFrame, versus: tuple[str, ...], benchmarks: list[str], out: Path
) -> None:
    """`compare-<v>.md`/`.csv` for each method `v` of `versus` the frame holds: its paired
    tests against every other method, one table per benchmark where it ran (Holm adjusts over
    that benchmark's comparisons)."""
    from harness.report.sections import report_tables

    for v in (v for v in versus if v in set(frame["method"])):
        benches = [b for b in benchmarks if v in set(frame.loc[frame["benchmark"] == b, "method"])]
        for fmt in ("md", "csv"):
            blocks = [
                report_tables(frame[frame["benchmark"] == b], fmt, versus=v, which=("compare",))
                for b in benches
            ]
            text = "\n".join(block["compare"] for block in blocks)
            (out / f"compare-{v}.{fmt}").write_text(text)


def write(frame: pd.DataFrame, out: Path | None = None) -> None:
    """Trials, tables (every benchmark), the paired tests against VERSUS (one table per
    benchmark, so Holm's family is one dataset's comparisons), figures; into `out` (default
    the reference's proxy-track/)."""
    from harness.reference.lookup import tables
    from harness.report.figures import make_figures

    out = reference_dir() / FOLDER if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "trials.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    for name, text in tables(frame).items():
        (out / name).write_text(text)
    write_compares(frame, VERSUS, list(TRACK), out)
    pairs = set(zip(frame["method"], frame["benchmark"]))
    ran = {bench: [m for m in ms if (m, bench) in pairs] for bench, (ms, _) in TRACK.items()}
    experiment = {
        "methods": {b: ms for b, ms in ran.items() if ms},
        "proxy_settings": {b: s for b, (_, s) in TRACK.items() if s and ran[b]},
        "seeds": SEEDS,
        "master_seed": MASTER_SEED,
    }
    (out / "experiment.json").write_text(json.dumps(experiment, indent=1) + "\n")
    make_figures(frame, out / "figures")
    print(f"wrote {out} ({len(frame)} trials)")
