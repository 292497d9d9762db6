"""Results in context: where a benchmark with a table lets a summary place its numbers.

Nothing is run: every number comes from the store's returned cells, the benchmark's own table
(its optimum, and the share of its cells that are better than each returned cell) and the
committed reference tracks' summary rows at the same trials budget, shipped with the package
as `harness/assets/reference_rows.csv` (a wheel has no `results/` folder). Those rows are
written from a checkout's committed summaries by `reference_rows_from` (`harness reference
rows`, and after `harness reference write` / `proxy-track`); a test checks the shipped file
equals what the committed results give. Reference rows are shown beside a store's rows,
labelled as such, and never enter its paired tests, ranks or best mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.assets import ASSETS
from harness.report.numbers import fmt_num

#: the shipped reference rows (package data)
REFERENCE_ROWS = ASSETS / "reference_rows.csv"
#: where they live in a checkout, relative to its root (`harness reference rows` writes it)
REFERENCE_ROWS_IN_CHECKOUT = Path("harness") / "assets" / "reference_rows.csv"
#: the committed tracks, in order of preference where both hold a method at one budget: the
#: proxy track ran at `harness run`'s default master seed (0), the main job's
TRACKS: tuple[tuple[str, str], ...] = (("proxy track", "proxy-track"), ("lookup track", "."))
ROW_COLUMNS: tuple[str, ...] = (
    "benchmark",
    "method",
    "trials",
    "n_seeds",
    "test_acc_mean",
    "test_acc_std",
    "regret_mean",
    "labels_used_mean",
    "track",
)
#: the reference methods a summary shows (plus the track's best label-free method)
BASELINES: tuple[str, ...] = ("random", "rea")


def reference_rows_from(reference: str | Path) -> pd.DataFrame:
    """The reference rows from a checkout's committed `results/reference/` (its summary.csv
    and proxy-track/summary.csv): one row per track, benchmark and method (ROW_COLUMNS)."""
    frames = []
    for track, folder in TRACKS:
        path = Path(reference) / folder / "summary.csv"
        s = pd.read_csv(path)
        s = s[s["scale"] == "full"].assign(
            track=track, trials=s["evaluations_mean"].round().astype(int)
        )
        frames.append(s.loc[:, list(ROW_COLUMNS)])
    out = pd.concat(frames, ignore_index=True)
    for c in ("test_acc_mean", "test_acc_std", "regret_mean", "labels_used_mean"):
        out[c] = out[c].astype(float).round(6)
    return out.sort_values(["track", "benchmark", "method", "trials"], kind="stable").reset_index(
        drop=True
    )


def reference_rows_text(reference: str | Path) -> str:
    """`reference_rows_from(reference)` as the CSV text the package ships (and checks)."""
    return str(reference_rows_from(reference).to_csv(index=False, lineterminator="\n"))


def write_reference_rows(reference: str | Path, out: str | Path) -> Path:
    """Write `reference_rows_text(reference)` to `out` (a checkout's package data)."""
    out = Path(out)
    out.write_text(reference_rows_text(reference))
    return out


@lru_cache(maxsize=1)
def _shipped() -> pd.DataFrame:
    try:
        return pd.read_csv(REFERENCE_ROWS)
    except (OSError, ValueError):  # an install without the file: no reference rows
        return pd.DataFrame(columns=list(ROW_COLUMNS))


def reference_rows() -> pd.DataFrame:
    """The shipped reference rows (a copy)."""
    return _shipped().copy()


def _pick(rows: pd.DataFrame) -> pd.DataFrame:
    """random, rea and the best label-free method (0 labels) at one benchmark and budget,
    one row each, from the first track (TRACKS order) that holds it."""
    order = {t: i for i, (t, _) in enumerate(TRACKS)}
    rows = rows.assign(_order=rows["track"].map(order)).sort_values("_order", kind="stable")
    first = rows.drop_duplicates("method")
    chosen = [m for m in BASELINES if m in set(first["method"])]
    free = first[first["labels_used_mean"].eq(0)]
    if len(free):
        chosen.append(str(free.sort_values("test_acc_mean", ascending=False)["method"].iloc[0]))
    picked = first.set_index("method").loc[chosen].reset_index()
    return picked.drop(columns="_order")


def _truth(benchmark: str, optimum: float | None) -> tuple[np.ndarray, str] | str:
    """Every report-metric value the benchmark's own table holds, and what the cells are; or
    why there are none (no table; the store's optimum is not the shipped table's)."""
    none = (
        f"{benchmark} has no table: no optimum, cell percentile or reference rows (its report "
        "metric comes from `harness evaluate`)"
    )
    try:
        from harness.benchmarks import BENCHMARKS

        bench: Any = BENCHMARKS.get(benchmark)
    except Exception:
        return none
    from harness.benchmarks.darts import DartsBenchmark
    from harness.benchmarks.nb201 import NB201Benchmark

    values: np.ndarray | None = None
    label = ""
    # the shipped tables only: another benchmark's truth is not listed cell by cell
    if isinstance(bench, NB201Benchmark) and bench.nats_path is None:
        values = np.asarray(bench.table[bench.report_column], dtype=float)
        label = "NB201 cells"
    elif isinstance(bench, DartsBenchmark) and bench.table is not None:
        values = np.asarray(sorted(bench.table.accuracy.values()), dtype=float)
        label = "DARTS cells with a table value"
    if values is None or len(values) == 0:
        return none
    if optimum is not None and pd.notna(optimum) and abs(float(values.max()) - optimum) > 1e-6:
        return (
            f"{benchmark}: the store's runs read another table than the shipped one (optimum "
            f"{fmt_num(optimum)}): no cell percentile or reference rows"
        )
    return values, label


@dataclass(frozen=True)
class BenchmarkContext:
    """What a summary places one benchmark's rows against."""

    benchmark: str
    optimum: float | None
    cells: int
    cells_label: str
    #: method -> per-seed share (%) of the table's cells better than the returned cell
    worse_than: dict[str, list[float]] = field(default_factory=dict)
    #: method -> trials per run (the budget the reference rows must match)
    trials: dict[str, int] = field(default_factory=dict)
    #: method -> (mean report metric, seeds) of the store's rows
    means: dict[str, tuple[float, int]] = field(default_factory=dict)
    reference: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_COLUMNS))
    reason: str | None = None

    @property
    def has_table(self) -> bool:
        return self.reason is None


def contexts(trials: pd.DataFrame) -> list[BenchmarkContext]:
    """One context per benchmark of the trials frame (sorted by name)."""
    from harness.report.frame import final_rows

    final = final_rows(trials)
    refs = reference_rows()
    out = []
    for bench, g in final.groupby("benchmark", sort=True):
        opt = float(g["optimum"].iloc[0]) if "optimum" in g and g["optimum"].notna().any() else None
        truth = _truth(str(bench), opt)
        if isinstance(truth, str):
            out.append(BenchmarkContext(str(bench), None, 0, "", reason=truth))
            continue
        values, label = truth
        worse: dict[str, list[float]] = {}
        budget: dict[str, int] = {}
        means: dict[str, tuple[float, int]] = {}
        for method, m in g.groupby("method", sort=True):
            m = m[m["report_source"].astype(str).str.startswith("table")]
            acc = m["report_value"].astype(float).dropna()
            if acc.empty:
                continue
            worse[str(method)] = [float(100.0 * np.mean(values > v)) for v in acc]
            budget[str(method)] = int(m["evaluations"].max())
            means[str(method)] = (float(acc.mean()), len(acc))
        here = refs[(refs["benchmark"] == bench) & refs["trials"].isin(set(budget.values()))]
        picked = pd.concat(
            [_pick(r) for _, r in here.groupby("trials", sort=True)] or [here],
            ignore_index=True,
        )
        out.append(
            BenchmarkContext(
                str(bench), float(values.max()), len(values), label, worse, budget, means, picked
            )
        )
    return out


def fmt_share(p: float) -> str:
    """A share of cells in %: whole percent; two significant digits below 1%, one decimal
    above 99%."""
    if 0 < p < 1:
        return f"{p:.2g}%"
    return f"{p:.1f}%" if 99 < p < 100 else f"{p:.0f}%"


def worse_than_text(ctx: BenchmarkContext, method: str) -> str:
    shares = ctx.worse_than[method]
    share = fmt_share(float(np.median(shares)))
    text = f"worse than {share} of the {ctx.cells:,} {ctx.cells_label}"
    if len(shares) > 1:
        text += (
            f" (median over {len(shares)} seeds; {fmt_share(min(shares))} to "
            f"{fmt_share(max(shares))})"
        )
    return text


def context_lines(ctx: BenchmarkContext) -> list[str]:
    """The benchmark's context as sentences (the terminal and the page print these)."""
    if not ctx.has_table:
        return [str(ctx.reason)]
    assert ctx.optimum is not None
    out = [f"optimum {fmt_num(ctx.optimum)}: the best of the {ctx.cells:,} {ctx.cells_label}"]
    out += [f"{m}'s returned cells are {worse_than_text(ctx, m)}" for m in ctx.worse_than]
    if ctx.reference.empty:
        budgets = ", ".join(str(b) for b in sorted(set(ctx.trials.values())))
        out.append(f"no committed reference rows at {budgets or 'this'} trials per run")
    return out


def readings(ctxs: list[BenchmarkContext]) -> list[str]:
    """One sentence per (benchmark, method) with a table: its mean, the committed random
    search's at the same budget and the difference, and its cells' place in the table."""
    out = []
    for ctx in ctxs:
        if not ctx.has_table:
            continue
        for method, (mean, n) in ctx.means.items():
            trials = ctx.trials[method]
            seeds = f"{n} seed{'s' if n != 1 else ''}"
            text = f"{method}: {fmt_num(mean)} on {ctx.benchmark} at {trials} trials ({seeds})"
            ref = ctx.reference
            rnd = ref[(ref["method"] == "random") & (ref["trials"] == trials)]
            if len(rnd):
                r = rnd.iloc[0]
                diff = mean - float(r["test_acc_mean"])
                who = "the committed random search" if method == "random" else "random search"
                text += (
                    f"; {who} at the same budget reaches {fmt_num(r['test_acc_mean'])} "
                    f"(committed {r['track']}, {int(r['n_seeds'])} seeds): {method} is "
                    + (
                        "the same to 0.01 points"
                        if abs(diff) < 0.005
                        else f"{fmt_num(abs(diff))} points {'lower' if diff < 0 else 'higher'}"
                    )
                )
            else:
                text += f"; no committed random search at {trials} trials"
            text += f"; its cells are {worse_than_text(ctx, method)}"
            out.append(text)
    return out


#: the columns of the context table (`harness report --table context`, the API summary's)
#: (a reference row's columns, its track named in `row`, then the shares of the table's cells)
CONTEXT_COLUMNS: tuple[str, ...] = (
    *ROW_COLUMNS[:2],
    "row",
    *(c for c in ROW_COLUMNS[2:] if c != "track"),
    "worse_than_pct",
    "worse_than_pct_min",
    "worse_than_pct_max",
    "optimum",
    "cells",
)


def context_frame(ctxs: list[BenchmarkContext], summary: pd.DataFrame) -> pd.DataFrame:
    """The store's rows (row 'this store') with their cells' shares, then the reference rows
    (row 'reference: <track>'), per benchmark with a table; CONTEXT_COLUMNS."""
    rows: list[dict[str, Any]] = []
    for ctx in ctxs:
        if not ctx.has_table:
            continue
        own = summary[summary["benchmark"] == ctx.benchmark]
        for _, s in own.iterrows():
            shares = ctx.worse_than.get(str(s["method"]))
            rows.append(
                {
                    "benchmark": ctx.benchmark,
                    "method": s["method"],
                    "row": "this store",
                    "trials": ctx.trials.get(str(s["method"])),
                    "n_seeds": s["n_seeds"],
                    "test_acc_mean": s["test_acc_mean"],
                    "test_acc_std": s["test_acc_std"],
                    "regret_mean": s["regret_mean"],
                    "labels_used_mean": s["labels_used_mean"],
                    "worse_than_pct": float(np.median(shares)) if shares else None,
                    "worse_than_pct_min": min(shares) if shares else None,
                    "worse_than_pct_max": max(shares) if shares else None,
                    "optimum": ctx.optimum,
                    "cells": ctx.cells,
                }
            )
        for _, r in ctx.reference.iterrows():
            rows.append(
                {
                    "benchmark": ctx.benchmark,
                    "method": r["method"],
                    "row": f"reference: {r['track']}",
                    "trials": int(r["trials"]),
                    "n_seeds": int(r["n_seeds"]),
                    "test_acc_mean": r["test_acc_mean"],
                    "test_acc_std": r["test_acc_std"],
                    "regret_mean": r["regret_mean"],
                    "labels_used_mean": r["labels_used_mean"],
                    "worse_than_pct": None,
                    "worse_than_pct_min": None,
                    "worse_than_pct_max": None,
                    "optimum": ctx.optimum,
                    "cells": ctx.cells,
                }
            )
    frame = pd.DataFrame(rows, columns=list(CONTEXT_COLUMNS))
    for c in ("worse_than_pct", "worse_than_pct_min", "worse_than_pct_max", "optimum"):
        frame[c] = frame[c].astype(float)
    return frame


def context_caption(ctxs: list[BenchmarkContext]) -> str:
    """What the context table holds, the benchmarks without one, and the readings."""
    tracks = sorted({str(t) for c in ctxs for t in c.reference.get("track", [])})
    lines = [
        "worse_than_pct: the share (%) of the benchmark's table cells whose report metric is "
        "higher than the returned cell's (median over seeds; min and max beside it); optimum: "
        "the table's best value; nothing was run for these columns",
        "reference rows: the committed "
        + (" and ".join(tracks) if tracks else "tracks")
        + " (results/reference/) at the same trials per run: random, rea and the track's best "
        "label-free method; never in this store's paired tests, ranks or best mark",
    ]
    lines += [c.reason for c in ctxs if c.reason]
    lines += readings(ctxs)
    return "\n".join(lines)


def summary_in_context(summary: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """The API's summary: the store's rows (`row` 'this store') with each benchmark's
    optimum and their returned cells' shares (`worse_than_pct*`), then the committed
    reference rows at the same budget (`row` 'reference: <track>', `best` False, nothing the
    committed summary does not hold)."""
    ctxs = {c.benchmark: c for c in contexts(trials)}
    frame = context_frame(list(ctxs.values()), summary)
    own = frame[frame["row"] == "this store"].set_index(["benchmark", "method"])
    own = own[~own.index.duplicated()]
    out = summary.assign(row="this store")
    key = pd.MultiIndex.from_frame(out.loc[:, ["benchmark", "method"]])
    for c in ("optimum", "worse_than_pct", "worse_than_pct_min", "worse_than_pct_max"):
        out[c] = own[c].reindex(key).to_numpy() if len(own) else np.nan
    refs = frame[frame["row"] != "this store"]
    if refs.empty:
        return out
    refs = refs.rename(columns={"trials": "evaluations_mean"}).assign(best=False)
    extra = refs.loc[:, [c for c in refs.columns if c in out.columns]]
    merged = pd.concat([out, extra], ignore_index=True)
    merged["best"] = merged["best"].astype(bool)
    return merged.sort_values(["benchmark"], kind="stable").reset_index(drop=True)
