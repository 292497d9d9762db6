"""The trials frame the store exports, checked once, and the per-run view derived from it.

The report reads results only: every number below comes from rows a search already wrote.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

from harness import HarnessError
from harness.store.base import RUN_AGGREGATES

#: Columns the report needs from the store's long-format trials frame (one row per run x trial).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "run_id",
    "method",
    "benchmark",
    "proxy",
    "repetition",
    "number",
    "best_arch",
    "best_score",
    "best_truth",
    "regret",
    "labels_used",
    "cum_simulated_s",
    "cum_wall_s",
    "search_metric",
    "report_metric",
)


def check_trials(trials: pd.DataFrame | None) -> pd.DataFrame:
    """Fail with one line naming what is wrong, rather than a KeyError deep in a table."""
    if trials is None or len(trials) == 0:
        raise HarnessError("no trials to report: the store is empty")
    missing = [c for c in REQUIRED_COLUMNS if c not in trials.columns]
    if missing:
        raise HarnessError(f"trials frame lacks column(s): {', '.join(missing)}")
    return trials


def is_incumbent_frame(trials: pd.DataFrame) -> bool:
    """True for the store's incumbent rows (`Store.trials_frame(incumbents=True)`): only the
    rows where each run's incumbent changes, with per-run aggregates beside them. Every table
    and figure gives the same numbers from these as from all rows."""
    return all(c in trials.columns for c in RUN_AGGREGATES)


def run_sizes(trials: pd.DataFrame) -> pd.Series:
    """run_id -> its number of trials, from either kind of frame."""
    if is_incumbent_frame(trials):
        return trials.groupby("run_id", sort=False)["run_trials"].first()
    return trials.groupby("run_id", sort=False).size()


def sort_trials(trials: pd.DataFrame) -> pd.DataFrame:
    return trials.sort_values(["benchmark", "method", "run_id", "number"], kind="stable")


def final_rows(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its last trial (the search's answer), plus per-run aggregates.

    `labels_used` becomes the run's maximum (trials reuse one labeled set, so the distinct
    labels a run needed is the largest any trial used) and `evaluations` the number of trials.
    `report_value` is the returned cell's report metric: the table's (`best_truth`) where the
    benchmark has one, else its accuracy trained from scratch (`trained_truth`, from `harness
    evaluate`), else NaN; `report_source` says which ("table", "table (SOURCE)" for a partial
    table such as Yang et al.'s 214 DARTS cells, "trained (PROTOCOL)", "pending").
    """
    t = one_identity(check_trials(trials))[0]
    grouped = t.groupby("run_id", sort=False)
    # each run's last trial (its highest number: (run, number) is unique), sorted as the
    # whole frame would be: sorting one row a run, not every row
    is_last = t["number"].eq(grouped["number"].transform("max"))
    last = sort_trials(t[is_last]).set_index("run_id")
    if is_incumbent_frame(t):  # the store's incumbent rows carry each run's aggregates
        last["labels_used"] = last["run_labels_used"]
        last["evaluations"] = last["run_trials"]
    else:
        last["labels_used"] = grouped["labels_used"].max()
        last["evaluations"] = grouped.size()
    last = last.reset_index()
    table = last["best_truth"].astype(float)
    trained = (
        last["evaluated_truth"].astype(float)
        if "evaluated_truth" in last
        else pd.Series(float("nan"), index=last.index)
    )
    last["trained_truth"] = trained
    last["report_value"] = table.where(table.notna(), trained)
    protocols = last.get("evaluated_protocol", pd.Series(None, index=last.index, dtype=object))
    sources = last.get("table_source", pd.Series(None, index=last.index, dtype=object))
    last["report_source"] = [
        (f"table ({src})" if isinstance(src, str) else "table")
        if pd.notna(t)
        else (f"trained ({proto})" if pd.notna(v) else "pending")
        for t, v, proto, src in zip(table, trained, protocols, sources)
    ]
    scales = last.get("evaluated_scale", pd.Series(None, index=last.index, dtype=object))
    last["scale"] = [
        str(s) if src.startswith("trained") and pd.notna(s) else "full"
        for src, s in zip(last["report_source"], scales)
    ]
    # a cell trained beside a table's value (a check on this hardware) keeps its own scale
    last["trained_scale"] = [
        (str(s) if pd.notna(s) else "") if pd.notna(v) else "" for v, s in zip(trained, scales)
    ]
    return last.sort_values(["benchmark", "method", "repetition"], kind="stable")


#: where a frame read from a store carries each run's experiment (`mark_experiments`): in
#: `DataFrame.attrs`, not a column, so the exported frame keeps its documented columns
EXPERIMENTS = "harness.experiments"
#: run-level columns that tell experiments apart where a frame carries no experiments (a frame
#: read back from CSV): a changed proxy, strategy or profile; settings and code are not visible
_VISIBLE = (
    "proxy",
    "strategy",
    "proxy_profile",
    "search_metric",
    "optimum",
    "space",
    "truth_source",
    "table_source",
)


#: set on a frame `one_identity` returned (no slot holds two runs, no row two experiments):
#: the tables call it once per table, and on such a frame, or any subset, it has nothing to do
ONE_IDENTITY = "harness.one_identity"


class _Experiments(dict[str, str]):
    """run id -> experiment key. pandas deep-copies `attrs` into every frame it derives: this
    one is shared instead (it never changes once made)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Experiments:
        return self


def experiment_key(config: dict[str, Any]) -> str:
    """A run's experiment: its run spec (`manifest["config"]`: method, benchmark, strategy,
    proxy, trials budget, settings, master seed, table and code versions) less the repetition,
    hashed. Runs of one experiment differ only in their seed index."""
    blob = json.dumps(
        {k: v for k, v in config.items() if k != "repetition"}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def mark_experiments(
    trials: pd.DataFrame, runs: list[dict[str, Any]] | dict[str, str]
) -> pd.DataFrame:
    """Record each run's experiment (from its manifest's run spec, or a run id -> experiment
    key mapping) on `trials` for `one_identity`; runs whose manifest has no spec are told
    apart by their columns only."""
    keys = _Experiments(
        runs
        if isinstance(runs, dict)
        else (
            (str(r["run_id"]), experiment_key(r["manifest"]["config"]))
            for r in runs
            if isinstance((r.get("manifest") or {}).get("config"), dict)
        )
    )
    if keys:
        trials.attrs[EXPERIMENTS] = keys
    return trials


def _experiments(trials: pd.DataFrame, runs: pd.DataFrame) -> pd.Series:
    """The experiment of each run in `runs` (one row per run of `trials`)."""
    known = trials.attrs.get(EXPERIMENTS) or {}
    visible = [c for c in _VISIBLE if c in runs.columns]
    shown = runs.loc[:, visible].astype(object).where(runs.loc[:, visible].notna(), None)
    fallback = ["visible:" + json.dumps(list(row), default=str) for row in shown.itertuples(False)]
    return pd.Series(
        [known.get(str(r), f) for r, f in zip(runs["run_id"], fallback)], index=runs.index
    )


def one_identity(
    trials: pd.DataFrame, run_ids: list[str] | None = None
) -> tuple[pd.DataFrame, str | None]:
    """Keep one experiment per (method, benchmark): a report row never pools two.

    An experiment is the runs whose identity differs only in the seed index (same settings,
    trials budget, master seed, table and code: `experiment_key`). Where a (method, benchmark)
    holds several (a changed table, setting or code version), the one kept is that of the
    newest run selected in `run_ids` (an explicit selection such as a plan) where given, else
    of the newest run by creation time; every run of the others is left out. A frame without
    recorded experiments (`mark_experiments`: one read back from CSV) tells them apart by
    proxy, strategy, profile and benchmark columns only. Returns the kept trials and one line
    saying what was left out (None if nothing was).
    """
    if trials.attrs.get(ONE_IDENTITY):  # a frame this returned: one experiment a row
        return trials, None
    row = ["method", "benchmark"]
    slot = [*row, "repetition"]
    runs = trials.drop_duplicates("run_id").reset_index(drop=True)
    runs["experiment"] = _experiments(trials, runs)
    runs = runs.loc[:, [*slot, "run_id", "experiment"]]
    has_time = "run_created" in trials.columns and trials["run_created"].notna().all()
    runs["created"] = (
        runs["run_id"].map(trials.groupby("run_id")["run_created"].first()) if has_time else 0.0
    )
    runs["chosen"] = runs["run_id"].isin(run_ids) if run_ids is not None else False
    clash = runs.groupby(slot)["run_id"].transform("size") > 1
    mixed = runs.groupby(row)["experiment"].transform("nunique") > 1
    if not clash.any() and not mixed.any():
        trials.attrs[ONE_IDENTITY] = True  # a subset of it never clashes: later calls skip
        return trials, None
    order = runs.sort_values(["chosen", "created", "run_id"], kind="stable")
    kept = order.groupby(row).tail(1).set_index(row)["experiment"]
    ours = runs.join(kept.rename("kept"), on=row)["kept"].eq(runs["experiment"])
    keep = set(order[ours.loc[order.index]].groupby(slot).tail(1)["run_id"])
    dropped = runs.loc[~runs["run_id"].isin(keep)]
    others = dropped.loc[~ours.loc[dropped.index]].groupby([*row, "experiment"]).ngroups
    how = (
        "that of the selected run ids"
        if run_ids is not None
        else "that of the newest run (by creation time)"
        if has_time
        else "that of the last run id (no creation times)"
    )
    where = (
        f"{int(runs.loc[clash].groupby(slot).ngroups)} (method, benchmark, seed) slot(s)"
        if clash.any()
        else f"{int(runs.loc[mixed].groupby(row).ngroups)} (method, benchmark) row(s)"
    )
    ids = sorted(dropped["run_id"])
    note = (
        f"{where} hold runs of different identities (changed settings, inputs or code): each "
        f"(method, benchmark) row reports one experiment (runs differing only in seed), {how}; "
        f"{len(dropped)} run(s) of {others} other experiment(s) left out, never pooled "
        f"({', '.join(ids[:3])}{', ...' if len(ids) > 3 else ''})"
    )
    kept_rows = trials[trials["run_id"].isin(keep)]
    kept_rows.attrs[ONE_IDENTITY] = True
    return kept_rows, note


def methods_of(trials: pd.DataFrame) -> list[str]:
    return sorted(str(m) for m in trials["method"].unique())


#: fixed colours (Okabe-Ito, colour-blind safe) for the shipped methods: a method keeps its
#: colour in every figure, whichever other methods a store holds
METHOD_COLORS: dict[str, str] = {
    "csnas": "#D55E00",
    "csnas-simclr": "#E69F00",
    "supervised-tpe": "#0072B2",
    "tpe": "#56B4E9",
    "tpe-written": "#8C564B",
    "tpe-optuna": "#000000",
    "rea": "#CC79A7",
    "random": "#999999",
    "bo-gp": "#009E73",
    "naswot-tpe": "#F0E442",
    "synflow-tpe": "#6A3D9A",
    "swap-tpe": "#B15928",
    "az-nas-rea": "#1B9E77",
    "az-nas-tpe": "#66A61E",
    "meco-rea": "#E7298A",
    "meco-tpe": "#FB9A99",
    "vkdnw-tpe": "#7570B3",
    "zico-tpe": "#A6761D",
    "gp-optuna": "#33A02C",
    "smac": "#FF7F00",
    "reinforce": "#E31A1C",
    "local-search": "#6B6B00",
}


def method_colors(methods: list[str] | pd.Series | set[str]) -> dict[str, tuple[float, ...]]:
    """One colour per method, the same in every figure and every store.

    Shipped methods use `METHOD_COLORS`; other names take tab20 colours in sorted order.
    """
    import matplotlib
    from matplotlib.colors import to_rgb

    names = sorted({str(m) for m in methods})
    cmap = matplotlib.colormaps["tab20"]
    others = [n for n in names if n not in METHOD_COLORS]
    out: dict[str, tuple[float, ...]] = {
        n: to_rgb(METHOD_COLORS[n]) for n in names if n in METHOD_COLORS
    }
    out.update({n: tuple(cmap(i % 20)[:3]) for i, n in enumerate(others)})
    return {n: out[n] for n in names}
