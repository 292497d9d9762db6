"""Proxy study: how well does a proxy's score rank architectures by the benchmark's truth?

Draw K architectures from distinct isomorphism classes (`space.sample_unique`, uniformly over
the classes where they are known; on a benchmark with a partial table, K of the cells it
holds), score each with every proxy at every budget (training
epochs, for proxies that train) and proxy seed, and write them side by side with the
benchmark's own signals (NB201: lookup-12, params, FLOPs, NASWOT from its table): a per-cell
CSV, a summary CSV (Spearman rho / Kendall tau of the seed-mean score with seeded bootstrap 95%
intervals, the spread of rho across proxy seeds, top-10% overlap) and a scatter PNG.
Correlations are signed with the stored direction, so a positive value always means 'better
proxy score -> better truth'. A readout a proxy records beside its score (e.g. the contrastive
loss before training) becomes a proxy of its own, `proxy:readout`, with the proxy's declared
direction. With a store, evaluations are cached there: a killed study resumes where it was.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harness import HarnessError
from harness.benchmarks import BENCHMARKS, Benchmark
from harness.proxies import Evaluation, make_proxy
from harness.spaces import SPACES

CELL_COLUMNS = [
    "benchmark", "proxy", "budget", "seed", "arch", "arch_key", "score", "direction", "truth",
    "status", "wall_s", "labels_used",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "proxy", "budget", "n", "spearman_rho", "rho_lo", "rho_hi", "kendall_tau", "tau_lo", "tau_hi",
    "seeds", "rho_seed_mean", "rho_seed_sd", "top10_overlap",
]  # fmt: skip


def sample_unique_cells(k: int, seed: int, benchmark: Benchmark) -> list[Any]:
    """K architectures from distinct isomorphism classes of the benchmark's space, seeded."""
    space = SPACES.get(benchmark.space)
    try:
        return space.sample_unique(k, np.random.default_rng(seed))
    except ValueError as err:
        raise HarnessError(f"--sample {k}: {err}") from None


def sample_truth_cells(k: int, seed: int, benchmark: Benchmark, pool: list[Any]) -> list[Any]:
    """K of the cells a partial table holds (DARTS: Yang et al.'s 214), seeded, kept in the
    table's row order; K = all of them takes every one."""
    if k < 1 or k > len(pool):
        raise HarnessError(
            f"--sample {k}: {benchmark.name} has truth for {len(pool)} cells "
            f"(choose 1 to {len(pool)})"
        )
    rows = np.sort(np.random.default_rng(seed).choice(len(pool), k, replace=False))
    return [pool[i] for i in rows]


def _cells_with_truth(k: int, seed: int, bench: Benchmark) -> list[Any]:
    """A full table: K unique cells of the space. A partial one (`truth_cells`): K of its
    cells. Neither: refused, a correlation needs truth for every cell."""
    if bench.truth_source == "table":
        return sample_unique_cells(k, seed, bench)
    truth_cells = getattr(bench, "truth_cells", None)
    pool = truth_cells() if callable(truth_cells) else []
    if not pool:
        raise HarnessError(
            f"correlate needs ground truth for every cell; {bench.name} has none "
            f"(its truth comes from {bench.truth_source})"
        )
    return sample_truth_cells(k, seed, bench, pool)


def reference_rows(bench: Benchmark, seed: int = 0, n_resamples: int = 1000) -> pd.DataFrame:
    """Summary rows for the truth's own agreement with itself where the benchmark has it
    (`reference_pairs`: DARTS's 24 cells trained twice = the noise ceiling, 32 cells at 8 and
    20 cells = the depth gap): what no proxy can be shown to exceed on this truth."""
    pairs = getattr(bench, "reference_pairs", None)
    rows = []
    for name, (values, what) in (pairs() if callable(pairs) else {}).items():
        corr = rank_correlation(values[:, 0], values[:, 1], seed, n_resamples)
        rows.append(
            {
                "proxy": f"reference: {name} ({what})",
                "budget": None,
                **corr,
                "seeds": 1,
                "rho_seed_mean": math.nan,
                "rho_seed_sd": math.nan,
                "top10_overlap": math.nan,
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def split_proxy(spec: str) -> tuple[str, dict[str, Any]]:
    """'contrastive/simclr' -> ('contrastive', {'variant': 'simclr'}); plain names pass."""
    name, _, variant = spec.partition("/")
    return name, ({"variant": variant} if variant else {})


def _evaluator(proxy: Any, benchmark: Benchmark, store: Any) -> Callable[[Any, str, int], Any]:
    """evaluate(arch, arch_key, seed) for one proxy: through the store's cache when a store is
    given, keyed exactly as the runner keys it (code version and image hash, computed once)."""
    if store is None:
        return lambda arch, key, seed: proxy.evaluate(arch, benchmark, seed)
    from harness.identity import cache_version, run_inputs
    from harness.runner import cached_evaluate

    settings = json.dumps(proxy.settings(), sort_keys=True)
    version = cache_version(run_inputs(benchmark, proxy))
    return lambda arch, key, seed: cached_evaluate(
        store, proxy, settings, version, arch, key, benchmark, seed
    )[0]


def _readout_rows(proxy: Any, label: str, ev: Evaluation, base: dict[str, Any]) -> list[dict]:
    """Rows for the readouts a proxy records in `extra` beside its score, each with the
    direction the proxy declares for it (`readout_directions`), never one guessed from its
    name; the readout that is the score already has its row."""
    directions = getattr(proxy, "readout_directions", {})
    score_key = proxy.settings().get("score")
    rows = []
    for name, direction in directions.items():
        if name in ev.extra and name != score_key:
            value = ev.extra[name]
            ok = ev.status == "ok" and value is not None and math.isfinite(float(value))
            rows.append(
                {
                    **base,
                    "proxy": f"{label}:{name}",
                    "score": float(value) if ok else math.nan,
                    "direction": direction,
                    "status": "ok" if ok else "failed",
                }
            )
    return rows


def run_cells(
    proxies: Sequence[str],
    benchmark: Benchmark,
    cells: Sequence[Any],
    budgets: Sequence[int] | None,
    seeds: Sequence[int],
    settings: dict[str, Any],
    progress: Callable[[str], None] | None = None,
    store: Any = None,
) -> pd.DataFrame:
    """One row per (proxy, budget, seed, cell), readouts expanded, plus the benchmark's own
    signals once per cell (`benchmark.signals(arch)` where it has them)."""
    space = SPACES.get(benchmark.space)
    keyed = [(c, space.canonical_key(c), space.format(c), benchmark.report(c)) for c in cells]
    rows: list[dict[str, Any]] = []
    for spec in proxies:
        name, variant = split_proxy(spec)
        own = make_proxy(name, **{**settings, **variant}).settings()
        trains = "epochs" in own
        for budget in (budgets or [int(own["epochs"])]) if trains else [None]:
            extra = {"epochs": int(budget)} if budget is not None else {}
            proxy = make_proxy(name, **{**settings, **variant, **extra})
            evaluate = _evaluator(proxy, benchmark, store)
            for seed in seeds if not proxy.deterministic else seeds[:1]:
                for arch, key, text, truth in keyed:
                    ev = evaluate(arch, key, seed)
                    base = {
                        "benchmark": benchmark.name, "proxy": spec, "budget": budget,
                        "seed": seed, "arch": text, "arch_key": key, "score": ev.score,
                        "direction": ev.direction, "truth": truth, "status": ev.status,
                        "wall_s": ev.wall_s, "labels_used": ev.labels_used,
                    }  # fmt: skip
                    rows.append(base)
                    rows.extend(_readout_rows(proxy, spec, ev, base))
                if progress is not None:
                    at = "" if budget is None else f" budget {budget}"
                    progress(f"{spec}{at} seed {seed}: {len(cells)} cells")
    signals = getattr(benchmark, "signals", None)
    if signals is not None:
        for arch, key, text, truth in keyed:
            for name, (value, direction) in signals(arch).items():
                rows.append(
                    {
                        "benchmark": benchmark.name, "proxy": name, "budget": None,
                        "seed": None, "arch": text, "arch_key": key, "score": value,
                        "direction": direction, "truth": truth, "status": "ok",
                        "wall_s": 0.0, "labels_used": None,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _oriented(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell scores signed so that larger is better (a failed minimise score, +inf, becomes
    -inf), averaged over proxy seeds; cells whose score or truth is missing are dropped."""
    sign = np.where(frame["direction"].to_numpy() == "minimize", -1.0, 1.0)
    signed = frame.assign(_x=frame["score"].to_numpy(dtype=float) * sign)
    per_cell = signed.groupby("arch_key", sort=True).agg(x=("_x", "mean"), y=("truth", "first"))
    x = per_cell["x"].to_numpy(dtype=float)
    y = per_cell["y"].to_numpy(dtype=float)
    keep = ~np.isnan(x) & ~np.isnan(y)
    return x[keep], y[keep]


def top_overlap(x: np.ndarray, y: np.ndarray, share: float = 0.1) -> float:
    """Of the truly best `share` of cells (by y), the fraction the proxy (x) also puts in its
    own best `share` (ties at the cut-off broken by order: a stable, seeded-free rule)."""
    n = len(x)
    k = max(1, round(share * n))
    if n < 2:
        return math.nan
    best_true = set(np.argsort(-y, kind="stable")[:k])
    best_proxy = set(np.argsort(-x, kind="stable")[:k])
    return len(best_true & best_proxy) / k


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


def _budget_mask(cells: pd.DataFrame, budget: Any) -> pd.Series:
    return cells["budget"].isna() if pd.isna(budget) else cells["budget"] == budget


def summarize(cells: pd.DataFrame, seed: int = 0, n_resamples: int = 1000) -> pd.DataFrame:
    """One row per (proxy, budget): correlation of the seed-mean score with truth (bootstrap
    CIs), each proxy seed's own rho (mean and sd across seeds), and top-10% overlap."""
    rows = []
    keys = cells[["proxy", "budget"]].drop_duplicates(ignore_index=True)
    for proxy, budget in keys.itertuples(index=False):
        sel = cells[(cells["proxy"] == proxy) & _budget_mask(cells, budget)]
        x, y = _oriented(sel)
        per_seed = []
        seeds = sel["seed"].dropna().unique() if "seed" in sel else []
        for s in seeds:
            xs, ys = _oriented(sel[sel["seed"] == s])
            if len(xs) >= 3:
                per_seed.append(float(stats.spearmanr(xs, ys).statistic))
        rows.append(
            {
                "proxy": proxy,
                "budget": budget,
                **rank_correlation(x, y, seed, n_resamples),
                "seeds": max(1, len(seeds)),
                "rho_seed_mean": float(np.mean(per_seed)) if per_seed else math.nan,
                "rho_seed_sd": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else math.nan,
                "top10_overlap": top_overlap(x, y),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def scatter(cells: pd.DataFrame, summary: pd.DataFrame, path: Path, truth_label: str) -> None:
    """One panel per (proxy, budget): raw proxy score vs ground truth, rho in the title."""
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
        if "seed" in sel and sel["seed"].notna().any():  # one point per cell: the first seed
            sel = sel[sel["seed"] == sel["seed"].min()]
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
    proxy: str | Sequence[str],
    benchmark: str,
    sample: int,
    budgets: Sequence[int] | None = None,
    profile: str = "quick",
    seed: int = 0,
    out: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    n_resamples: int = 1000,
    progress: Callable[[str], None] | None = None,
    seeds: int = 1,
    storage: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the study; write cells.csv, summary.csv and scatter.png under `out` if given.
    The summary ends with the truth's own reference rows where it has them (DARTS: noise
    ceiling and depth gap).

    `seed` draws the cells and is the first proxy seed; `seeds` proxy seeds seed..seed+n-1
    give the spread across proxy seeds. `storage` caches every evaluation (resumable)."""
    bench = BENCHMARKS.get(benchmark)
    _cells_with_truth(1, seed, bench)  # refuse a benchmark without truth before anything
    if seeds < 1:
        raise HarnessError(f"--seeds must be a positive number of proxy seeds, got {seeds}")
    proxies = [proxy] if isinstance(proxy, str) else list(proxy)
    settings = {**(settings or {}), "profile": profile}
    _check_proxies(proxies, settings)
    if budgets is not None and (not budgets or any(int(b) < 1 for b in budgets)):
        raise HarnessError(f"--steps must be positive epoch counts, got {list(budgets)}")
    cells = _cells_with_truth(sample, seed, bench)
    store = None
    if storage is not None:
        from harness.store import open_store

        store = open_store(storage, create=True)
    partial = None
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        partial = out / "cells.partial.csv"
    try:
        frame = _run_all(
            proxies, bench, cells, budgets, seed, seeds, settings, progress, store, partial
        )
    finally:
        if store is not None:
            store.close()
    summary = summarize(frame, seed, n_resamples)
    references = reference_rows(bench, seed, n_resamples)
    if out is not None:
        frame.to_csv(out / "cells.csv", index=False)
        if partial is not None:
            partial.unlink(missing_ok=True)
        scatter(frame, summary, out / "scatter.png", bench.report_metric)
    if len(references):
        summary = pd.concat([summary, references], ignore_index=True)
    if out is not None:
        summary.to_csv(out / "summary.csv", index=False)
    return frame, summary


def _check_proxies(proxies: list[str], settings: dict[str, Any]) -> None:
    """Every proxy computed (no table lookup) and buildable with its share of the settings;
    every setting taken by some proxy. One error line, before any work."""
    known: set[str] = {"profile"}
    for spec in proxies:
        name, variant = split_proxy(spec)
        known |= set(make_proxy(name).settings())
        if getattr(make_proxy(name), "needs_table", False):
            raise HarnessError(f"proxy {spec!r} is a table lookup; correlate a computed proxy")
        make_proxy(name, **{**_applicable(name, settings), **variant})  # validate up front
    unknown = sorted(set(settings) - known)
    if unknown:
        raise HarnessError(f"unknown setting {unknown[0]!r}: no proxy of {proxies} takes it")


def _applicable(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The study-wide settings a proxy knows (a zero-cost proxy has no `profile` or epochs)."""
    known = make_proxy(name).settings()
    return {k: v for k, v in settings.items() if k in known}


def _run_all(
    proxies: list[str],
    bench: Benchmark,
    cells: list[Any],
    budgets: Sequence[int] | None,
    seed: int,
    seeds: int,
    settings: dict[str, Any],
    progress: Callable[[str], None] | None,
    store: Any,
    partial: Path | None = None,
) -> pd.DataFrame:
    """Every proxy's rows (the benchmark's own signals once); after each proxy the rows so far
    go to `partial`, so a study stopped before its end still leaves what it finished."""
    frames = []
    seed_list = [seed + i for i in range(seeds)]
    for i, spec in enumerate(proxies):
        own = _applicable(split_proxy(spec)[0], settings)
        frame = run_cells([spec], bench, cells, budgets, seed_list, own, progress, store)
        frames.append(frame if i == len(proxies) - 1 else frame[frame["seed"].notna()])
        if partial is not None and i < len(proxies) - 1:
            pd.concat(frames, ignore_index=True).to_csv(partial, index=False)
    frame = pd.concat(frames, ignore_index=True)
    # a table signal named like an asked proxy (NB201's `params`) is a row of its own, never
    # pooled with the computed one
    clash = frame["seed"].isna() & frame["proxy"].isin(proxies)
    frame.loc[clash, "proxy"] = frame.loc[clash, "proxy"] + TABLE_SUFFIX
    return frame


#: the name of a benchmark signal that shares an asked proxy's name
TABLE_SUFFIX = " (table)"


def asked_rows(summary: pd.DataFrame, proxies: Sequence[str]) -> pd.Series:
    """True for the summary rows of the proxies asked for (and their readouts,
    `proxy:readout`); False for reference rows (the benchmark's own signals, the truth's
    agreement with itself)."""
    names = summary["proxy"].astype(str)
    return names.isin(proxies) | names.map(lambda n: n.partition(":")[0] in proxies)
