"""Dextr against its paper: Spearman with NB201 test accuracy on the study's 200 cells (three
datasets), on the 214 trained DARTS cells, optionally on every NB201 cell; and the kernel
tolerance of its reference scores.

    python scripts/dextr_check.py score --benchmark nb201-cifar10 --csv results/dextr/c10.csv
    python scripts/dextr_check.py score --benchmark darts-cifar10 --csv results/dextr/darts.csv
    python scripts/dextr_check.py score --benchmark nb201-cifar10 --cells all --csv FILE
    python scripts/dextr_check.py summary --csv A.csv B.csv --out dextr.csv
    python scripts/dextr_check.py kernels --out FILE.json   # the three kernel sets
    python scripts/dextr_check.py tree --csv NB201.csv --out FILE.csv   # their module tree

`tree` (a diagnostic, NB201 only) recomputes each scored cell's svd term as the authors'
`nasbench2` model would sum it (their module nesting and cell-conv biases, emulated on the
harness's network: the module's docstring lists the differences) and recombines it with the
stored curvature term: how much the module-tree difference moves the ranking.

`score` is resumable: it appends one row per (cell, proxy seed) to its CSV as it goes and
skips the rows already there. The cells are the studies' own draws: `harness study nb201`'s
200 unique cells (`harness correlate --sample 200 --seed 0`: `sample_unique_cells(200, 0)`),
`harness study darts`'s 214 (`sample_truth_cells(214, 0)`, every trained cell), or (`--cells
all`) all 15,625 NB201 cells, each scored once per isomorphism class and the class's score
given to every member. Proxy seeds start at 0, as the studies' (`--seed 0`). Truth: the
benchmark's report metric (NB201: test accuracy after 200 epochs; DARTS: Yang et al.'s
600-epoch test accuracy).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FIELDS = [
    "benchmark", "arch", "arch_key", "seed", "status", "score", "svd", "curvature", "wall_s",
    "truth", "settings",
]  # fmt: skip
#: published Spearman rho with NB201 test accuracy (Asthana et al. TMLR 2025; their README's
#: runs score NB201 indices 0-999)
PUBLISHED = {"nb201-cifar10": 0.90, "nb201-cifar100": 0.91, "nb201-imagenet16": 0.87}
KERNEL_SETS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "sse41": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"},
}


def study_cells(benchmark: Any, cells: str) -> list[tuple[Any, list[Any]]]:
    """(cell scored, cells it stands for): the study's draw, or every NB201 cell grouped by
    isomorphism class (the smallest index scored)."""
    from harness.correlate import sample_truth_cells, sample_unique_cells
    from harness.spaces import SPACES

    space: Any = SPACES.get(benchmark.space)
    if cells == "all":
        from harness.benchmarks.table import load_table

        group = np.asarray(load_table()["unique_group"])
        members: dict[int, list[Any]] = {}
        for i, g in enumerate(group):
            members.setdefault(int(g), []).append(space.from_index(i))
        return [(space.from_index(g), m) for g, m in sorted(members.items())]
    k = int(cells)
    if benchmark.truth_source == "table":
        drawn = sample_unique_cells(k, 0, benchmark)
    else:
        drawn = sample_truth_cells(k, 0, benchmark, benchmark.truth_cells())
    return [(c, [c]) for c in drawn]


def score(args: argparse.Namespace) -> None:
    from harness.benchmarks import BENCHMARKS
    from harness.proxies.training import cpu_threads
    from harness.proxies.zero_cost.dextr import dextr_factory
    from harness.spaces import SPACES

    bench = BENCHMARKS.get(args.benchmark)
    space = SPACES.get(bench.space)
    proxy = dextr_factory(**json.loads(args.settings))
    settings = json.dumps(proxy.settings(), sort_keys=True)
    path = Path(args.csv)
    done: set[tuple[str, int]] = set()
    if path.exists():
        old = pd.read_csv(path)
        done = set(zip(old["arch"], old["seed"].astype(int)))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as fh:
            csv.DictWriter(fh, FIELDS).writeheader()
    todo = study_cells(bench, args.cells)
    start, n = time.perf_counter(), 0
    for seed in range(args.seeds):
        for cell, members in todo:
            if all((space.format(m), seed) in done for m in members):
                continue
            with cpu_threads(1):
                ev = proxy.evaluate(cell, bench, seed)
            rows = [
                {
                    "benchmark": bench.name,
                    "arch": space.format(m),
                    "arch_key": space.canonical_key(m),
                    "seed": seed,
                    "status": ev.status,
                    "score": repr(ev.score),
                    "svd": ev.extra.get("svd"),
                    "curvature": ev.extra.get("curvature"),
                    "wall_s": f"{ev.wall_s:.4f}",
                    "truth": bench.report(m),
                    "settings": settings,
                }
                for m in members
            ]
            with open(path, "a", newline="") as fh:
                csv.DictWriter(fh, FIELDS).writerows(rows)
            n += 1
            if n % 25 == 0:
                rate = (time.perf_counter() - start) / n
                print(f"{bench.name} seed {seed}: {n} cells, {rate:.2f} s a cell", flush=True)
    print(f"{bench.name}: {n} cells scored now, {path}")


def summarize_one(frame: pd.DataFrame, column: str) -> dict[str, Any]:
    from scipy import stats

    from harness.correlate import rank_correlation, top_overlap

    ok = frame[frame["status"] == "ok"]
    per_cell = ok.groupby("arch").agg(x=(column, "mean"), truth=("truth", "first"))
    per_cell = per_cell.dropna()
    x, y = per_cell["x"].to_numpy(float), per_cell["truth"].to_numpy(float)
    corr = rank_correlation(x, y, 0, 1000)
    seeds = []
    for _, part in ok.groupby("seed"):
        part = part.dropna(subset=[column])
        seeds.append(float(stats.spearmanr(part[column], part["truth"]).statistic))
    return {
        **corr,
        "seeds": int(ok["seed"].nunique()),
        "rho_seed_sd": float(np.std(seeds, ddof=1)) if len(seeds) > 1 else math.nan,
        "top10_overlap": top_overlap(x, y),
    }


#: NB201 CIFAR-10: the truth their script reads (`get_more_info(i, 'cifar10-valid',
#: hp='200')['test-accuracy']`: trained on 25k images), beside the benchmark's own
THEIR_TRUTH = {"nb201-cifar10": "c10valid_test_acc_200"}


def with_truth(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    from harness.benchmarks.table import load_table
    from harness.spaces import SPACES

    space: Any = SPACES.get("nb201")
    values = np.asarray(load_table()[column])
    return frame.assign(truth=[float(values[space.index(space.parse(a))]) for a in frame["arch"]])


def summary(args: argparse.Namespace) -> None:
    from harness.benchmarks import BENCHMARKS

    rows = []
    for name in args.csv:
        frame = pd.read_csv(name)
        bench = str(frame["benchmark"].iloc[0])
        cells = "all" if frame["arch"].nunique() > 6466 else str(frame["arch"].nunique())
        wall = frame.drop_duplicates(["arch_key", "seed"])["wall_s"]
        variant = str(frame["variant"].iloc[0]) if "variant" in frame else "harness"
        truths = [(BENCHMARKS.get(bench).report_metric, frame)]
        if bench in THEIR_TRUTH:
            truths.append((THEIR_TRUTH[bench], with_truth(frame, THEIR_TRUTH[bench])))
        for truth, part in truths:
            for column, proxy in (
                ("score", "dextr"), ("svd", "dextr:svd"), ("curvature", "dextr:curvature")
            ):  # fmt: skip
                row = {
                    "benchmark": bench, "truth": truth, "cells": cells, "proxy": proxy,
                    "variant": variant, **summarize_one(part, column),
                    "published_rho": PUBLISHED.get(bench) if proxy == "dextr" else None,
                    "curvature_nan": int(frame["curvature"].isna().sum()),
                    "wall_s_median": float(wall.median()),
                    "wall_s_p90": float(wall.quantile(0.9)),
                }  # fmt: skip
                rows.append(row)
    out = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False, float_format="%.4f")
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.md:
        Path(args.md).write_text(markdown(out))


def markdown(table: pd.DataFrame) -> str:
    """The summary as a Markdown table (rho and tau with their 95% intervals)."""
    head = (
        "| benchmark | truth | variant | proxy | cells | seeds | rho [95% CI] | tau [95% CI] "
        "| seed sd | top-10% | published | s/cell (median, p90) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in table.itertuples(index=False):
        published = "" if pd.isna(r.published_rho) else f"{r.published_rho:.2f}"
        sd = "" if pd.isna(r.rho_seed_sd) else f"{r.rho_seed_sd:.3f}"
        lines.append(
            f"| {r.benchmark} | {r.truth} | {r.variant} | `{r.proxy}` | {r.cells} | {r.seeds} "
            f"| {r.spearman_rho:.3f} [{r.rho_lo:.3f}, {r.rho_hi:.3f}] "
            f"| {r.kendall_tau:.3f} [{r.tau_lo:.3f}, {r.tau_hi:.3f}] | {sd} "
            f"| {r.top10_overlap:.2f} | {published} | {r.wall_s_median:.2f}, {r.wall_s_p90:.2f} |"
        )
    return head + "\n".join(lines) + "\n"


def collect(args: argparse.Namespace) -> None:
    """One per-cell CSV: each score CSV's rows with the authors'-tree columns of its `tree`
    CSV beside them where there is one (same arch and seed)."""
    frames = []
    for name in args.csv:
        frame = pd.read_csv(name).drop(columns=["settings"])
        tree_file = Path(name).with_name("tree-" + Path(name).name)
        if tree_file.exists():
            tree = pd.read_csv(tree_file)[["arch", "seed", "svd", "score"]]
            tree = tree.rename(columns={"svd": "svd_authors_tree", "score": "score_authors_tree"})
            frame = frame.merge(tree, on=["arch", "seed"], how="left")
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.to_csv(args.out, index=False)
    print(f"{len(out)} rows: {args.out}")


def kernels(args: argparse.Namespace) -> None:
    """The 20 zero-cost reference cells at the reference settings (C=8, N=1, proxy seed 0,
    one thread) in a fresh process per kernel set; the largest relative difference."""
    scores: dict[str, list[float]] = {}
    for name, env in KERNEL_SETS.items():
        code = (
            "import json; from harness.reference.zero_cost import cells, BENCHMARK, SCALE\n"
            "from harness.benchmarks import BENCHMARKS; from harness.spaces import SPACES\n"
            "from harness.proxies.training import cpu_threads\n"
            "from harness.proxies.zero_cost.dextr import dextr_factory\n"
            "b = BENCHMARKS.get(BENCHMARK); s = SPACES.get(b.space); p = dextr_factory(**SCALE)\n"
            "out = []\n"
            "for a in cells():\n"
            "    with cpu_threads(1): out.append(p.evaluate(s.parse(a), b, 0).score)\n"
            "print(json.dumps(out))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True,
            text=True, check=True,
        )  # fmt: skip
        scores[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(name, scores[name][:3], flush=True)
    base = np.array(scores["default"])
    diffs = {n: float(np.max(np.abs(np.array(v) - base) / np.abs(base))) for n, v in scores.items()}
    result = {"scores": scores, "max_rel_diff": diffs, "max": max(diffs.values())}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(diffs))


def authors_tree_ratios(net: Any, x: Any, bias_seed: int) -> list[float]:
    """The svd term's values as their `nasbench2` model's hooks would collect them, from the
    harness's NB201 network: a conv edge's BN output once more (their `ReLUConvBN` wraps a
    `Sequential`), a pool edge's output once more (`POOLING` wraps `nn.AvgPool2d`), the
    stem's once more, the last cell of stages 1 and 2 once more (a `Sequential` per stage),
    one more pooled vector (`top`, ratio 1), and each cell conv's output with a bias
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) added per channel (theirs has one; the BN after it
    removes it, so nothing downstream changes)."""
    import torch

    from harness.proxies.zero_cost.dextr import inverse_condition
    from harness.spaces.nb201.network import CellModule, ReLUConvBN, ResNetBasicblock

    gen = torch.Generator().manual_seed(bias_seed)
    weight: dict[Any, int] = {net.stem: 2}
    biased: set[Any] = set()
    for m in net.modules():
        if isinstance(m, ReLUConvBN):
            weight[m] = 2
        if isinstance(m, CellModule):
            for edge in m.edges.values():
                if isinstance(edge, torch.nn.AvgPool2d):
                    weight[edge] = 2
                if isinstance(edge, ReLUConvBN):
                    biased.add(edge[1])
    cells = list(net.cells)
    for i, m in enumerate(cells):
        if isinstance(m, ResNetBasicblock):
            weight[cells[i - 1]] = weight.get(cells[i - 1], 1) + 1
    values: list[float] = []

    def hook(module: Any, inputs: Any, output: Any) -> None:
        fea = output[0]
        if module in biased:
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            bound = 1.0 / math.sqrt(fan_in)
            bias = (torch.rand(fea.shape[0], generator=gen) * 2 - 1) * bound
            fea = fea + bias.view(-1, 1, 1)
        values.extend([inverse_condition(fea)] * weight.get(module, 1))

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    return [*values, 1.0]  # their `top` module: the flattened pooled vector


def tree(args: argparse.Namespace) -> None:
    import torch

    from harness.benchmarks import BENCHMARKS
    from harness.proxies.training import cpu_threads, seeds
    from harness.proxies.zero_cost.common import build_network, seeded_batch
    from harness.proxies.zero_cost.dextr import combine, dextr_factory, svd_term
    from harness.spaces import SPACES

    frame = pd.read_csv(args.csv)
    bench = BENCHMARKS.get(str(frame["benchmark"].iloc[0]))
    space = SPACES.get(bench.space)
    cpu = torch.device("cpu")
    svds, scores = [], []
    for r in frame.itertuples(index=False):
        s = dextr_factory(**json.loads(r.settings)).settings()
        init_seed, batch_seed = seeds(int(r.seed), 2)
        x = seeded_batch(s["data"], s["batch_size"], batch_seed, cpu, labels=False).x
        with cpu_threads(1):
            net = build_network(space.parse(r.arch), bench, s, init_seed, cpu)
            svd = svd_term(authors_tree_ratios(net, x, init_seed + 1))
        kappa = math.expm1(r.curvature) if pd.notna(r.curvature) else math.nan
        svds.append(svd)
        scores.append(combine(svd, kappa))
    out = frame.assign(svd=svds, score=scores, variant="authors-tree")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    print(f"{len(out)} rows with the authors' module tree's svd term: {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    s = sub.add_parser("score", help="score the study's cells (resumable CSV)")
    s.add_argument("--benchmark", default="nb201-cifar10")
    s.add_argument("--cells", default="200", help="a number (the study's draw) or 'all'")
    s.add_argument("--seeds", type=int, default=1, help="proxy seeds 0..N-1")
    s.add_argument("--settings", default="{}", help="JSON overrides of the proxy's settings")
    s.add_argument("--csv", required=True)
    m = sub.add_parser("summary", help="Spearman of each CSV against its truth")
    m.add_argument("--csv", nargs="+", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--md", help="also write the table as Markdown here")
    c = sub.add_parser("collect", help="merge score CSVs (and their tree- CSVs) into one")
    c.add_argument("--csv", nargs="+", required=True)
    c.add_argument("--out", required=True)
    k = sub.add_parser("kernels", help="reference scores under three CPU kernel sets")
    k.add_argument("--out", required=True)
    t = sub.add_parser("tree", help="the svd term as their nasbench2 module tree sums it")
    t.add_argument("--csv", required=True, help="an NB201 CSV written by score")
    t.add_argument("--out", required=True)
    args = parser.parse_args()
    actions = {
        "score": score, "summary": summary, "kernels": kernels, "tree": tree, "collect": collect
    }  # fmt: skip
    actions[args.action](args)


if __name__ == "__main__":
    main()
