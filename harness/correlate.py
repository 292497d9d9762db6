"""Proxy study: how well does a proxy's score rank cells by the benchmark's ground truth?

Draw K cells uniformly from the 6,466 isomorphism classes (one representative each, the
class's smallest NB201 index), score each with the proxy at every budget (budget = training
epochs), and write side by side with the table's own signals (lookup-12, params, FLOPs,
NASWOT): a per-cell CSV, a summary CSV of Spearman rho / Kendall tau with seeded bootstrap
95% intervals, and a scatter PNG. Correlations are signed with the stored direction, so a
positive value always means 'better proxy score -> better truth'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.benchmarks.nb201 import NB201Benchmark
from harness.proxies import make_proxy
from harness.spaces.nb201 import NB201Cell, NB201Space, canonical_key, format_cell, is_connected

SPACE = NB201Space()
CELL_COLUMNS = [
    "benchmark", "proxy", "budget", "arch", "arch_key", "score", "direction", "truth",
    "status", "wall_s", "lookup_12", "params_M", "flops_M", "naswot",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "proxy", "budget", "n", "spearman_rho", "rho_lo", "rho_hi", "kendall_tau", "tau_lo", "tau_hi",
]  # fmt: skip


def sample_unique_cells(k: int, seed: int, benchmark: NB201Benchmark) -> list[NB201Cell]:
    """K distinct isomorphism classes, uniformly, each as its smallest-index representative."""
    group = benchmark.table["unique_group"]
    reps = np.flatnonzero(group == np.arange(len(group)))
    if not 1 <= k <= len(reps):
        raise HarnessError(f"--sample {k} must be between 1 and {len(reps)} unique cells")
    picks = np.random.default_rng(seed).choice(reps, size=k, replace=False)
    return [SPACE.from_index(int(i)) for i in picks]


def _column(benchmark: NB201Benchmark, name: str) -> np.ndarray | None:
    try:
        return benchmark.table[name]
    except HarnessError:
        return None


def table_signals(arch: NB201Cell, benchmark: NB201Benchmark) -> dict[str, float]:
    """lookup-12 and the table's params/FLOPs/NASWOT (c10 columns where the dataset's are
    missing); NASWOT is NaN for disconnected cells."""
    i = benchmark.index(arch)
    out = {"lookup_12": benchmark.search_value(arch, 12)}
    for key, names in (
        ("params_M", (f"params_{benchmark.prefix}_M", "params_c10_M")),
        ("flops_M", (f"flops_{benchmark.prefix}_M", "flops_c10_M")),
        ("naswot", (f"naswot_score_{benchmark.prefix}", "naswot_score_c10")),
    ):
        col = next((c for c in map(lambda n: _column(benchmark, n), names) if c is not None), None)
        out[key] = float(col[i]) if col is not None else math.nan
    if not is_connected(arch):
        out["naswot"] = math.nan
    return out


#: extra 'proxies' straight from the table: column, direction
TABLE_PROXIES = {
    "lookup-12": ("lookup_12", "maximize"),
    "params": ("params_M", "maximize"),
    "flops": ("flops_M", "maximize"),
    "naswot": ("naswot", "maximize"),
}


def run_cells(
    proxy: str,
    benchmark: NB201Benchmark,
    cells: Sequence[NB201Cell],
    budgets: Sequence[int],
    seed: int,
    settings: dict[str, Any],
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """One row per (budget, cell) for the proxy, plus one row per cell per table proxy."""
    signals = [table_signals(c, benchmark) for c in cells]
    rows: list[dict[str, Any]] = []
    for budget in budgets:
        p = make_proxy(proxy, **{**settings, "epochs": int(budget)})
        for cell, sig in zip(cells, signals):
            ev = p.evaluate(cell, benchmark, seed)
            rows.append(
                {
                    "benchmark": benchmark.name,
                    "proxy": proxy,
                    "budget": int(budget),
                    "arch": format_cell(cell),
                    "arch_key": canonical_key(cell),
                    "score": ev.score,
                    "direction": ev.direction,
                    "truth": benchmark.report(cell),
                    "status": ev.status,
                    "wall_s": ev.wall_s,
                    **sig,
                }
            )
        if progress is not None:
            progress(f"{proxy} budget {budget}: {len(cells)} cells")
    for name, (column, direction) in TABLE_PROXIES.items():
        for cell, sig in zip(cells, signals):
            rows.append(
                {
                    "benchmark": benchmark.name,
                    "proxy": name,
                    "budget": math.nan,
                    "arch": format_cell(cell),
                    "arch_key": canonical_key(cell),
                    "score": sig[column],
                    "direction": direction,
                    "truth": benchmark.report(cell),
                    "status": "ok",
                    "wall_s": 0.0,
                    **sig,
                }
            )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _oriented(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Scores signed so that larger is better (failed minimise scores are +inf -> -inf)."""
    sign = np.where(frame["direction"].to_numpy() == "minimize", -1.0, 1.0)
    x = frame["score"].to_numpy(dtype=float) * sign
    y = frame["truth"].to_numpy(dtype=float)
    keep = ~np.isnan(x) & ~np.isnan(y)
    return x[keep], y[keep]


def _spearman_rows(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Spearman rho per row of (B, n) resamples, vectorised: Pearson of average ranks."""
    rx = stats.rankdata(xs, axis=1)
    ry = stats.rankdata(ys, axis=1)
    rx -= rx.mean(1, keepdims=True)
    ry -= ry.mean(1, keepdims=True)
    denom = np.sqrt((rx * rx).sum(1) * (ry * ry).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rx * ry).sum(1) / denom, np.nan)


def rank_correlation(
    x: np.ndarray, y: np.ndarray, seed: int = 0, n_resamples: int = 1000
) -> dict[str, float]:
    """Spearman rho and Kendall tau(-b) with percentile bootstrap 95% intervals (paired
    resampling of cells, seeded; degenerate resamples with constant ranks are dropped)."""
    n = len(x)
    nan = {k: math.nan for k in SUMMARY_COLUMNS[3:]}
    if n < 3:
        return {"n": n, **nan}
    rho = float(stats.spearmanr(x, y).statistic)
    tau = float(stats.kendalltau(x, y).statistic)
    idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    rhos = _spearman_rows(x[idx], y[idx])
    with np.errstate(invalid="ignore", divide="ignore"):
        taus = np.array([stats.kendalltau(x[i], y[i]).statistic for i in idx], dtype=float)
    lo_r, hi_r = _interval(rhos)
    lo_t, hi_t = _interval(taus)
    return {
        "n": n,
        "spearman_rho": rho,
        "rho_lo": lo_r,
        "rho_hi": hi_r,
        "kendall_tau": tau,
        "tau_lo": lo_t,
        "tau_hi": hi_t,
    }


def _interval(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def summarize(cells: pd.DataFrame, seed: int = 0, n_resamples: int = 1000) -> pd.DataFrame:
    rows = []
    keys = cells[["proxy", "budget"]].drop_duplicates(ignore_index=True)
    for proxy, budget in keys.itertuples(index=False):
        sel = cells[(cells["proxy"] == proxy) & (cells["budget"].isna() if pd.isna(budget)
                                                  else cells["budget"] == budget)]  # fmt: skip
        x, y = _oriented(sel)
        rows.append({"proxy": proxy, "budget": budget, **rank_correlation(x, y, seed, n_resamples)})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def scatter(cells: pd.DataFrame, summary: pd.DataFrame, path: Path, truth_label: str) -> None:
    """One panel per (proxy, budget): raw proxy score vs ground truth, rho in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(summary)
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.8 * nrows), squeeze=False)
    for ax, row in zip(axes.flat, summary.itertuples(index=False)):
        budget_mask = (
            cells["budget"].isna() if pd.isna(row.budget) else cells["budget"] == row.budget
        )
        sel = cells[(cells["proxy"] == row.proxy) & budget_mask]
        sel = sel[np.isfinite(sel["score"].to_numpy(dtype=float))]
        ax.scatter(sel["score"], sel["truth"], s=10, alpha=0.7)
        label = row.proxy if pd.isna(row.budget) else f"{row.proxy} @{int(row.budget)} ep"
        ax.set_title(f"{label}\nrho={row.spearman_rho:.2f} (n={row.n})", fontsize=9)
        direction = sel["direction"].iloc[0] if len(sel) else ""
        ax.set_xlabel(f"score ({direction})", fontsize=8)
        ax.set_ylabel(truth_label, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def correlate(
    proxy: str,
    benchmark: str,
    sample: int,
    budgets: Sequence[int] | None = None,
    profile: str = "quick",
    seed: int = 0,
    out: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    n_resamples: int = 1000,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the study; write cells.csv, summary.csv and scatter.png under `out` if given."""
    bench = BENCHMARKS.get(benchmark)
    settings = {**(settings or {}), "profile": profile}
    if getattr(make_proxy(proxy), "deterministic", False):
        raise HarnessError(f"proxy {proxy!r} is a table lookup; correlate a trained proxy")
    base = make_proxy(proxy, **settings)  # validates every setting up front
    if budgets is None:
        budgets = [int(base.settings()["epochs"])]
    if not budgets or any(int(b) < 1 for b in budgets):
        raise HarnessError(f"--steps must be positive epoch counts, got {list(budgets)}")
    cells = sample_unique_cells(sample, seed, bench)
    frame = run_cells(proxy, bench, cells, budgets, seed, settings, progress)
    summary = summarize(frame, seed, n_resamples)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out / "cells.csv", index=False)
        summary.to_csv(out / "summary.csv", index=False)
        scatter(frame, summary, out / "scatter.png", bench.report_metric)
    return frame, summary
