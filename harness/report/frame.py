"""The trials frame the store exports, checked once, and the per-run view derived from it.

The report reads results only: every number below comes from rows a search already wrote.
"""

from __future__ import annotations

import pandas as pd

from harness import HarnessError

#: Columns the report needs from the store's long-format trials frame (one row per run x trial).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "run_id",
    "method",
    "benchmark",
    "proxy",
    "repetition",
    "number",
    "best_arch",
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


def sort_trials(trials: pd.DataFrame) -> pd.DataFrame:
    return trials.sort_values(["benchmark", "method", "run_id", "number"], kind="stable")


def final_rows(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its last trial (the search's answer), plus per-run aggregates.

    `labels_used` becomes the run's maximum (trials reuse one labeled set, so the distinct
    labels a run needed is the largest any trial used) and `evaluations` the number of trials.
    """
    t = sort_trials(check_trials(trials))
    grouped = t.groupby("run_id", sort=False)
    last = grouped.tail(1).set_index("run_id")
    last["labels_used"] = grouped["labels_used"].max()
    last["evaluations"] = grouped.size()
    return last.reset_index().sort_values(["benchmark", "method", "repetition"], kind="stable")


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


def synthetic_trials(
    *,
    methods: tuple[str, ...] = ("csnas", "gp", "random", "rea", "tpe-supervised"),
    benchmarks: tuple[str, ...] = ("nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"),
    n_seeds: int = 5,
    n_trials: int = 40,
    seed: int = 0,
) -> pd.DataFrame:
    """A realistic-looking trials frame (no search run) for tests, demos and figure checks.

    Truth is a made-up function of the cell's ops (convs help, `none` hurts) plus noise; each
    method's proxy is the truth seen through noise of its own size, so methods differ.
    """
    import numpy as np

    from harness.spaces.nb201 import OPS, NB201Cell, canonical_key, format_cell

    rng = np.random.default_rng(seed)
    gain = {
        "none": -2.5,
        "skip_connect": -0.5,
        "nor_conv_1x1": 1.0,
        "nor_conv_3x3": 2.0,
        "avg_pool_3x3": -0.8,
    }
    base = {"nb201-cifar10": 84.0, "nb201-cifar100": 60.0, "nb201-imagenet16": 33.0}
    scale = {"nb201-cifar10": 1.0, "nb201-cifar100": 1.4, "nb201-imagenet16": 1.3}
    noise = {"csnas": 1.5, "gp": 2.0, "random": 1e9, "rea": 1.0, "tpe-supervised": 0.8}
    bias = {"csnas": 0.35, "gp": 0.2, "random": 0.0, "rea": 0.25, "tpe-supervised": 0.3}
    rows = []
    for b in benchmarks:
        opt = base.get(b, 70.0) + scale.get(b, 1.0) * 12.0
        for m in methods:
            proxy = "contrastive" if m == "csnas" else "lookup-12"
            direction = "minimize" if m == "csnas" else "maximize"
            labels = 0 if m == "csnas" else {"nb201-cifar10": 25_000}.get(b, 50_000)
            for r in range(n_seeds):
                run = f"{m}-{b}-{r}"
                best = (np.inf if direction == "minimize" else -np.inf, "", np.nan)
                cum_sim = cum_wall = 0.0
                for n in range(n_trials):
                    p = np.full(len(OPS), 1.0)
                    p[OPS.index("nor_conv_3x3")] += 4 * bias.get(m, 0.0) * min(n / 10, 1)
                    ops = tuple(OPS[i] for i in rng.choice(len(OPS), 6, p=p / p.sum()))
                    cell = NB201Cell(ops)
                    raw = base.get(b, 70.0) + scale.get(b, 1.0) * sum(gain[o] for o in ops)
                    truth = float(min(raw + rng.normal(0, 1.0), opt))
                    sig = noise.get(m, 2.0)
                    seen = truth + rng.normal(0, sig) if sig < 1e8 else rng.normal(50, 10)
                    score = -seen / 10 + 12 if direction == "minimize" else seen
                    better = score < best[0] if direction == "minimize" else score > best[0]
                    if better:
                        best = (score, format_cell(cell), truth)
                    sim = float(rng.lognormal(np.log(60 if m == "csnas" else 240), 0.3))
                    wall = float(rng.lognormal(np.log(20 if m == "csnas" else 0.02), 0.3))
                    cum_sim += sim
                    cum_wall += wall
                    rows.append(
                        {
                            "run_id": run,
                            "method": m,
                            "benchmark": b,
                            "proxy": proxy,
                            "strategy": "random" if m == "random" else "tpe",
                            "repetition": r,
                            "seed": 1000 * r + 7,
                            "number": n,
                            "arch": format_cell(cell),
                            "arch_key": canonical_key(cell),
                            "status": "ok",
                            "score": score,
                            "direction": direction,
                            "truth": truth,
                            "best_score": best[0],
                            "best_arch": best[1],
                            "best_truth": best[2],
                            "regret": opt - best[2],
                            "optimum": opt,
                            "wall_s": wall,
                            "simulated_s": sim,
                            "cum_wall_s": cum_wall,
                            "cum_simulated_s": cum_sim,
                            "labels_used": labels,
                            "cached": False,
                            "search_metric": f"{b} x-valid accuracy (%)",
                            "report_metric": f"{b} test accuracy after 200 epochs (%)",
                        }
                    )
    return pd.DataFrame(rows)
