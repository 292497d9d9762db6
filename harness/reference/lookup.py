"""The committed reference experiment (lookup track): write it, or check it reproduces.

    harness reference write        # rerun, then rewrite results/reference/ (nox -s figures)
    harness reference check        # rerun and compare (nox -s regression, .ci/run)

`write` records the environment beside the results (`environment.json`). `check` first says how
this environment differs from that record (library versions, numpy's SIMD dispatch, torch's
kernels; the CPU model). Where nothing that decides results differs, every trial (architecture,
score, ground truth, simulated cost) and every table cell must come back identical. Where the
environment differs, the check names the first (run, trial) that diverges and judges the
results with the tolerance of harness.reproduce (means within their committed 95% seed
intervals, methods ranked the same) instead of failing on a last-bit tie. Wall-clock columns
and run ids (which hash code and library versions) are never compared. The proxy study has its
own script, `scripts/study.py`, and is not part of the regression.
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

EXPERIMENT: dict[str, Any] = {
    # bo-gp is left out: ~1 s per trial at 100 trials (see `harness bench grid`) makes it the
    # whole cost of a regression check; its conformance is tested in tests/test_strategies.py
    "methods": ["random", "rea", "tpe", "tpe-optuna"],
    "benchmarks": ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"],
    "seeds": 10,
    "trials": 100,
    "master_seed": 2026,
}
WALL = ["wall_s", "cum_wall_s", "wall_seconds_mean"]


def run_experiment(workers: int = 2) -> pd.DataFrame:
    from harness.executors import execute_plan
    from harness.runner import make_plan
    from harness.store import open_store

    plan = make_plan(
        EXPERIMENT["methods"],
        EXPERIMENT["benchmarks"],
        seeds=EXPERIMENT["seeds"],
        trials=EXPERIMENT["trials"],
        master_seed=EXPERIMENT["master_seed"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'reference.db'}"
        execute_plan(plan, url, workers=workers, progress=sys.stderr.isatty())
        store = open_store(url, create=False)
        frame = store.trials_frame()
        # what reports read: each run's incumbent rows (the check compares their tables too)
        frame.attrs[INCUMBENTS] = _Kept(store.trials_frame(incumbents=True))
        store.close()
    return frame


#: where `run_experiment`'s frame carries the store's incumbent rows of the same runs
INCUMBENTS = "harness.incumbents"


class _Kept:
    """A frame riding in `DataFrame.attrs`: pandas deep-copies attrs into every frame it
    derives, and this one never changes."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __deepcopy__(self, memo: dict[int, object]) -> _Kept:
        return self


def tables(frame: pd.DataFrame) -> dict[str, str]:
    from harness.report.sections import report_tables

    out = {}
    for fmt, ext in (("md", "md"), ("latex", "tex"), ("csv", "csv")):
        for name, text in report_tables(frame, fmt).items():
            if name != "context":  # the context is read from these tables: not one of them
                out[f"{name}.{ext}"] = text
    return out


def write(frame: pd.DataFrame, out: Path | None = None) -> None:
    """Rewrite the reference (`out`, default `reference_dir()`) from `frame`."""
    from harness.report.figures import make_figures

    ref = reference_dir() if out is None else out
    ref.mkdir(parents=True, exist_ok=True)
    frame.to_csv(ref / "trials.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    for name, text in tables(frame).items():
        (ref / name).write_text(text)
    (ref / "experiment.json").write_text(json.dumps(EXPERIMENT, indent=1) + "\n")
    write_environment(ref)
    figures = make_figures(frame, ref / "figures")
    from harness.report.html import write_reference_page

    page = write_reference_page(ref)
    try:
        from harness.report.browser import screenshot

        screenshot(page, ref / "figures" / "report_page.png", width=1200, height=1400)
    except HarnessError as err:  # no playwright/chromium: keep the committed screenshot
        print(f"screenshot skipped: {err}")
    print(f"wrote {ref} ({len(frame)} trials, {len(figures)} figure files)")


def environment_file(out: Path | None = None) -> Path:
    return (reference_dir() if out is None else out) / "environment.json"


def environment_report(out: Path | None = None) -> list[str]:
    """How this environment differs from the one recorded beside the reference (library
    versions and kernels; the CPU model for information). Printed by every check."""
    from harness.environment import differences, environment

    path = environment_file(out)
    if not path.exists():
        print(f"environment: none recorded ({path} missing)", file=sys.stderr)
        return ["no environment recorded"]
    recorded = json.loads(path.read_text())
    here = environment()
    results = differences(recorded, here, include_cpu=False)
    cpu = [d for d in differences(recorded, here) if d not in results]
    for line in results or ["libraries and kernels identical to the recorded ones"]:
        print(f"environment: {line}", file=sys.stderr)
    for line in cpu:
        print(f"environment: {line} (for information)", file=sys.stderr)
    return results


def write_environment(out: Path) -> None:
    """The environment that wrote the reference, beside it (the check compares against it)."""
    from harness.environment import environment

    environment_file(out).write_text(json.dumps(environment(), indent=1, sort_keys=True) + "\n")


def check(
    frame: pd.DataFrame, env_differs: list[str] | None = None, out: Path | None = None
) -> int:
    """Identical trials and tables where the environment is the recorded one; elsewhere the
    first divergence named and the results judged within harness.reproduce's tolerance.
    `out`: the committed reference (default `reference_dir()`)."""
    from harness.reproduce import divergence, judge

    ref = reference_dir() if out is None else out
    committed = pd.read_csv(ref / "trials.csv.gz")
    fresh = pd.read_csv(pd.io.common.StringIO(frame.to_csv(index=False)))
    differs = environment_report(ref) if env_differs is None else env_differs
    forked = divergence(committed, fresh)
    kept = frame.attrs.get(INCUMBENTS)
    sources = [("", frame)] + ([(" (from incumbent rows)", kept.frame)] if kept else [])
    tables_differ = [
        f"table {name}{how} differs from the committed one"
        for how, source in sources
        for name, text in tables(source).items()
        if name.endswith(".csv")
        and _strip_wall_csv((ref / name).read_text()) != _strip_wall_csv(text)
    ]  # fmt: skip
    if forked is None and not tables_differ:
        also = ", also from each run's incumbent rows" if kept else ""
        print(
            f"reference experiment reproduced: {len(fresh)} trials and the tables identical{also}"
        )
        return 0
    if forked is not None:
        print(f"DIVERGED: {forked.line()}", file=sys.stderr)
    for line in tables_differ:
        print(f"DIVERGED: {line}", file=sys.stderr)
    if not differs:
        print("REGRESSION: the environment is the recorded one, so every trial must be "
              "identical", file=sys.stderr)  # fmt: skip
        return 1
    problems = judge(committed, fresh)
    for p in problems:
        print(f"REGRESSION: {p}", file=sys.stderr)
    if not problems:
        print(
            "reference experiment reproduced within tolerance (environment differs: "
            f"{'; '.join(differs)}): every mean within its committed 95% seed interval, "
            "methods ranked the same"
        )
    return 1 if problems else 0


def _strip_wall_csv(text: str) -> str:
    """CSV blocks with the wall-clock columns removed (they are measured, not looked up)."""
    blocks = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        head = [ln for ln in lines if ln.startswith("#")]
        body = "\n".join(ln for ln in lines if not ln.startswith("#"))
        df = pd.read_csv(pd.io.common.StringIO(body))
        df = df.drop(columns=[c for c in WALL if c in df.columns])
        blocks.append("\n".join(head) + "\n" + df.to_csv(index=False))
    return "\n".join(blocks)
