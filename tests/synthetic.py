"""Test helper: a realistic-looking trials frame without running a search (figure checks)."""

from __future__ import annotations

import pandas as pd


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
