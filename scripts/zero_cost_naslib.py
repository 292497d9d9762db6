"""Harness zero-cost scores vs NASLib's published ones on the same NB201 CIFAR-10 cells.

    python scripts/zero_cost_naslib.py scores [--cells 100] [--seed 0]   # compute (resumable)
    python scripts/zero_cost_naslib.py summary                           # tables from the scores

`scores` draws a seeded subset of the CIFAR-10 cells in NASLib's partial file (all 724 with
--cells 0), evaluates every zero-cost proxy with its default (reference) settings and proxy
seed --seed, one thread, and appends rows to results/reference/zero_cost/naslib_scores.csv
(cells already there are skipped). `summary` writes naslib_comparison.{csv,md}: per proxy the
Spearman rank correlation between the harness's and NASLib's score on the same cells, and each
one's Spearman with the NB201 CIFAR-10 test accuracy (200 epochs, v1.1). A failed harness
score (non-finite) ranks lowest, as NASLib's -1e8 for NaN does.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from harness.benchmarks import BENCHMARKS
from harness.proxies import make_proxy
from harness.proxies.zero_cost import ZERO_COST
from harness.spaces import SPACES

REPO = Path(__file__).resolve().parents[1]
NASLIB = REPO.parent / "shared" / "data" / "nb201" / "nb201_zc_naslib_partial.csv.gz"
OUT = REPO / "results" / "reference" / "zero_cost"
SCORES = OUT / "naslib_scores.csv"
#: harness proxy -> NASLib column (None: NASLib has no such proxy)
NASLIB_COLUMN = {
    "naswot": "nwot",
    "synflow": "synflow",
    "jacov": "jacov",
    "snip": "snip",
    "grad-norm": "grad_norm",
    "swap": None,
    "params": "params_naslib",
    "flops": "flops_naslib",
}
FIELDS = ["arch_index", "arch_str", "proxy", "seed", "status", "score", "wall_s"]


def naslib_cifar10() -> pd.DataFrame:
    with gzip.open(NASLIB, "rt") as fh:
        df = pd.read_csv(fh)
    return df[df.dataset == "cifar10"].sort_values("arch_index").reset_index(drop=True)


def subset(df: pd.DataFrame, cells: int, seed: int) -> pd.DataFrame:
    if cells <= 0 or cells >= len(df):
        return df
    rows = np.sort(np.random.default_rng(seed).choice(len(df), cells, replace=False))
    return df.iloc[rows]


def compute(cells: int, seed: int) -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    done: set[tuple[int, str]] = set()
    if SCORES.exists():
        prev = pd.read_csv(SCORES)
        done = set(zip(prev.arch_index, prev.proxy))
    bench = BENCHMARKS.get("nb201-cifar10")
    space = SPACES.get(bench.space)
    proxies = {name: make_proxy(name) for name in ZERO_COST}
    new = not SCORES.exists()
    with open(SCORES, "a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new:
            writer.writeheader()
        for n, row in enumerate(subset(naslib_cifar10(), cells, 0).itertuples()):
            arch = space.parse(row.arch_str)
            t0 = time.perf_counter()
            for name, proxy in proxies.items():
                if (row.arch_index, name) in done:
                    continue
                ev = proxy.evaluate(arch, bench, seed)
                writer.writerow(
                    dict(
                        arch_index=row.arch_index,
                        arch_str=row.arch_str,
                        proxy=name,
                        seed=seed,
                        status=ev.status,
                        score=repr(ev.score),
                        wall_s=f"{ev.wall_s:.4f}",
                    )
                )
            fh.flush()
            print(f"{n + 1} cells ({time.perf_counter() - t0:.1f} s for cell {row.arch_index})")


def _rho(a: pd.Series, b: pd.Series) -> float:
    return float(spearmanr(a, b).statistic)


def markdown(table: pd.DataFrame) -> str:
    """A pipe table (3 decimals), without optional dependencies."""

    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)


def summary() -> pd.DataFrame:
    scores = pd.read_csv(SCORES)
    scores["score"] = scores.score.where(scores.status == "ok", -math.inf)
    wide = scores.pivot_table(index="arch_index", columns="proxy", values="score", aggfunc="first")
    naslib = naslib_cifar10().set_index("arch_index").loc[wide.index]
    bench = BENCHMARKS.get("nb201-cifar10")
    space = SPACES.get(bench.space)
    test_acc = pd.Series([bench.report(space.parse(a)) for a in naslib.arch_str], wide.index)
    walls = scores.groupby("proxy").wall_s.median()
    rows = []
    for name, column in NASLIB_COLUMN.items():
        if name not in wide:
            continue
        ours = wide[name].dropna()
        theirs = naslib.loc[ours.index, column] if column else None
        rows.append(
            {
                "proxy": name,
                "naslib_column": column or "-",
                "cells": len(ours),
                "failed": int(np.isinf(ours).sum()),
                "rho_harness_vs_naslib": _rho(ours, theirs) if theirs is not None else math.nan,
                "rho_test_acc_harness": _rho(ours, test_acc[ours.index]),
                "rho_test_acc_naslib": _rho(theirs, test_acc[ours.index])
                if theirs is not None
                else math.nan,
                "median_s_per_cell": float(walls.get(name, math.nan)),
            }
        )
    table = pd.DataFrame(rows)
    table.to_csv(OUT / "naslib_comparison.csv", index=False, float_format="%.4f")
    seeds = sorted(scores.seed.unique())
    header = (
        "# Harness zero-cost scores vs NASLib's (NB201, CIFAR-10)\n\n"
        f"{len(wide)} cells: a seeded subset (seed 0) of the 724 CIFAR-10 cells in "
        "`nb201_zc_naslib_partial.csv.gz` (NASLib `zc_nasbench201.json`); harness proxy seed "
        f"{', '.join(map(str, seeds))}, default (reference) settings, CPU, one thread. "
        "Spearman rank correlations; test accuracy = NB201 v1.1 `cifar10` test accuracy "
        "after 200 epochs. Failed harness scores rank lowest. Seconds per cell were measured "
        "on a shared, busy 2-core machine.\n\n"
        "Made by `python scripts/zero_cost_naslib.py scores && ... summary`.\n\n"
    )
    (OUT / "naslib_comparison.md").write_text(header + markdown(table) + "\n")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["scores", "summary"])
    parser.add_argument("--cells", type=int, default=100, help="seeded subset size; 0 = all")
    parser.add_argument("--seed", type=int, default=0, help="proxy seed (init and batch)")
    args = parser.parse_args()
    if args.action == "scores":
        compute(args.cells, args.seed)
    else:
        print(summary().to_string(index=False))


if __name__ == "__main__":
    main()
