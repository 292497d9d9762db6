"""Harness zero-cost scores vs NASLib's published ones on the same cells (NB201 per dataset,
NB301).

    python scripts/zero_cost_naslib.py scores [--dataset cifar10] [--cells 100] [--seed 0]
        [--proxies a,b] [--set batch_size=32] [--scores FILE]      # compute (resumable)
    python scripts/zero_cost_naslib.py summary [--scores FILE]     # tables from the scores
    python scripts/zero_cost_naslib.py scores --space darts --naslib FILE --scores FILE ...

`scores` draws a seeded subset (seed 0) of one dataset's cells in NASLib's NB201 partial file
(cifar10, cifar100 or ImageNet16-120; all of them with --cells 0), or with `--space darts` of
NASLib's 725 NB301 cells, evaluates each zero-cost proxy (every one NASLib also has, or
--proxies) with its default settings plus the --set overrides each proxy knows, proxy seed
--seed, one thread, and appends rows to the scores file (default
results/reference/zero_cost/naslib_scores.csv, the CIFAR-10 file of the first comparison;
rows already there are skipped). `summary` writes the comparison tables beside the scores file
(its name with "scores" replaced by "comparison", .csv and .md): per dataset and proxy the
Spearman rank correlation between the harness's and NASLib's score on the same cells, and
each one's Spearman with the benchmark's report metric (NB201: test accuracy after 200
epochs, v1.1; NB301: the surrogate's predicted validation accuracy, agreement with a
surrogate, not training). A failed harness score (non-finite) ranks lowest, as NASLib's -1e8
for NaN does.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from harness.benchmarks import BENCHMARKS
from harness.proxies import make_proxy
from harness.spaces import SPACES

REPO = Path(__file__).resolve().parents[1]
NASLIB = REPO.parent / "shared" / "data" / "nb201" / "nb201_zc_naslib_partial.csv.gz"
NASLIB_NB301 = REPO.parent / "shared" / "data" / "darts" / "naslib_nb301_zc.csv.gz"
OUT = REPO / "results" / "reference" / "zero_cost"
SCORES = OUT / "naslib_scores.csv"
#: NASLib's dataset name -> the harness benchmark
BENCHMARK = {
    "cifar10": "nb201-cifar10",
    "cifar100": "nb201-cifar100",
    "ImageNet16-120": "nb201-imagenet16",
}
#: harness proxy -> NASLib column in the NB201 file (None: NASLib has no such proxy); the
#: NB301 file's column is "naslib_" + a shorter name (NB301_COLUMN)
NASLIB_COLUMN: dict[str, str | None] = {
    "naswot": "nwot",
    "synflow": "synflow",
    "jacov": "jacov",
    "snip": "snip",
    "grad-norm": "grad_norm",
    "swap": None,
    "params": "params_naslib",
    "flops": "flops_naslib",
    "epe-nas": "epe_nas",
    "fisher": "fisher",
    "grasp": "grasp",
    "l2-norm": "l2_norm",
    "plain": "plain",
}
NB301_COLUMN: dict[str, str | None] = {
    name: "naslib_" + column.removesuffix("_naslib")
    for name, column in NASLIB_COLUMN.items()
    if column is not None
}
FIELDS = ["dataset", "arch_index", "arch_str", "proxy", "seed", "status", "score", "wall_s"]
FIELDS += ["settings", "load"]


def naslib_table(dataset: str) -> pd.DataFrame:
    """NASLib's NB201 scores of one dataset's cells, by arch_index."""
    with gzip.open(NASLIB, "rt") as fh:
        df = pd.read_csv(fh)
    if dataset not in BENCHMARK:
        raise SystemExit(f"--dataset must be one of {', '.join(BENCHMARK)}")
    return df[df.dataset == dataset].sort_values("arch_index").reset_index(drop=True)


def nb301_table(naslib: Path) -> pd.DataFrame:
    """NASLib's NB301 scores, with arch_index = naslib_idx and arch_str = the genotype."""
    df = pd.read_csv(naslib)
    return df.assign(arch_index=df.naslib_idx, arch_str=df.genotype, dataset="nb301")


def subset(df: pd.DataFrame, cells: int, seed: int) -> pd.DataFrame:
    if cells <= 0 or cells >= len(df):
        return df
    rows = np.sort(np.random.default_rng(seed).choice(len(df), cells, replace=False))
    return df.iloc[rows]


def read_scores(path: Path) -> pd.DataFrame:
    """A scores file; the first CIFAR-10 file has no dataset or settings column."""
    df = pd.read_csv(path)
    if "dataset" not in df:
        df["dataset"] = "cifar10"
    return df


def proxy_with(name: str, overrides: dict[str, Any]) -> Any:
    """The proxy at its defaults plus the overrides among its own settings."""
    known = make_proxy(name).settings()
    return make_proxy(name, **{k: v for k, v in overrides.items() if k in known})


def compute(
    space_name: str,
    dataset: str,
    cells: int,
    seed: int,
    names: list[str],
    overrides: dict[str, Any],
    scores: Path,
    naslib: Path,
) -> None:
    torch.set_num_threads(1)
    scores.parent.mkdir(parents=True, exist_ok=True)
    done: set[tuple[str, int, str]] = set()
    fields = FIELDS
    if scores.exists():
        prev = read_scores(scores)
        done = set(zip(prev.dataset, prev.arch_index, prev.proxy))
        with open(scores, newline="") as fh:
            fields = next(csv.reader(fh))
        if "dataset" not in fields and (dataset != "cifar10" or overrides):
            raise SystemExit(f"{scores} has no dataset/settings column: name a new --scores")
    if space_name == "darts":
        bench, table, dataset = BENCHMARKS.get("darts-cifar10"), nb301_table(naslib), "nb301"
        column = NB301_COLUMN
    else:
        bench, table, column = (
            BENCHMARKS.get(BENCHMARK[dataset]),
            naslib_table(dataset),
            {k: v for k, v in NASLIB_COLUMN.items()},
        )
    space = SPACES.get(bench.space)
    unknown = sorted(set(names) - set(column))
    if unknown:
        raise SystemExit(f"--proxies: {unknown[0]!r} is not one of {', '.join(column)}")
    proxies = {name: proxy_with(name, overrides) for name in names}
    new = not scores.exists()
    with open(scores, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        for n, row in enumerate(subset(table, cells, 0).itertuples()):
            arch = space.parse(row.arch_str)
            t0 = time.perf_counter()
            for name, proxy in proxies.items():
                if (dataset, row.arch_index, name) in done:
                    continue
                ev = proxy.evaluate(arch, bench, seed)
                writer.writerow(
                    dict(
                        dataset=dataset,
                        arch_index=row.arch_index,
                        arch_str=row.arch_str,
                        proxy=name,
                        seed=seed,
                        status=ev.status,
                        score=repr(ev.score),
                        wall_s=f"{ev.wall_s:.4f}",
                        settings=json.dumps(proxy.settings(), sort_keys=True),
                        load=f"{os.getloadavg()[0]:.2f}",
                    )
                )
            fh.flush()
            print(
                f"{dataset} {n + 1} cells ({time.perf_counter() - t0:.1f} s for cell "
                f"{row.arch_index})",
                flush=True,
            )


def _rho(a: pd.Series, b: pd.Series) -> float:
    return float(spearmanr(a, b).statistic)


def markdown(table: pd.DataFrame) -> str:
    """A pipe table (3 decimals), without optional dependencies."""

    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)


def truth(dataset: str, published: pd.DataFrame) -> tuple[pd.Series, str]:
    """The metric each proxy is also correlated with, by arch_index, and its name."""
    if dataset == "nb301":
        return published.nb301_surrogate_val_acc, "NB301 surrogate val acc"
    bench = BENCHMARKS.get(BENCHMARK[dataset])
    space = SPACES.get(bench.space)
    values = [bench.report(space.parse(a)) for a in published.arch_str]
    return pd.Series(values, published.index), bench.report_metric


def summary(scores_file: Path, naslib: Path) -> pd.DataFrame:
    scores = read_scores(scores_file)
    scores["score"] = scores.score.where(scores.status == "ok", -math.inf)
    rows = []
    for dataset, part in scores.groupby("dataset", sort=False):
        wide = part.pivot_table(
            index="arch_index", columns="proxy", values="score", aggfunc="first"
        )
        if dataset == "nb301":
            published, column = nb301_table(naslib).set_index("arch_index"), NB301_COLUMN
        else:
            published = naslib_table(str(dataset)).set_index("arch_index")
            column = NASLIB_COLUMN
        published = published.loc[wide.index]
        acc, metric = truth(str(dataset), published)
        walls = part.groupby("proxy").wall_s.median()
        loads = part.groupby("proxy")["load"] if "load" in part else None
        for name in [n for n in column if n in wide]:
            ours = wide[name].dropna()
            col = column[name]
            theirs = published.loc[ours.index, col] if col else None
            settings = part[part.proxy == name].settings.iloc[0] if "settings" in part else ""
            rows.append(
                {
                    "dataset": dataset,
                    "proxy": name,
                    "naslib_column": col or "-",
                    "batch_size": json.loads(settings).get("batch_size", "-") if settings else "",
                    "cells": len(ours),
                    "failed": int(np.isinf(ours).sum()),
                    "naslib_failed": int((theirs <= -1e8).sum()) if theirs is not None else 0,
                    "rho_harness_vs_naslib": _rho(ours, theirs) if col else math.nan,
                    "rho_truth_harness": _rho(ours, acc[ours.index]),
                    "rho_truth_naslib": _rho(theirs, acc[ours.index]) if col else math.nan,
                    "truth": metric,
                    "median_s_per_cell": float(walls.get(name, math.nan)),
                    "load": f"{loads.get_group(name).min():.1f}-{loads.get_group(name).max():.1f}"
                    if loads is not None
                    else "",
                }
            )
    table = pd.DataFrame(rows)
    stem = scores_file.name.removesuffix(".csv")
    # never the scores file itself
    stem = stem.replace("scores", "comparison") if "scores" in stem else f"{stem}_comparison"
    table.to_csv(scores_file.parent / f"{stem}.csv", index=False, float_format="%.4f")
    seeds = sorted(scores.seed.unique())
    header = (
        "# Harness zero-cost scores vs NASLib's\n\n"
        "Cells: per dataset a seeded subset (seed 0) of the cells in NASLib's files "
        "(NB201: `nb201_zc_naslib_partial.csv.gz`, NASLib `zc_nasbench201.json`, 724/725/724 "
        "cells of cifar10/cifar100/ImageNet16-120; NB301: `naslib_nb301_zc.csv.gz`, 725 "
        "cells, network C=32, 8 cells); harness proxy seed "
        f"{', '.join(map(str, seeds))}, default settings except the batch size shown, CPU, one "
        "thread. Spearman rank correlations; `truth` names the metric of the two right-hand "
        "correlations (the NB301 surrogate's prediction is agreement with a surrogate, not "
        "with training). Failed harness scores rank lowest; `naslib_failed` counts NASLib's "
        "-1e8 (NaN) scores. Seconds per cell (median) were measured on a shared 2-core "
        "machine at the load average shown (min-max over the rows).\n\n"
        f"Made by `python scripts/zero_cost_naslib.py scores ... --scores {scores_file.name}` "
        "and `... summary`.\n\n"
    )
    (scores_file.parent / f"{stem}.md").write_text(header + markdown(table) + "\n")
    return table


def parse_sets(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["scores", "summary"])
    parser.add_argument("--space", choices=["nb201", "darts"], default="nb201")
    parser.add_argument("--dataset", default="cifar10", help=f"NB201: {', '.join(BENCHMARK)}")
    parser.add_argument("--cells", type=int, default=100, help="seeded subset size; 0 = all")
    parser.add_argument("--seed", type=int, default=0, help="proxy seed (init and batch)")
    parser.add_argument("--proxies", default=None, help="comma-separated (default: all)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--scores", type=Path, default=SCORES)
    parser.add_argument("--naslib", type=Path, default=NASLIB_NB301, help="NB301 table")
    args = parser.parse_args()
    if args.action == "scores":
        default = NB301_COLUMN if args.space == "darts" else NASLIB_COLUMN
        names = args.proxies.split(",") if args.proxies else list(default)
        overrides = parse_sets(args.set)
        compute(
            args.space,
            args.dataset,
            args.cells,
            args.seed,
            names,
            overrides,
            args.scores,
            args.naslib,
        )
    else:
        print(summary(args.scores, args.naslib).to_string(index=False))


if __name__ == "__main__":
    main()
