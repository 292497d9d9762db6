"""Tables from the trials frame: per-method summary, paired comparison, average ranks.

Every table is a plain DataFrame first (tests and notebooks use those); `report.render` turns
one into terminal text, Markdown, CSV or booktabs LaTeX. The report metric is that of the cell
a search returns (its final incumbent, picked by proxy score), never the best truth a search
happened to see: from the benchmark's table where it has one, else from `harness evaluate`
training the returned cell (`report_value` in `frame.final_rows`); a run whose returned cell
is not evaluated yet shows its proxy score, cost and labels with the report metric missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness import HarnessError
from harness.report import stats
from harness.report.frame import check_trials, final_rows, is_incumbent_frame, methods_of
from harness.report.render import FORMATS as FORMATS  # re-exported: tests use it
from harness.report.render import fmt_num, fmt_p
from harness.report.render import render as render  # re-exported: cli/run.py uses it

SUMMARY_COLUMNS: tuple[str, ...] = (
    "benchmark",
    "method",
    "proxy",
    "n_seeds",
    "test_acc_mean",
    "test_acc_std",
    "test_acc_median",
    "test_acc_ci_lo",
    "test_acc_ci_hi",
    "regret_mean",
    "regret_std",
    "labels_used_mean",
    "evaluations_mean",
    "simulated_seconds_mean",
    "wall_seconds_mean",
    "proxy_score_mean",
    "trained_acc_mean",
    "trained_scale",
    "report_source",
    "scale",
    "cached_share",
    "proxy_direction",
    "proxy_profile",
    "search_metric",
    "report_metric",
    "best",
)

COMPARE_COLUMNS: tuple[str, ...] = (
    "benchmark",
    "scale",
    "versus",
    "method",
    "n_pairs",
    "versus_mean",
    "method_mean",
    "mean_diff",
    "ci_lo",
    "ci_hi",
    "median_diff",
    "seeds",
    "t",
    "p",
    "p_holm",
    "decision",
    "search_metric",
    "report_metric",
)
#: the paired comparison's bootstrap CI of the mean difference: resamples and seed (stated in
#: the caption, so a rerun on the same store gives the same interval)
COMPARE_RESAMPLES = 9999
COMPARE_SEED = 0


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted({str(v) for v in values.dropna()}))


def summarize(trials: pd.DataFrame, *, seed: int = 0, n_resamples: int = 9999) -> pd.DataFrame:
    """One row per (benchmark, method) over its seeds (runs); columns SUMMARY_COLUMNS.

    test_acc_* is each run's `report_value` (the report metric of the cell the search returns,
    picked by proxy score: the table's, or trained from scratch where there is no table); std
    is the sample std (ddof 1, NaN for one seed); the CI is a seeded percentile bootstrap of
    the mean over seeds. `best` marks the highest
    test_acc_mean per benchmark (all tied maxima).
    """
    final = final_rows(trials)
    cached = _cached_share(trials)
    directions = _directions(trials)
    rows = []
    for (benchmark, method, scale), g in final.groupby(["benchmark", "method", "scale"], sort=True):
        acc = g["report_value"].astype(float)
        lo, hi = stats.bootstrap_ci(acc, seed=seed, n_resamples=n_resamples)
        rows.append(
            {
                "benchmark": benchmark,
                "method": method,
                "proxy": _joined(g["proxy"]),
                "n_seeds": len(g),
                "test_acc_mean": acc.mean(),
                "test_acc_std": acc.std(ddof=1),
                "test_acc_median": acc.median(),
                "test_acc_ci_lo": lo,
                "test_acc_ci_hi": hi,
                "regret_mean": g["regret"].astype(float).mean(),
                "regret_std": g["regret"].astype(float).std(ddof=1),
                "labels_used_mean": g["labels_used"].astype(float).mean(),
                "evaluations_mean": g["evaluations"].astype(float).mean(),
                "simulated_seconds_mean": g["cum_simulated_s"].astype(float).mean(),
                "wall_seconds_mean": g["cum_wall_s"].astype(float).mean(),
                "proxy_score_mean": g["best_score"].astype(float).mean(),
                "trained_acc_mean": g["trained_truth"].astype(float).mean(),
                "trained_scale": _joined(g["trained_scale"].replace("", None)),
                "report_source": _joined(g["report_source"]),
                "scale": scale,
                "cached_share": float(cached.reindex(g["run_id"]).mean()),
                "proxy_direction": _joined(g["proxy"].map(directions)),
                "proxy_profile": _joined(g["proxy_profile"]) if "proxy_profile" in g else "",
                "search_metric": _joined(g["search_metric"]),
                "report_metric": _joined(g["report_metric"]),
            }
        )
    out = pd.DataFrame(rows)
    out["best"] = _best(out)
    return out.loc[:, list(SUMMARY_COLUMNS)].reset_index(drop=True)


def _best(summary: pd.DataFrame) -> pd.Series:
    """The highest test_acc_mean per benchmark among full-scale results, and only where at
    least two methods have one: a smoke number is never "best", nor a method alone."""
    full = summary["scale"].eq("full") & summary["test_acc_mean"].notna()
    acc = summary["test_acc_mean"].where(full)
    top = acc.groupby(summary["benchmark"]).transform("max")
    rivals = full.groupby(summary["benchmark"]).transform("sum")
    return (acc.eq(top) & full & (rivals >= 2)).astype(bool)


def _cached_share(trials: pd.DataFrame) -> pd.Series:
    """run_id -> share of its trials served from the store's evaluation cache."""
    if is_incumbent_frame(trials):
        return trials.groupby("run_id")["run_cached_share"].first().astype(float)
    if "cached" not in trials.columns:
        return pd.Series(0.0, index=pd.Index(trials["run_id"].unique()))
    return trials.groupby("run_id")["cached"].mean().astype(float)


def _directions(trials: pd.DataFrame) -> dict[str, str]:
    """proxy -> "lower is better" / "higher is better", from the direction stored per trial."""
    if "direction" not in trials.columns:
        return {}
    words = {"minimize": "lower is better", "maximize": "higher is better"}
    first = trials.dropna(subset=["direction"]).groupby("proxy")["direction"].first()
    return {str(p): words.get(str(d), str(d)) for p, d in first.items()}


RETURNED_COLUMNS: tuple[str, ...] = (
    "benchmark",
    "method",
    "repetition",
    "returned_arch",
    "proxy_score",
    "report_value",
    "report_source",
    "scale",
    "labels_used",
    "evaluations",
    "run_id",
)


def returned_cells(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the cell it returned, its proxy score and its report metric (with
    where that comes from): the table to read before `harness evaluate` on an open space."""
    final = final_rows(trials)
    out = final.rename(columns={"best_arch": "returned_arch", "best_score": "proxy_score"}).loc[
        :, list(RETURNED_COLUMNS)
    ]
    return out.reset_index(drop=True)


def default_versus(trials: pd.DataFrame) -> str:
    methods = methods_of(trials)
    return "csnas" if "csnas" in methods else methods[0]


def compare(
    trials: pd.DataFrame,
    versus: str | None = None,
    *,
    alpha: float = 0.05,
    seed: int = COMPARE_SEED,
    n_resamples: int = COMPARE_RESAMPLES,
) -> pd.DataFrame:
    """Paired t-test of `versus` against every other method, per benchmark, over seeds.

    Runs are paired by repetition (the seed index: same derived seed stream per method).
    mean_diff and median_diff are over pairs of (versus - method) in report-metric points,
    ci_lo/ci_hi a seeded percentile bootstrap CI of the mean difference; `seeds` is the win
    count from versus's side ('worse on 5 of 5'); p_holm is Holm-adjusted over every testable
    row of the table. decision (stats.paired_label): 'better'/'worse' (versus than method) when
    p_holm < alpha, 'inconclusive: n too small' with fewer than stats.T_MIN_PAIRS pairs, else
    'no difference shown'. `compare_caption` says the same in words.
    """
    check_trials(trials)
    methods = methods_of(trials)
    versus = default_versus(trials) if versus is None else versus
    if versus not in methods:
        raise HarnessError(f"unknown --versus method {versus!r} (methods: {', '.join(methods)})")
    final = final_rows(trials)
    rows, tests = [], []
    for (benchmark, scale), g in final.groupby(["benchmark", "scale"], sort=True):
        acc = g.pivot_table(
            index="repetition", columns="method", values="report_value", aggfunc="mean"
        )
        if versus not in acc.columns:
            continue
        for method in acc.columns:
            if method == versus:
                continue
            pair = acc[[versus, method]].dropna()
            test = stats.paired_t(
                pair[versus].to_numpy(), pair[method].to_numpy(), seed=seed, n_resamples=n_resamples
            )
            tests.append(test)
            rows.append(
                {
                    "benchmark": benchmark,
                    "scale": scale,
                    "versus": versus,
                    "method": method,
                    "n_pairs": test.n_pairs,
                    "versus_mean": pair[versus].mean(),
                    "method_mean": pair[method].mean(),
                    "mean_diff": test.mean_diff,
                    "ci_lo": test.ci_lo,
                    "ci_hi": test.ci_hi,
                    "median_diff": test.median_diff,
                    "seeds": test.seeds(),
                    "t": test.statistic,
                    "p": test.p,
                    "search_metric": _joined(g["search_metric"]),
                    "report_metric": _joined(g["report_metric"]),
                }
            )
    if not rows:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    out = pd.DataFrame(rows)
    out["p_holm"] = stats.holm(out["p"].to_numpy())
    out["decision"] = [
        stats.paired_label(t, p, alpha) for t, p in zip(tests, out["p_holm"], strict=True)
    ]
    return out.loc[:, list(COMPARE_COLUMNS)].reset_index(drop=True)


def compare_caption(versus: str, *, alpha: float = 0.05) -> str:
    """The paired-test table's caption: the test, its assumption, the effect and the labels."""
    return (
        f"Paired t-test over seeds (two-sided; assumes the per-seed differences are roughly "
        f"normal), {versus} vs each method; mean_diff, median_diff = {versus} - method "
        f"(report-metric points); ci_lo, ci_hi: 95% percentile bootstrap CI of mean_diff "
        f"({COMPARE_RESAMPLES:,} resamples, seed {COMPARE_SEED}); seeds: {versus}'s win count; "
        f"t has n_pairs - 1 degrees of freedom; Holm-adjusted p; decision 'better'/'worse' if "
        f"p_holm < {alpha}, else '{stats.NO_DIFFERENCE}', or '{stats.TOO_FEW}' with fewer than "
        f"{stats.T_MIN_PAIRS} paired seeds"
    )


@dataclass(frozen=True)
class Ranks:
    """Average ranks over benchmarks plus the omnibus test and the Nemenyi CD."""

    table: pd.DataFrame  # method, average_rank, rank_<benchmark>...; sorted best first
    friedman: stats.FriedmanResult
    cd: float
    alpha: float = 0.05

    def caption(self) -> str:
        f = self.friedman
        return (
            f"Average rank by test_acc_mean (1 = best) over {f.n_blocks} benchmark(s) with all "
            f"{f.n_methods} methods; Friedman chi2 = {fmt_num(f.statistic)}, "
            f"p = {fmt_p(f.p)}; Nemenyi CD (alpha {self.alpha}) = {fmt_num(self.cd)}"
        )


def rank_methods(summary: pd.DataFrame, *, alpha: float = 0.05) -> Ranks:
    """Ranks of each method's test_acc_mean within each benchmark, averaged over benchmarks.

    Only full-scale results, and only benchmarks where every method has one (a Friedman
    block must be complete).
    """
    summary = summary[summary["scale"] == "full"] if "scale" in summary else summary
    scores = summary.pivot(index="benchmark", columns="method", values="test_acc_mean")
    complete = scores.dropna(axis=0, how="any")
    avg = stats.average_ranks(scores)
    table = pd.DataFrame({"method": avg.index, "average_rank": avg.to_numpy()})
    for benchmark, row in complete.iterrows():
        per = stats.average_ranks(row.to_frame().T)
        table[f"rank_{benchmark}"] = per.reindex(table["method"]).to_numpy()
    table = table.sort_values(["average_rank", "method"], kind="stable").reset_index(drop=True)
    fried = stats.friedman(scores)
    cd = stats.nemenyi_cd(scores.shape[1], len(complete), alpha)
    return Ranks(table, fried, cd, alpha)
