"""Does a rerun reproduce a committed experiment? Identical trials, or a stated tolerance.

Where the environment is the recorded one (the same library versions and kernels), every
trial of a lookup experiment must come back identical: lookups are deterministic and every
strategy is seeded. Elsewhere a search can fork at a tie that the last bit of a SIMD kernel
breaks (measured: optuna's TPE, rep 6 of the reference, trial 25; results/reference/README.md),
and every later trial of that run differs. Then the rerun is judged by its results, with a
stated tolerance:

- each (benchmark, method) mean of the final report metric lies within the committed seeds'
  95% t-interval of the mean (the interval the summary table prints);
- each benchmark ranks the methods the same, for every pair of methods whose committed means
  differ by more than the 95% interval of their difference (Welch's standard error, t with
  the smaller sample's degrees of freedom); pairs within each other's noise may swap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

RUN = ["benchmark", "method", "repetition"]
#: measured columns (wall clock) and identities (run ids hash code versions): not results
NOT_RESULTS = ("wall_s", "cum_wall_s", "wall_seconds_mean", "run_id")
CONFIDENCE = 0.95


def results_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The looked-up results, in a canonical row order."""
    drop = [c for c in NOT_RESULTS if c in frame.columns]
    out = frame.drop(columns=drop)
    return out.sort_values([*RUN, "number"], kind="stable").reset_index(drop=True)


@dataclass
class Divergence:
    """Where a rerun's trials first differ from the committed ones."""

    rows: int  # rows that differ in any result column
    runs: int  # runs with at least one differing trial
    first: dict[str, object] = field(default_factory=dict)  # run, trial, column, both values

    def line(self) -> str:
        f = self.first
        return (
            f"{self.rows} trials in {self.runs} runs differ; first at {f['method']} on "
            f"{f['benchmark']}, repetition {f['repetition']}, trial {f['number']}: {f['column']} "
            f"{f['committed']!r} (committed) vs {f['now']!r} (now)"
        )


def divergence(committed: pd.DataFrame, fresh: pd.DataFrame) -> Divergence | None:
    """None when every result column of every trial is identical; else where they first
    differ (the earliest trial of the first run in plan order that differs)."""
    a, b = results_only(committed), results_only(fresh)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return Divergence(
            rows=abs(len(a) - len(b)) or len(a),
            runs=-1,
            first=dict.fromkeys([*RUN, "number"], "?")
            | {"column": "shape", "committed": a.shape, "now": b.shape},
        )
    same = (a == b) | (a.isna() & b.isna())
    bad = ~same.all(axis=1)
    if not bad.any():
        return None
    differing = a[bad]
    first = differing.index[0]
    column = next(c for c in a.columns if not same.at[first, c])
    return Divergence(
        rows=int(bad.sum()),
        runs=int(differing.groupby(RUN).ngroups),
        first={
            **{k: a.at[first, k] for k in [*RUN, "number"]},
            "column": column,
            "committed": a.at[first, column],
            "now": b.at[first, column],
        },
    )


def final_results(frame: pd.DataFrame) -> pd.DataFrame:
    """Each run's final report metric (the incumbent's truth after its last trial)."""
    last = frame.sort_values("number").groupby(RUN, as_index=False).tail(1)
    return last[[*RUN, "best_truth"]].rename(columns={"best_truth": "final"})


def intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t-interval half-width of the final result per (benchmark, method)."""
    finals = final_results(frame)
    grouped = finals.groupby(["benchmark", "method"])["final"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, np.maximum(out["count"] - 1, 1))
    out["half_width"] = t * out["std"].fillna(0.0) / np.sqrt(out["count"])
    return out


def judge(committed: pd.DataFrame, fresh: pd.DataFrame) -> list[str]:
    """The tolerance's verdict: one line per violation (empty: within tolerance)."""
    ref, now = intervals(committed), intervals(fresh)
    both = ref.merge(now, on=["benchmark", "method"], suffixes=("", "_now"), how="outer")
    problems = []
    for row in both.itertuples():
        if pd.isna(row.mean) or pd.isna(row.mean_now):
            problems.append(f"{row.method} on {row.benchmark}: missing in one of the two")
        elif abs(row.mean_now - row.mean) > row.half_width:
            problems.append(
                f"{row.method} on {row.benchmark}: mean {row.mean_now:.3f} outside the "
                f"committed {row.mean:.3f} ± {row.half_width:.3f} (95% over seeds)"
            )
    for bench, group in both.groupby("benchmark"):
        problems.extend(_order_changes(str(bench), group))
    return problems


def _order_changes(bench: str, group: pd.DataFrame) -> list[str]:
    out = []
    rows = list(group.itertuples())
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if _separated(a, b) and np.sign(a.mean - b.mean) != np.sign(a.mean_now - b.mean_now):
                out.append(
                    f"{bench}: {a.method} and {b.method} swapped places although their "
                    f"committed means differ by more than their noise ({a.mean:.3f} vs "
                    f"{b.mean:.3f})"
                )
    return out


def _separated(a: Any, b: Any) -> bool:
    """Committed means further apart than the 95% interval of their difference."""
    se = np.sqrt(a.std**2 / a.count + b.std**2 / b.count)
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, max(min(a.count, b.count) - 1, 1))
    return bool(abs(a.mean - b.mean) > t * se)
