"""Figures from stored results (PNG + PDF): anytime curves, ranks, proxy quality, labels, cells.

Drawn on bare `matplotlib.figure.Figure` objects (no pyplot state, no GUI backend), in
seaborn's paper style. Every figure colours a method the same way (`frame.method_colors`
over all methods in the frame), and legends sit outside the axes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.report import stats
from harness.report.frame import (
    check_trials,
    final_rows,
    method_colors,
    methods_of,
    one_identity,
    sort_trials,
)

_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "*")
_COST_AXES = {
    "cum_simulated_s": ("simulated", "simulated training cost (s, cumulative, log)"),
    "cum_wall_s": ("wall", "wall-clock time (s, cumulative, log)"),
}


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib as mpl
    import seaborn as sns

    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("paper", font_scale=1.1)}
    rc.update({"pdf.fonttype": 42, "legend.frameon": False})
    with mpl.rc_context(rc):
        yield


def _grid(n: int, ncols_max: int = 3, w: float = 4.2, h: float = 3.2) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    ncols = min(n, ncols_max)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(w * ncols, h * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _save(fig: Any, out_dir: Path, name: str, dpi: int) -> list[Path]:
    paths = []
    for ext in ("png", "pdf"):
        path = out_dir / f"{name}.{ext}"
        # no timestamps in the files: regenerating unchanged figures leaves them byte-identical
        meta = {"CreationDate": None} if ext == "pdf" else {"Software": None}
        fig.savefig(path, dpi=dpi, metadata=meta, bbox_inches="tight", pad_inches=0.1)
        paths.append(path)
    return paths


def _method_legend(fig: Any, colors: dict[str, Any], methods: list[str]) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colors[m], marker=_MARKERS[i % len(_MARKERS)], lw=2, label=m)
        for i, m in enumerate(methods)
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(methods), 6))


def _metric_of(trials: pd.DataFrame, benchmark: str) -> str:
    col = trials.loc[trials["benchmark"] == benchmark, "report_metric"].dropna()
    return str(col.iloc[0]) if len(col) else "report metric (%)"


# ----------------------------------------------------------------------------- curves


#: the most evaluation counts an anytime curve is drawn at: a store's curves up to this many
#: trials are drawn at every count; longer ones at this many evenly spaced counts
EVALUATION_POINTS = 1000


def evaluation_grid(n: int, points: int = EVALUATION_POINTS) -> np.ndarray:
    """The trial numbers (0-based) at which curves of runs up to `n` trials are drawn."""
    if n <= points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, points).round().astype(int))


def _step_matrix(runs: pd.DataFrame, at: str, column: str, grid: np.ndarray) -> np.ndarray:
    """(runs x grid): each run's incumbent `column` (carried forward over NaN) read at `grid`
    on its own `at` axis: the last row at or before each point (NaN before its first row,
    its last value after its last), so rows where nothing changed may be absent. Runs in the
    order they first appear; numpy over the whole frame, not a DataFrame per run."""
    codes = pd.factorize(runs["run_id"], sort=False)[0]
    order = np.lexsort((runs["number"].to_numpy(), codes))
    codes = codes[order]
    x = runs[at].to_numpy(dtype=float)[order]
    v = pd.Series(runs[column].to_numpy(dtype=float)[order]).groupby(codes).ffill().to_numpy()
    bounds = np.flatnonzero(np.diff(codes)) + 1
    out = np.empty((codes.max() + 1 if len(codes) else 0, len(grid)))
    for i, (xs, vs) in enumerate(zip(np.split(x, bounds), np.split(v, bounds))):
        idx = np.searchsorted(xs, grid, side="right") - 1
        out[i] = np.where(idx >= 0, vs[np.clip(idx, 0, None)], np.nan)
    return out


def curves_by_evaluations(
    runs: pd.DataFrame, column: str = "best_truth", grid: np.ndarray | None = None
) -> np.ndarray:
    """(runs x evaluations) matrix of `column` after each evaluation (trial numbers `grid`,
    default every number up to the longest run's); a finished run's value carries forward
    to the longest run's length (its answer does not change)."""
    if grid is None:
        grid = evaluation_grid(int(runs["number"].max()) + 1)
    return _step_matrix(runs, "number", column, grid)


def curves_by_cost(
    runs: pd.DataFrame, cost: str, grid: np.ndarray, column: str = "best_truth"
) -> np.ndarray:
    """(runs x grid) matrix: the incumbent's `column` once `cost` has reached each grid value
    (NaN before a run's first evaluation finished; carried forward after its last)."""
    return _step_matrix(runs, cost, column, grid)


def _band(ax: Any, x: np.ndarray, curves: np.ndarray, color: Any, label: str, seed: int) -> None:
    mean, lo, hi = stats.bootstrap_band(curves, seed=seed)
    ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0, step="post")
    ax.plot(x, mean, color=color, lw=1.6, label=label, drawstyle="steps-post")


_ANYTIME_REASON = {
    ("evaluations", "regret"): "regret needs a benchmark with a known optimum (a table)",
    ("cum_simulated_s", "best_truth"): "no simulated cost recorded",
    ("cum_wall_s", "best_truth"): "no wall time recorded",
}


def _anytime(trials: pd.DataFrame, colors: dict[str, Any], x: str, column: str, seed: int) -> Any:
    benchmarks = sorted(trials["benchmark"].unique())
    methods = methods_of(trials)
    fig, axes = _grid(len(benchmarks))
    drawn = False
    for ax, bench in zip(axes, benchmarks):
        tb = trials[trials["benchmark"] == bench]
        shown = column
        if tb[column].isna().all():  # no table: no truth per trial, no optimum
            if column == "regret":
                _empty_panel(ax, bench, "no known optimum")
                continue
            shown = "best_score"  # the incumbent's own proxy score, until evaluate runs
        if x != "evaluations":
            positive = tb[x][tb[x] > 0]
            if positive.empty:
                _empty_panel(ax, bench, f"no {x} recorded")
                continue
            grid: Any = np.geomspace(positive.min(), positive.max(), 200)
        else:
            grid = None
        for method in methods:
            runs = tb[tb["method"] == method]
            if runs.empty:
                continue
            if x == "evaluations":
                numbers = evaluation_grid(int(runs["number"].max()) + 1)
                curves = curves_by_evaluations(runs, shown, numbers)
                xs = numbers + 1
            else:
                curves = curves_by_cost(runs, x, grid, shown)
                # start where every seed of this method has an answer
                started = ~np.isnan(curves).any(axis=0)
                if not started.any():
                    continue
                xs, curves = grid[started], curves[:, started]
            _band(ax, xs, curves, colors[method], method, seed)
            drawn = True
        _label_anytime(ax, _metric_of(trials, bench), bench, shown, column, x, grid)
    if not drawn:
        return _ANYTIME_REASON.get((x, column), "no incumbent curve to draw")
    _method_legend(fig, colors, methods)
    what = "regret" if column == "regret" else "report metric of the incumbent"
    fig.suptitle(f"Anytime performance: {what} (mean over seeds, 95% bootstrap band)")
    return fig


def _empty_panel(ax: Any, bench: str, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", transform=ax.transAxes)
    ax.set_axis_off()
    ax.set_title(bench, fontsize=9)


def _label_anytime(
    ax: Any, metric: str, bench: str, shown: str, column: str, x: str, grid: Any
) -> None:
    """Axis labels and scales of one anytime panel: what the y axis shows (the report metric,
    its regret, or the proxy score where no table exists) and a log cost axis only over a
    decade or more."""
    if shown == "best_score":
        ax.set_ylabel("incumbent's proxy score (each method's own)")
        metric = "no table: report metric after `harness evaluate`"
    elif column == "regret":
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("regret of returned cell (pp, symlog)")
    else:
        ax.set_ylabel("report metric of returned cell (%)")
    if x == "evaluations":
        ax.set_xlabel("evaluations (proxy queries)")
    elif grid[-1] >= 10 * grid[0]:
        ax.set_xscale("log")
        ax.set_xlabel(_COST_AXES[x][1])
    else:  # a narrow range on a log axis gets overlapping minor-tick labels
        ax.set_xlabel(_COST_AXES[x][1].replace(", log", ""))
    ax.set_title(f"{bench}\n{metric}", fontsize=9)


def _rank_vs_budget(trials: pd.DataFrame, colors: dict[str, Any]) -> Any:
    from matplotlib.figure import Figure

    with_truth = trials.groupby("benchmark")["best_truth"].transform(lambda v: v.notna().any())
    trials = trials[with_truth.astype(bool)]
    methods = methods_of(trials) if len(trials) else []
    if len(methods) < 2:
        return "ranks vs budget need 2+ methods on benchmarks with a table"
    per = []  # (benchmark, method) -> mean incumbent per evaluation count
    numbers = evaluation_grid(int(trials["number"].max()) + 1)  # one grid: ranks compare
    for (bench, method), g in trials.groupby(["benchmark", "method"]):
        own = numbers[numbers <= g["number"].max()]  # up to this method's longest run
        with warnings.catch_warnings():  # all-NaN columns: no seed has an answer yet
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(curves_by_evaluations(g, grid=own), axis=0)
        per.append(
            pd.DataFrame(
                {"benchmark": bench, "method": method, "evaluations": own + 1, "acc": mean}
            )
        )
    long = pd.concat(per)
    # a shorter (benchmark, method) keeps its final answer to the longest budget
    wide = long.pivot_table(index=["benchmark", "evaluations"], columns="method", values="acc")
    wide = wide.groupby(level="benchmark").ffill()
    xs = numbers + 1
    ranks: dict[str, list[float]] = {m: [] for m in methods}
    present = set(wide.index.get_level_values(1))
    for t in xs:
        block = wide.xs(t, level="evaluations") if t in present else None
        r = stats.average_ranks(block) if block is not None else pd.Series(np.nan, methods)
        for m in methods:
            ranks[m].append(r.get(m, np.nan))
    if all(np.isnan(ranks[m]).all() for m in methods):
        return "ranks vs budget need all methods on at least one common benchmark with a table"
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.subplots()
    for i, m in enumerate(methods):
        ax.plot(
            xs,
            ranks[m],
            color=colors[m],
            lw=1.8,
            drawstyle="steps-post",
            marker=_MARKERS[i % len(_MARKERS)],
            markevery=max(1, len(xs) // 8),
            label=m,
        )
    ax.set_ylim(len(methods) + 0.3, 0.7)
    ax.set_yticks(range(1, len(methods) + 1))
    ax.set_xlabel("evaluations (proxy queries)")
    ax.set_ylabel("average rank (1 = best)")
    n_b = int(wide.dropna().index.get_level_values("benchmark").nunique())
    ax.set_title(f"Rank of mean report metric over {n_b} common benchmark(s) vs budget")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _short_scale(scale: str) -> str:
    return "" if scale == "full" else f" ({scale.split(':')[0]})"


def _labels_axis(ax: Any, xmax: float) -> None:
    """Labels on x: symlog from 0 with plain-number ticks at 0 and powers of ten, so every
    point (0 labels included) sits inside the axes with room for its marker."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    if xmax <= 0:
        ax.set_xlim(-1.0, 1.0)
        ax.set_xticks([0])
        return
    ax.set_xscale("symlog", linthresh=100, linscale=0.6)
    top = 10 ** math.ceil(math.log10(max(xmax, 100) * 1.5))
    ax.set_xlim(-40, top)
    ax.set_xticks([0] + [10**k for k in range(2, int(math.log10(top)) + 1)])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _labels_vs_accuracy(trials: pd.DataFrame, colors: dict[str, Any]) -> Any:
    from harness.report.tables import summarize

    summary = summarize(trials, n_resamples=2000).dropna(subset=["test_acc_mean"])
    if summary.empty:
        return "no report metric yet: the returned cells are not evaluated (`harness evaluate`)"
    benchmarks = sorted(summary["benchmark"].unique())
    methods = methods_of(trials)
    fig, axes = _grid(len(benchmarks))
    for ax, bench in zip(axes, benchmarks):
        s = summary[summary["benchmark"] == bench]
        for _, r in s.iterrows():
            i = methods.index(r["method"])
            y = r["test_acc_mean"]
            err = np.array([[y - r["test_acc_ci_lo"]], [r["test_acc_ci_hi"] - y]])
            full = r["scale"] == "full"
            ax.errorbar(
                r["labels_used_mean"],
                y,
                # a bootstrap interval can miss its mean by a rounding error (BCa, equal seeds)
                yerr=np.clip(np.nan_to_num(err), 0.0, None),
                color=colors[r["method"]],
                marker=_MARKERS[i % len(_MARKERS)],
                mfc=colors[r["method"]] if full else "white",
                ms=7,
                capsize=3,
                lw=1.2,
                ls="none",
                label=f"{r['method']}{_short_scale(r['scale'])}",
                alpha=0.9,
            )
        _labels_axis(ax, float(s["labels_used_mean"].max()))
        ax.margins(y=0.15)
        ax.set_xlabel("labels used per run (labeled images, symlog)")
        ax.set_ylabel("final report metric (%)")
        ax.set_title(f"{bench}\n{_metric_of(trials, bench)}", fontsize=9)
        if (s["scale"] != "full").any():
            ax.legend(fontsize=7, loc="best")
    _method_legend(fig, colors, methods)
    fig.suptitle(
        "Labels used vs final report metric (mean over seeds, 95% bootstrap CI; "
        "hollow = reduced-scale evaluation)"
    )
    return fig


def _found_cells(trials: pd.DataFrame, colors: dict[str, Any]) -> Any:
    from matplotlib.figure import Figure

    final = final_rows(trials)
    benchmarks = sorted(final["benchmark"].unique())
    methods = methods_of(trials)
    fig = Figure(figsize=(2.5 * len(methods), 1.45 * len(benchmarks) + 0.6), layout="constrained")
    axes = fig.subplots(len(benchmarks), len(methods), squeeze=False)
    for i, bench in enumerate(benchmarks):
        for j, m in enumerate(methods):
            ax = axes[i, j]
            g = final[(final["benchmark"] == bench) & (final["method"] == m)]
            g = g[g["best_arch"].notna() & (g["best_arch"] != "")]
            if j == 0:  # before any `continue`: every row is named, drawn or not
                ax.text(-0.55, 0.0, bench, rotation=90, ha="center", va="center", fontsize=8,
                        weight="bold")  # fmt: skip
            if g.empty:
                ax.axis("off")
                continue
            # most common returned cell; ties go to the higher mean report metric
            by = g.groupby("best_arch")["report_value"].agg(["size", "mean"])
            arch, row = next(iter(by.sort_values(["size", "mean"], ascending=False).iterrows()))
            value = "report pending" if pd.isna(row["mean"]) else f"{row['mean']:.2f}%"
            reduced = g.loc[g["best_arch"] == arch, "scale"].ne("full")
            value += " (reduced scale)" if reduced.any() else ""
            sub = f"{int(row['size'])}/{len(g)} seeds, {value}"
            space = _space_of(g)
            space.draw(ax, space.parse(str(arch)), title=m, title_color=colors[m], subtitle=sub)
    legends = {id(sp): sp for sp in (_space_of(g) for _, g in final.groupby("benchmark"))}
    handles = [h for sp in legends.values() for h in getattr(sp, "legend_handles", list)()]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=7)
    fig.suptitle("Most common returned cell per benchmark and method", fontsize=10)
    return fig


def _space_of(rows: pd.DataFrame) -> Any:
    """The search space that drew these rows' cells: recorded with the run, else the
    benchmark's registered space."""
    from harness.benchmarks import BENCHMARKS
    from harness.spaces import SPACES

    if "space" in rows and rows["space"].notna().any():
        return SPACES.get(str(rows["space"].dropna().iloc[0]))
    return SPACES.get(BENCHMARKS.get(str(rows["benchmark"].iloc[0])).space)


def _proxy_vs_truth(cells: pd.DataFrame | None, report_metrics: dict[str, str]) -> Any:
    from scipy import stats as sst

    need = {"benchmark", "proxy", "score", "truth", "direction"}
    if cells is None or cells.empty or not need <= set(cells.columns):
        return "proxy vs truth needs a `harness correlate` cells CSV (--correlate)"
    cells = cells.copy()
    if "budget" in cells.columns and cells["budget"].notna().any():
        top = cells.groupby(["benchmark", "proxy"])["budget"].transform("max")
        cells = cells[(cells["budget"] == top) | top.isna()]
    keys = sorted(cells.groupby(["benchmark", "proxy"]).groups)
    fig, axes = _grid(len(keys), ncols_max=3, w=3.8, h=3.3)
    for ax, (bench, proxy) in zip(axes, keys):
        g = cells[(cells["benchmark"] == bench) & (cells["proxy"] == proxy)].dropna(
            subset=["score", "truth"]
        )
        minimize = (g["direction"] == "minimize").all()
        oriented = -g["score"] if minimize else g["score"]
        rho = sst.spearmanr(oriented, g["truth"]).statistic if len(g) > 2 else math.nan
        tau = sst.kendalltau(oriented, g["truth"]).statistic if len(g) > 2 else math.nan
        ax.scatter(g["score"], g["truth"], s=6, alpha=0.35, color="#3b6fb6", lw=0, rasterized=True)
        budget = ""
        if "budget" in g.columns and g["budget"].notna().any():
            budget = f", budget {g['budget'].iloc[0]:g}"
        ax.set_title(
            f"{proxy} on {bench}{budget}\nρ = {rho:.2f}, τ = {tau:.2f}, n = {len(g)}", fontsize=9
        )
        ax.set_xlabel(f"proxy score ({'lower' if minimize else 'higher'} = better)")
        ax.set_ylabel(report_metrics.get(bench, "ground truth (%)"), fontsize=8)
    fig.suptitle(
        "Proxy score vs ground truth (ρ Spearman, τ Kendall; score oriented so > 0 "
        "means agreement)",
        fontsize=10,
    )
    return fig


def _contrastive_explained(cells: pd.DataFrame | None, label: str = "contrastive") -> Any:
    """Per cell: the final contrastive loss against the same loss before training and against
    the mean cosine between different images' embeddings at initialisation, coloured by the
    cell's true accuracy (seed-mean values). Needs a correlate CSV with the readouts."""
    from scipy import stats as sst

    need = [label, f"{label}:init-loss", f"{label}:init-cosine"]
    why = f"needs a correlate CSV with the {', '.join(need)} readouts"
    if cells is None or cells.empty or "proxy" not in cells or not set(need) <= set(cells["proxy"]):
        return why
    sel = cells[cells["proxy"].isin(need)]
    if "budget" in sel.columns and sel["budget"].notna().any():
        sel = sel[sel["budget"] == sel["budget"].max()]
    wide = sel.pivot_table(index="arch_key", columns="proxy", values="score", aggfunc="mean")
    truth = sel.groupby("arch_key")["truth"].first().reindex(wide.index)
    wide = wide.assign(truth=truth).dropna()
    if len(wide) < 3:
        return why + " on 3+ cells"
    fig, axes = _grid(2, ncols_max=2, w=4.4, h=3.6)
    norm = None
    for ax, x, xlabel in zip(
        axes,
        need[1:],
        ("loss before training", "mean cosine of different images' embeddings at init"),
    ):
        rho = sst.spearmanr(wide[x], wide[label]).statistic
        sc = ax.scatter(
            wide[x], wide[label], c=wide["truth"], cmap="viridis", s=12, lw=0, norm=norm
        )
        norm = sc.norm
        ax.set_xlabel(xlabel)
        ax.set_ylabel("final training loss (the CSNAS score)")
        ax.set_title(f"Spearman ρ = {rho:.2f}, n = {len(wide)}", fontsize=9)
    rho_truth = sst.spearmanr(-wide[label], wide["truth"]).statistic
    fig.colorbar(sc, ax=axes, label="true accuracy (report metric, %)", shrink=0.9)
    fig.suptitle(
        "What the contrastive score measures: final loss vs its value at initialisation and "
        f"vs initial embedding similarity\n(score vs truth: ρ = {rho_truth:.2f}, signed so "
        "that > 0 means lower loss, better cell)",
        fontsize=9,
    )
    return fig


def _evaluation_curves(evaluations: pd.DataFrame | None) -> Any:
    """Test accuracy per epoch of every cell `harness evaluate` trained, one panel per
    benchmark, each line labelled with its scale."""
    if evaluations is None or evaluations.empty:
        return "no cells trained yet (`harness evaluate`)"
    done = evaluations[evaluations["curve"].map(lambda c: bool(c))]
    if done.empty:
        return "no trained cell has a per-epoch curve yet"
    benchmarks = sorted(done["benchmark"].unique())
    fig, axes = _grid(len(benchmarks))
    for ax, bench in zip(axes, benchmarks):
        for i, e in enumerate(done[done["benchmark"] == bench].itertuples()):
            rec = pd.DataFrame(e.curve).dropna(subset=["test_acc"])
            label = f"{str(e.eval_id)[:8]} ({e.scale.split(':')[0]})"
            ax.plot(rec["epoch"], rec["test_acc"], marker=_MARKERS[i % len(_MARKERS)], label=label)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.margins(x=0.1, y=0.15)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(bench, fontsize=9)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("Cells trained from scratch: test accuracy per epoch (label: eval id, scale)")
    return fig


def _cd_diagram(trials: pd.DataFrame, colors: dict[str, Any]) -> Any:
    import scikit_posthocs as sp
    from matplotlib.figure import Figure

    from harness.report.tables import rank_methods, summarize

    summary = summarize(trials, n_resamples=200)
    summary = summary[summary["scale"] == "full"]
    scores = summary.pivot(index="benchmark", columns="method", values="test_acc_mean").dropna()
    if scores.shape[1] < 3 or scores.shape[0] < 2:
        return "the CD diagram needs 3+ methods with full-scale results on 2+ common benchmarks"
    ranks = rank_methods(summary)
    avg = stats.average_ranks(scores)
    sig = stats.nemenyi_pvalues(scores)
    fig = Figure(figsize=(6.4, 0.45 * scores.shape[1] + 1.2), layout="constrained")
    ax = fig.subplots()
    sp.critical_difference_diagram(
        avg,
        sig,
        ax=ax,
        color_palette={m: colors[m] for m in avg.index},
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
    )
    f = ranks.friedman
    ax.set_title(
        f"Average rank over {f.n_blocks} benchmarks (Nemenyi, bars join n.s.); Friedman "
        f"p = {f.p:.3g}, CD = {ranks.cd:.2f}",
        fontsize=9,
    )
    return fig


# ----------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class Drawn:
    """One figure the data allow (`figure`), or the one line saying why not (`reason`)."""

    name: str
    figure: Any | None
    reason: str | None = None


def draw_figures(
    trials: pd.DataFrame | None,
    correlate_cells: pd.DataFrame | str | Path | None = None,
    seed: int = 0,
    *,
    regret: bool = True,
    evaluations: pd.DataFrame | None = None,
) -> Iterator[Drawn]:
    """Every figure, in order, drawn or declined with a reason: the one drawing path behind
    `harness figures`, `harness.figures()` and the HTML page. Iterate inside `_style()`."""
    if isinstance(correlate_cells, (str, Path)):
        correlate_cells = pd.read_csv(correlate_cells)
    jobs: list[tuple[str, Any]] = []
    if trials is not None and len(trials):
        trials = sort_trials(one_identity(check_trials(trials))[0])
        colors = method_colors(methods_of(trials))
        report_metrics = {b: _metric_of(trials, b) for b in trials["benchmark"].unique()}

        def anytime(x: str, column: str) -> Any:
            return lambda: _anytime(trials, colors, x, column, seed)

        jobs += [
            ("anytime_evaluations", anytime("evaluations", "best_truth")),
            ("anytime_simulated", anytime("cum_simulated_s", "best_truth")),
            ("anytime_wall", anytime("cum_wall_s", "best_truth")),
        ]
        if regret:
            jobs.append(("anytime_regret", anytime("evaluations", "regret")))
        jobs += [
            ("rank_vs_budget", lambda: _rank_vs_budget(trials, colors)),
            ("critical_difference", lambda: _cd_diagram(trials, colors)),
            ("labels_vs_accuracy", lambda: _labels_vs_accuracy(trials, colors)),
            ("found_cells", lambda: _found_cells(trials, colors)),
        ]
    else:
        report_metrics = {}
    jobs += [
        ("evaluation_curves", lambda: _evaluation_curves(evaluations)),
        ("proxy_vs_truth", lambda: _proxy_vs_truth(correlate_cells, report_metrics)),
        ("contrastive_explained", lambda: _contrastive_explained(correlate_cells)),
    ]
    for name, build in jobs:
        fig = build()
        yield Drawn(name, None, fig) if isinstance(fig, str) else Drawn(name, fig)


def make_figures(
    trials: pd.DataFrame,
    out_dir: str | Path,
    correlate_cells: pd.DataFrame | str | Path | None = None,
    seed: int = 0,
    *,
    regret: bool = True,
    dpi: int = 150,
    skipped: list[Drawn] | None = None,
    evaluations: pd.DataFrame | None = None,
) -> list[Path]:
    """Render every figure the data allows into out_dir as PNG and PDF; returns the paths.

    Figures needing what is absent (a correlate CSV, 3+ methods for the CD diagram, recorded
    wall time) are skipped, not faked: each skip, with its reason, is appended to `skipped`.
    """
    if evaluations is None or evaluations.empty:
        check_trials(trials)  # nothing at all to draw is one error line
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with _style():
        drawing = draw_figures(
            trials, correlate_cells, seed, regret=regret, evaluations=evaluations
        )
        for drawn in drawing:
            if drawn.figure is not None:
                paths += _save(drawn.figure, out, drawn.name, dpi)
            elif skipped is not None:
                skipped.append(drawn)
    return paths


def svg_figures(
    trials: pd.DataFrame | None,
    correlate_cells: pd.DataFrame | None = None,
    seed: int = 0,
    evaluations: pd.DataFrame | None = None,
) -> list[tuple[str, str | None, str | None]]:
    """(name, inline SVG text or None, reason or None) of every figure: the page's figures,
    drawn by the same code as the files."""
    import io

    import matplotlib as mpl

    out: list[tuple[str, str | None, str | None]] = []
    with _style():
        for drawn in draw_figures(trials, correlate_cells, seed, evaluations=evaluations):
            if drawn.figure is None:
                out.append((drawn.name, None, drawn.reason))
                continue
            buf = io.StringIO()
            with mpl.rc_context({"svg.hashsalt": drawn.name}):  # ids fixed: a page reproduces
                drawn.figure.savefig(
                    buf, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.1
                )
            text = buf.getvalue()
            out.append((drawn.name, text[text.index("<svg") :], None))
    return out


def correlate_figures(
    cells: pd.DataFrame,
    out_dir: str | Path,
    report_metric: str = "test accuracy (%)",
    dpi: int = 150,
) -> list[Path]:
    """The proxy-study figures alone, from a correlate cells frame (no search results needed):
    proxy score vs truth per proxy, and what the contrastive score measures."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {b: report_metric for b in cells["benchmark"].unique()}
    paths: list[Path] = []
    with _style():
        for name, build in (
            ("proxy_vs_truth", lambda: _proxy_vs_truth(cells, metrics)),
            ("contrastive_explained", lambda: _contrastive_explained(cells)),
        ):
            fig = build()
            if not isinstance(fig, str):
                paths += _save(fig, out, name, dpi)
    return paths
