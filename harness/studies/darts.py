"""The proxy study in the paper's own space: DARTS cells judged against real training.

    harness study darts run       # print the correlate commands (resumable, --storage)
    harness study darts write     # merge their outputs into results/reference/darts/
    harness study darts explain   # the contrastive-mechanism figures (as on NB201)
    harness study darts naslib-scores --naslib FILE [--cells 100]   # zero-cost fidelity
    harness study darts naslib-summary --naslib FILE                # ... its tables
    harness study darts paper-cost --cells 1          # `paper`-profile cost, timed
    harness study darts cell-costs --cells 2 --proxies swap,jacov   # seconds per cell

Truth: Yang et al. 2020's 214 cells trained with the DARTS protocol (600 epochs, C=36, 20
cells; `darts-cifar10`'s shipped table), CIFAR-10 test accuracy after the 600th epoch. Every
correlation is signed with the proxy's declared direction (> 0 = better score, better cell);
no direction or setting was chosen from these numbers. Zero-cost proxies score the network at
NASLib's NB301 scale (C=32, 8 cells: the `darts` space's default network), trained proxies at
the `quick` profile (C=8, 3 cells).

The fidelity check scores a seeded subset of NASLib's 725 NB301 cells with the harness's
zero-cost proxies on the same network scale and compares ranks with NASLib's published scores;
`nb301_surrogate_val_acc` is NB301's surrogate prediction, so correlations with it are
agreement with a surrogate, not with training. NASLib's scores are not part of the
repository: `--naslib FILE` names their table (`naslib_nb301_zc.csv.gz`, in this project's
shared data beside the checkout: `../shared/data/darts/`).

Every action works on a checkout of the repository (`--checkout DIR`, default the current
directory), checked first.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harness import HarnessError
from harness.reference import checkout_root, reference_dir, require_checkout
from harness.studies.derived import DERIVED, derived

#: the study's folder in the reference (results/reference/darts/ of a checkout)
FOLDER = "darts"
CACHE = "sqlite:///results/darts-study-cache.db"
COMMON = "--benchmark darts-cifar10 --sample 214 --resamples 1000 --threads 1"
#: part name -> the correlate arguments that make it (run from the repository root, in order)
PARTS: dict[str, str] = {
    "zc-cheap": "--proxy params,flops,synflow --seeds 1",
    "pirl": "--proxy contrastive --seeds 1 --profile quick",
    "supervised": "--proxy supervised --seeds 1 --profile quick",
    "zc-naswot": "--proxy naswot --seeds 1",
    "simclr": "--proxy contrastive/simclr --seeds 1 --profile quick",
    "zc-grad": "--proxy jacov,snip,grad-norm --seeds 1",
    "zc-swap": "--proxy swap --seeds 1",
    # proxy seeds 1 and 2 of `pirl` (`--seed` is the first proxy seed; every one of the 214
    # cells is drawn whatever the seed), one process each so they can run side by side
    "pirl-s1": "--proxy contrastive --seeds 1 --profile quick --seed 1",
    "pirl-s2": "--proxy contrastive --seeds 1 --profile quick --seed 2",
    # frontier proxies with their authors' NB201 settings at the NB301 scale (VKDNW: 27 s a
    # cell with grouped convolutions in its batched Jacobian, 62 s before through per-image
    # jacrev, about 1.6 core-hours for the 214 cells; AZ-NAS: the harness's reading of the
    # two-input cells, and the stem's rank-deficient covariance clipped, az_nas.py says why)
    "zc-meco": "--proxy meco --seeds 1",
    "zc-zico": "--proxy zico --seeds 1",
    "zc-vkdnw": "--proxy vkdnw --seeds 1",
    "zc-az-nas": "--proxy az-nas --seeds 1 --set clip_eigenvalues=true",
    # NASLib's other five proxies and Dextr (at the NB301 scale: grasp about 43 s a cell, the
    # others about 6 s, measured at load 4-7)
    "zc-naslib5": "--proxy epe-nas,fisher,l2-norm,plain --seeds 1",
    "zc-grasp": "--proxy grasp --seeds 1",
    "zc-dextr": "--proxy dextr --seeds 1",
}
#: the harness's scores of NASLib's cells, in the study's folder
NASLIB_SCORES = Path("zero_cost") / "naslib_scores.csv"
#: harness proxy -> NASLib column
NASLIB_COLUMN = {
    "naswot": "naslib_nwot",
    "synflow": "naslib_synflow",
    "jacov": "naslib_jacov",
    "snip": "naslib_snip",
    "grad-norm": "naslib_grad_norm",
    "params": "naslib_params",
    "flops": "naslib_flops",
    "epe-nas": "naslib_epe_nas",
    "fisher": "naslib_fisher",
    "grasp": "naslib_grasp",
    "l2-norm": "naslib_l2_norm",
    "plain": "naslib_plain",
}
FIELDS = ["naslib_idx", "proxy", "seed", "status", "score", "wall_s"]


def study_dir(checkout: str | Path | None = None) -> Path:
    """The committed study of the checkout at `checkout` (see harness.reference)."""
    return reference_dir(checkout) / FOLDER


def commands() -> list[str]:
    return [
        f"harness correlate {args}{'' if '--seed ' in args else ' --seed 0'} {COMMON} "
        f"--storage {CACHE} --out results/darts-study/{name}"
        for name, args in PARTS.items()
    ]


CAPTION = (
    "Rank correlation with CIFAR-10 test accuracy after 600 epochs (DARTS protocol; Yang et "
    "al. 2020's 214 cells, one training seed each); positive = better score, better cell; "
    "rho/tau of the seed-mean score with 95% bootstrap intervals; rho_seed_* = each proxy "
    "seed's own rho; top10_overlap = share of the truly best 10% the proxy also ranks in its "
    "best 10%; reference rows: the same truth against itself (noise ceiling, depth gap)"
)
METRIC = "CIFAR-10 test accuracy after 600 epochs (%)"


def merge(root: Path, committed: Path | None = None) -> pd.DataFrame:
    """The committed rows (`committed`, if given and present), then every finished part's
    per-cell rows; a later part's rows replace an earlier one's for the same (proxy, budget,
    seed, cell), so parts run in a later session join the committed ones; the papers'
    population rankings (AZ-NAS's aggregate, VKDNW's) are rebuilt over the cells."""
    frames = [pd.read_csv(committed)] if committed is not None and committed.exists() else []
    frames += [
        pd.read_csv(root / n / "cells.csv") for n in PARTS if (root / n / "cells.csv").exists()
    ]
    if not frames:
        raise SystemExit(f"no correlate output under {root}: run the commands first")
    cells = pd.concat(frames, ignore_index=True)
    cells = cells.drop_duplicates(["proxy", "budget", "seed", "arch_key"], keep="last")
    cells = cells[~cells["proxy"].isin(DERIVED)]  # recomputed from the parts' readouts
    return pd.concat([cells, derived(cells)], ignore_index=True)


def summary_table(cells: pd.DataFrame) -> pd.DataFrame:
    from harness.benchmarks import BENCHMARKS
    from harness.correlate import reference_rows, summarize

    summary = summarize(cells, seed=0, n_resamples=1000)
    labels = cells.groupby("proxy")["labels_used"].max()
    summary.insert(1, "labels", [labels.get(p, math.nan) for p in summary["proxy"]])
    refs = reference_rows(BENCHMARKS.get("darts-cifar10"), seed=0, n_resamples=1000)
    refs.insert(1, "labels", math.nan)
    return pd.concat([summary, refs], ignore_index=True)


def readme_table(summary: pd.DataFrame) -> str:
    """The README's table: rho and tau with intervals, seeds, seed sd, top-10% overlap."""

    def num(v: float, fmt: str = "+.2f") -> str:
        return "-" if pd.isna(v) else format(v, fmt)

    lines = [
        "| proxy | labels | cells | rho [95% CI] | tau [95% CI] | seeds | seed sd | top-10% |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary.itertuples(index=False):
        labels = "-" if pd.isna(r.labels) else f"{int(r.labels):,}"
        lines.append(
            f"| {r.proxy} | {labels} | {r.n} | {num(r.spearman_rho)} [{num(r.rho_lo)}, "
            f"{num(r.rho_hi)}] | {num(r.kendall_tau)} [{num(r.tau_lo)}, {num(r.tau_hi)}] | "
            f"{r.seeds} | {num(r.rho_seed_sd, '.2f')} | {num(r.top10_overlap, '.2f')} |"
        )
    return "\n".join(lines)


def write(root: Path, out: Path | None = None) -> None:
    """Merge the parts under `root` into the committed study (`out`, default `study_dir()`)."""
    from harness.report.figures import correlate_figures
    from harness.report.render import render

    out = study_dir() if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    cells = merge(root, out / "cells.csv.gz")
    cells.to_csv(out / "cells.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    summary = summary_table(cells)
    summary.to_csv(out / "summary.csv", index=False)
    (out / "summary.md").write_text(
        render(summary, "md", caption=CAPTION, digits=3) + "\n\n" + readme_table(summary) + "\n"
    )
    correlate_figures(cells, out / "figures", METRIC)
    print(f"wrote {out}: {len(cells)} rows, {len(summary)} summary rows")
    print(readme_table(summary))


def explain(out: Path | None = None) -> None:
    """The NB201 study's measurements of what the contrastive score tracks, on these cells
    (the committed ones in `out`, default `study_dir()`)."""
    from harness.spaces import SPACES
    from harness.studies.explain import print_loss, print_structure, rho

    cells = pd.read_csv((study_dir() if out is None else out) / "cells.csv.gz")
    need = {"contrastive", "contrastive:init-loss", "contrastive:init-cosine"}
    if not need <= set(cells["proxy"]):
        raise SystemExit("the committed cells have no contrastive readouts")
    wide = cells.pivot_table(index="arch", columns="proxy", values="score", aggfunc="mean")
    truth = cells.groupby("arch")["truth"].first().reindex(wide.index)
    final, cosine = wide["contrastive"], wide["contrastive:init-cosine"]
    space = SPACES.get("darts")
    genotypes = [space.parse(a) for a in wide.index]
    ops = [[op for op, _ in g.normal + g.reduce] for g in genotypes]
    convs = [sum(o.startswith(("sep_conv", "dil_conv")) for o in c) for c in ops]
    pools = [sum(o == "avg_pool_3x3" for o in c) for c in ops]
    per_image = per_image_divisor()

    print_loss(wide, per_image)
    print(f"convolutions per cell (both cells): {min(convs)}-{max(convs)}")
    print_structure(cosine, convs, pools, truth, note=", both cells")
    print(f"rho(#average pools, test accuracy): {rho(pools, truth):+.3f}")
    reduce_max = np.array([sum(op == "max_pool_3x3" for op, _ in g.reduce) for g in genotypes])
    none, some = cosine[reduce_max == 0], cosine[reduce_max > 0]
    print(
        f"cells without a max pool in the reduction cell: {len(none)}, initial cosine "
        f"{none.min():.2f}-{none.max():.2f}; with one or more: {len(some)}, "
        f"{some.min():.2f}-{some.max():.2f}"
    )
    print(f"rho(#reduction-cell max pools, initial cosine): {rho(reduce_max, cosine):+.3f}")
    print(f"rho(#reduction-cell max pools, final loss): {rho(reduce_max, final):+.3f}")
    print(f"rho(#reduction-cell max pools, test accuracy): {rho(reduce_max, truth):+.3f}")
    for name in ("supervised", "contrastive", "contrastive/simclr"):
        part = cells[(cells["proxy"] == name) & cells["status"].eq("ok")]
        if len(part):
            print(
                f"{name}: score mean {part['score'].mean():.2f}; seconds per cell median "
                f"{part['wall_s'].median():.2f}, max {part['wall_s'].max():.2f}"
            )
    for name in sorted(set(cells["proxy"]) - need):
        part = cells[cells["proxy"] == name]
        if ":" not in name and name not in ("supervised", "contrastive/simclr"):
            print(f"{name}: seconds per cell median {part['wall_s'].median():.2f}")


def per_image_divisor() -> float:
    """Nats per image from the authors' per-batch score (as the NB201 study's `explain`)."""
    from harness.proxies import make_proxy

    s = make_proxy("contrastive", profile="quick").settings()
    batches = math.ceil(s["train_images"] / s["batch_size"])
    return s["train_images"] / batches


# -- zero-cost fidelity against NASLib's NB301 scores ----------------------------------------
def naslib_cells(naslib: Path, cells: int, seed: int = 0) -> pd.DataFrame:
    """A seeded subset of NASLib's 725 NB301 cells (the table `naslib`; all with cells <= 0),
    in file order."""
    df = pd.read_csv(naslib)
    if 0 < cells < len(df):
        df = df.iloc[np.sort(np.random.default_rng(seed).choice(len(df), cells, replace=False))]
    return df


def naslib_scores(
    naslib: Path, scores: Path, cells: int, seed: int, names: list[str] | None = None
) -> None:
    """Every proxy of NASLIB_COLUMN (or of `names`) on each cell of the table `naslib` at its
    default settings (the `darts` space's default network, C=32, 8 cells), one thread;
    appended per cell to `scores`, done cells skipped."""
    import torch

    from harness.benchmarks import BENCHMARKS
    from harness.proxies import make_proxy
    from harness.spaces import SPACES

    torch.set_num_threads(1)
    scores.parent.mkdir(parents=True, exist_ok=True)
    done: set[tuple[int, str]] = set()
    if scores.exists():
        prev = pd.read_csv(scores)
        done = set(zip(prev.naslib_idx, prev.proxy))
    bench = BENCHMARKS.get("darts-cifar10")
    space = SPACES.get(bench.space)
    unknown = sorted(set(names or []) - set(NASLIB_COLUMN))
    if unknown:
        raise SystemExit(f"--proxies: {unknown[0]!r} is not one of {', '.join(NASLIB_COLUMN)}")
    proxies = {name: make_proxy(name) for name in names or NASLIB_COLUMN}
    new = not scores.exists()
    with open(scores, "a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new:
            writer.writeheader()
        for n, row in enumerate(naslib_cells(naslib, cells).itertuples()):
            arch = space.parse(row.genotype)
            t0 = time.perf_counter()
            for name, proxy in proxies.items():
                if (row.naslib_idx, name) in done:
                    continue
                ev = proxy.evaluate(arch, bench, seed)
                writer.writerow(
                    {
                        "naslib_idx": row.naslib_idx,
                        "proxy": name,
                        "seed": seed,
                        "status": ev.status,
                        "score": repr(ev.score),
                        "wall_s": f"{ev.wall_s:.4f}",
                    }
                )
            fh.flush()
            print(f"{n + 1} cells ({time.perf_counter() - t0:.1f} s for {row.naslib_idx})")


def _rho(a: pd.Series, b: pd.Series) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def naslib_summary(naslib: Path, scores_file: Path) -> pd.DataFrame:
    """Per proxy: Spearman harness (`scores_file`) vs NASLib (the table `naslib`) on the same
    cells, and each one's Spearman with the NB301 surrogate's prediction (agreement with a
    surrogate, not with training); the comparison tables written beside `scores_file`."""
    scores = pd.read_csv(scores_file)
    scores["score"] = scores.score.where(scores.status == "ok", -math.inf)
    wide = scores.pivot_table(index="naslib_idx", columns="proxy", values="score", aggfunc="first")
    published = pd.read_csv(naslib).set_index("naslib_idx").loc[wide.index]
    walls = scores.groupby("proxy").wall_s.median()
    rows = []
    for name, column in NASLIB_COLUMN.items():
        if name not in wide:
            continue
        ours = wide[name].dropna()
        theirs = published.loc[ours.index, column]
        surrogate = published.loc[ours.index, "nb301_surrogate_val_acc"]
        rows.append(
            {
                "proxy": name,
                "naslib_column": column,
                "cells": len(ours),
                "failed": int(np.isinf(ours).sum()),
                "rho_harness_vs_naslib": _rho(ours, theirs),
                "rho_surrogate_harness": _rho(ours, surrogate),
                "rho_surrogate_naslib": _rho(theirs, surrogate),
                "median_s_per_cell": float(walls.get(name, math.nan)),
            }
        )
    table = pd.DataFrame(rows)
    table.to_csv(scores_file.parent / "naslib_comparison.csv", index=False, float_format="%.4f")
    header = (
        "# Harness zero-cost scores vs NASLib's on NB301 (DARTS) cells\n\n"
        f"Cells: a seeded subset (seed 0) of NASLib's 725 NB301 cells "
        "(`naslib_nb301_zc.csv.gz`, NASLib `zc_nasbench301.json`); each proxy's `cells` column "
        "says how many of them it scored. Harness proxy seed "
        f"{', '.join(map(str, sorted(scores.seed.unique())))}, default settings, network "
        "C=32, 8 cells (NASLib's NB301 scale), CPU, one thread. Spearman rank correlations. "
        "`nb301_surrogate_val_acc` is the NB301 surrogate's prediction: the two right-hand "
        "correlations are agreement with a surrogate, not with training. Seconds per cell "
        "were measured on a shared 2-core machine: naswot, synflow, params and flops at a load "
        "average of 5-7 (2026-11-30), jacov, snip and grad-norm at 3-4 (2026-12-01, beside "
        "three other study jobs).\n\n"
        "Made by `harness study darts naslib-scores && ... naslib-summary`.\n\n"
    )
    (scores_file.parent / "naslib_comparison.md").write_text(header + _markdown(table) + "\n")
    return table


def _markdown(table: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)


def cell_costs(names: list[str], cells: int = 2) -> None:
    """Wall seconds of each proxy (zero-cost at their defaults, trained at `quick`) on the
    first `cells` of the 214, proxy seed 0, one torch thread: the costs quoted for the parts
    that did not run."""
    import torch

    from harness.benchmarks import BENCHMARKS
    from harness.correlate import split_proxy
    from harness.proxies import make_proxy

    torch.set_num_threads(1)
    bench = BENCHMARKS.get("darts-cifar10")
    for spec in names:
        name, variant = split_proxy(spec)
        trained = name in ("contrastive", "supervised")
        proxy = make_proxy(name, **variant, **({"profile": "quick"} if trained else {}))
        for cell in bench.truth_cells()[:cells]:  # type: ignore[attr-defined]
            ev = proxy.evaluate(cell, bench, 0)
            print(f"{spec} {ev.wall_s:.2f} s {ev.status}", flush=True)


def paper_cost(cells: int, out: Path | None = None) -> dict:
    """The authors' proxy at the `paper` profile (C=32, 8 cells, 32x32, 500 images, batch 256)
    on the first `cells` of the 214: each trained for 1 and for 2 epochs, so the difference
    is one epoch's cost and the rest is the fixed part (memory-bank fill, readouts); projected
    to the profile's 10 epochs and to all 214 cells. One torch thread; the load is recorded.
    The projection uses the process's CPU seconds, not wall seconds: on a shared machine the
    wall time of the same work moves with the load (a first try here measured 412 s wall for
    1 epoch and 255 s for 2, so the difference of wall times is meaningless; a second, with
    CPU seconds but the 1-epoch run first in the process, 206 s against 197 s: the first call
    carried one-off costs)."""
    import json
    import os

    import torch

    from harness.benchmarks import BENCHMARKS
    from harness.proxies import make_proxy

    torch.set_num_threads(1)
    bench = BENCHMARKS.get("darts-cifar10")
    epochs = int(make_proxy("contrastive", profile="paper").settings()["epochs"])
    rows = []
    for i, cell in enumerate(bench.truth_cells()[:cells]):  # type: ignore[attr-defined]
        walls, cpus, loads = {}, {}, {}
        # first-call costs (image cache, kernel set-up) land on a cheap smoke run, and the
        # 2-epoch run goes first, so what is left of them inflates the epoch, not hides it
        make_proxy("contrastive", profile="smoke").evaluate(cell, bench, 0)
        for n in (2, 1):
            proxy = make_proxy("contrastive", profile="paper", epochs=n)
            t0 = time.process_time()
            walls[n] = proxy.evaluate(cell, bench, 0).wall_s
            cpus[n] = time.process_time() - t0
            loads[n] = os.getloadavg()[0]
        epoch = cpus[2] - cpus[1]
        fixed = cpus[1] - epoch
        rows.append(
            {
                "cell": i,
                "wall_1_epoch_s": walls[1],
                "wall_2_epochs_s": walls[2],
                "cpu_1_epoch_s": cpus[1],
                "cpu_2_epochs_s": cpus[2],
                "load_after_1": loads[1],
                "load_after_2": loads[2],
                "epoch_s": epoch,
                "fixed_s": fixed,
                "projected_cell_s": fixed + epochs * epoch,
            }
        )
        print(rows[-1], flush=True)
    per_cell = float(np.mean([r["projected_cell_s"] for r in rows]))
    result = {
        "rows": rows,
        "epochs": epochs,
        "projected_cell_h": per_cell / 3600,
        "projected_214_h": 214 * per_cell / 3600,
    }
    out = study_dir() if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    (out / "paper_cost.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def act(
    action: str,
    checkout: str | Path | None = None,
    root: str | None = None,
    naslib: Path | None = None,
    cells: int = 100,
    seed: int = 0,
    proxies: str | None = None,
) -> None:
    """Run one action of `harness study darts`, on a checkout of the repository (`checkout`,
    default the current directory), checked first: one line (HarnessError) where there is
    none or the action's input is missing."""
    command = f"harness study darts {action}"
    needs = f"{FOLDER}/cells.csv.gz" if action == "explain" else None
    if action == "naslib-summary":
        needs = f"{FOLDER}/{NASLIB_SCORES.as_posix()}"
    out = require_checkout(command, checkout, needs) / FOLDER
    if action.startswith("naslib-") and naslib is None:
        raise HarnessError(f"`{command}` needs --naslib FILE (NASLib's naslib_nb301_zc.csv.gz)")
    if naslib is not None and not naslib.is_file():
        raise HarnessError(f"--naslib: {naslib} is not a file")
    outputs = Path(root) if root else checkout_root(checkout) / "results" / "darts-study"
    if action == "run":
        print("\n".join(commands()))
    elif action == "naslib-scores":
        assert naslib is not None
        names = proxies.split(",") if proxies else None
        naslib_scores(naslib, out / NASLIB_SCORES, cells, seed, names)
    elif action == "cell-costs":
        cell_costs((proxies or "naswot,jacov,snip,grad-norm,swap").split(","), cells)
    elif action == "paper-cost":
        print(paper_cost(cells, out))
    elif action == "naslib-summary":
        assert naslib is not None
        print(naslib_summary(naslib, out / NASLIB_SCORES).to_string(index=False))
    elif action == "explain":
        explain(out)
    else:
        write(outputs, out)
