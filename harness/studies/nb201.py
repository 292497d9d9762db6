"""The label-free proxy study: merge `harness correlate` outputs into committed tables and figures.

    harness study nb201 run     # print the correlate commands (each resumable via --storage)
    harness study nb201 write   # merge their cells.csv files into results/reference/study/
    harness study nb201 explain # the README's figures on what the contrastive score measures

The study scores the same 200 unique NB201 cells (cell seed 0) with three proxy seeds at the
`quick` profile: the authors' contrastive proxy with its readouts, SimCLR, the supervised
control at equal budget, every zero-cost proxy and the table's own predictors; and 50 cells at
the `paper` profile with one seed (authors' contrastive and supervised). Correlations are
against NB201 CIFAR-10 test accuracy after 200 epochs, signed so that > 0 means 'better score,
better cell'. No setting was chosen by looking at the correlations.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.reference import checkout_root, reference_dir, require_checkout
from harness.studies.derived import DERIVED, derived, wide_scores

#: the study's folder in the reference (results/reference/study/ of a checkout)
FOLDER = "study"
CACHE = "sqlite:///results/study-cache.db"
COMMON = "--seed 0 --resamples 1000 --threads 1"
#: part name -> the correlate arguments that make it (run from the repository root)
PARTS: dict[str, str] = {
    "quick-trained": "--proxy contrastive,contrastive/simclr,supervised --sample 200 --seeds 3 "
    "--profile quick",
    "quick-zc": "--proxy synflow,params,flops,jacov,snip,grad-norm --sample 200 --seeds 3",
    "quick-zc-2": "--proxy naswot --sample 200 --seeds 3",
    "quick-zc-3": "--proxy swap --sample 200 --seeds 3",
    "paper": "--proxy contrastive,supervised --sample 50 --seeds 1 --profile paper",
    # the frontier proxies at their authors' settings (C=16, N=5)
    "frontier-meco": "--proxy meco --sample 200 --seeds 3",
    "frontier-az-nas": "--proxy az-nas --sample 200 --seeds 1",
    "frontier-zico": "--proxy zico --sample 200 --seeds 1",
    "frontier-vkdnw": "--proxy vkdnw --sample 200 --seeds 1",
    # NASLib's other five proxies at NASLib's settings (epe-nas at batch 256 and grasp: about
    # 4 s a cell, one seed)
    "quick-zc-naslib": "--proxy fisher,l2-norm,plain --sample 200 --seeds 3",
    "quick-zc-epe-nas": "--proxy epe-nas --sample 200 --seeds 1",
    "quick-zc-grasp": "--proxy grasp --sample 200 --seeds 1",
    # Dextr at its authors' NB201 settings (one image; about 2.5 s a cell)
    "frontier-dextr": "--proxy dextr --sample 200 --seeds 1",
}
#: the data-free frontier proxies on the other two NB201 datasets (same 200 cells; Gaussian
#: inputs at the dataset's resolution, the dataset's number of classes)
OTHER_DATASETS: dict[str, str] = {
    "frontier-az-nas-c100": "--proxy az-nas --benchmark nb201-cifar100 --sample 200 --seeds 1",
    "frontier-az-nas-in16": "--proxy az-nas --benchmark nb201-imagenet16 --sample 200 --seeds 1 "
    "--set image_size=16",
    "frontier-vkdnw-in16": "--proxy vkdnw --benchmark nb201-imagenet16 --sample 200 --seeds 1 "
    "--set image_size=16",
    "frontier-vkdnw-c100": "--proxy vkdnw --benchmark nb201-cifar100 --sample 200 --seeds 1",
}
#: a frontier proxy on every isomorphism class (all 6,466 unique cells, cell seed 0), where one
#: core can afford it: MeCo at about 0.08 s a cell, AZ-NAS at about 1 s
ALL_CELLS: dict[str, str] = {
    "all-meco": "--proxy meco --benchmark nb201-cifar10 --sample 6466 --seeds 1",
    "all-az-nas": "--proxy az-nas --benchmark nb201-cifar10 --sample 6466 --seeds 1",
}
AZ_NAS_RERUN = "Tybl & Neumann CVPR 2025 Table 1 (their rerun of AZ-NAS)"
#: published Spearman rho with NB201 test accuracy (CIFAR-10, CIFAR-100, ImageNet16-120)
Rhos = tuple[float | None, float | None, float | None]
#: proxy -> (rho per dataset, its source: one for all datasets or one per dataset)
PUBLISHED: dict[str, tuple[Rhos, str | tuple[str, ...]]] = {
    # AZ-NAS's own paper was not found for CIFAR-100 / ImageNet16-120 in the stored sources;
    # there the numbers are VKDNW's Table 1, its authors' rerun of AZ-NAS's code (their C10: 0.892)
    "az-nas:population": (
        (0.913, 0.880, 0.859),
        ("Lee & Ham CVPR 2024 (all 15,625 cells)", *[AZ_NAS_RERUN] * 2),
    ),
    "az-nas": (
        (0.913, 0.880, 0.859),
        ("Lee & Ham CVPR 2024 (population aggregate)", *[AZ_NAS_RERUN] * 2),
    ),
    "meco": ((0.894, 0.883, 0.845), "Jiang et al. NeurIPS 2023"),
    "dextr": ((0.90, 0.91, 0.87), "Asthana et al. TMLR 2025"),
    "zico": ((0.80, 0.81, 0.79), "Li et al. ICLR 2023"),
    "vkdnw:vkdnw_dim": ((0.767, 0.787, 0.764), "Tybl & Neumann CVPR 2025 Table 1, aleph"),
    "vkdnw:single": ((0.815, 0.829, 0.814), "Tybl & Neumann CVPR 2025 Table 1, VKDNW_single"),
    "vkdnw:agg": ((0.919, 0.919, 0.906), "Tybl & Neumann CVPR 2025 Table 1, VKDNW_agg"),
}
DATASETS = ("nb201-cifar10", "nb201-cifar100", "nb201-imagenet16")
FRONTIER_READOUTS = [
    "az-nas:expressivity", "az-nas:progressivity", "az-nas:trainability", "az-nas:complexity",
    "vkdnw", "vkdnw:vkdnw_dim",
]  # fmt: skip
CAPTION = (
    "Rank correlation with NB201 cifar10 test accuracy (200 epochs) over unique cells; "
    "positive = better score, better cell; rho/tau of the seed-mean score with 95% bootstrap "
    "intervals; rho_seed_* = each proxy seed's own rho; top10_overlap = share of the truly "
    "best 10% the proxy also ranks in its best 10%"
)

FRONTIER_CAPTION = (
    "Frontier zero-cost proxies: Spearman rho with NB201 test accuracy (200 epochs) on the "
    "study's 200 unique cells, with 95% bootstrap intervals, beside the published rho; "
    "reproduced = the published value lies inside the interval (the stated tolerance); "
    "derived rankings (az-nas:population, vkdnw:single, vkdnw:agg) are built over these cells"
)


def commands() -> list[str]:
    parts = {n: f"{a} --benchmark nb201-cifar10" for n, a in PARTS.items()}
    parts |= OTHER_DATASETS | ALL_CELLS
    return [
        f"harness correlate {args} {COMMON} --storage {CACHE} --out results/study/{name}"
        for name, args in parts.items()
    ]


def merge(root: Path, committed: Path | None = None) -> pd.DataFrame:
    """All parts' per-cell rows; the table's own predictors kept once per cell; rows of
    proxies not rerun under `root` kept from `committed` (default: the committed study's
    cells; None: the parts alone)."""
    frames = []
    for name in PARTS:
        path = root / name / "cells.csv"
        if path.exists():
            cells = pd.read_csv(path)
            cells.insert(0, "profile", "paper" if name == "paper" else "quick")
            frames.append(cells)
    committed = study_dir() / "cells.csv.gz" if committed is None else committed
    if not frames and not committed.exists():
        raise SystemExit(f"no correlate output under {root}: run the commands first")
    cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if committed.exists():  # parts not rerun here keep their committed rows
        old = pd.read_csv(committed)
        rerun = set(cells.loc[cells["seed"].notna(), "proxy"]) if len(cells) else set()
        old = old[~old["proxy"].isin(rerun | set(DERIVED))]  # derived: recomputed below
        cells = pd.concat([old, cells], ignore_index=True) if len(cells) else old
    table = cells["seed"].isna() & cells["budget"].isna() & cells["wall_s"].eq(0.0)
    # the quick parts share their 200 cells; the paper part keeps its own cells' table rows
    cells.loc[table & cells["profile"].eq("quick"), "profile"] = "table"
    cells = cells.drop_duplicates(["profile", "proxy", "budget", "seed", "arch_key"])
    quick = cells[cells["profile"] == "quick"]
    return pd.concat([cells, derived(quick).assign(profile="quick")], ignore_index=True)


def study_dir(checkout: str | Path | None = None) -> Path:
    """The committed study of the checkout at `checkout` (see harness.reference)."""
    return reference_dir(checkout) / FOLDER


def frontier(root: Path, cifar10: pd.DataFrame, out: Path | None = None) -> pd.DataFrame:
    """The frontier proxies' rho per dataset beside the published one; 'reproduced' = the
    published rho lies inside the 95% bootstrap interval (the stated tolerance); committed
    rows of other datasets from `out` (default `study_dir()`)."""
    from harness.correlate import summarize

    sets = {"nb201-cifar10": cifar10}
    parts: dict[str, list[pd.DataFrame]] = {}
    for name, args in OTHER_DATASETS.items():
        path = root / name / "cells.csv"
        if path.exists():
            parts.setdefault(args.split("--benchmark ")[1].split()[0], []).append(pd.read_csv(path))
    for bench, frames in parts.items():  # a dataset's parts share their 200 cells
        cells = pd.concat(frames, ignore_index=True)
        sets[bench] = pd.concat([cells, derived(cells)], ignore_index=True)
    rows = []
    for bench, cells in sets.items():
        mine = cells[cells["proxy"].isin(list(PUBLISHED) + FRONTIER_READOUTS)]
        summary = summarize(mine, seed=0, n_resamples=1000)
        for r in summary.itertuples(index=False):
            rows.append(
                {
                    "benchmark": bench, "proxy": r.proxy, "n": r.n, "seeds": r.seeds,
                    "spearman_rho": r.spearman_rho, "rho_lo": r.rho_lo, "rho_hi": r.rho_hi,
                }
            )  # fmt: skip
    committed = (study_dir() if out is None else out) / "frontier.csv"
    return with_published(with_committed_datasets(pd.DataFrame(rows), committed))


def with_published(table: pd.DataFrame) -> pd.DataFrame:
    """The published rho of each row's (proxy, dataset), its gap and whether it reproduced
    (the published value inside the 95% interval), from PUBLISHED (committed rows too)."""
    out = table.drop(columns=["published_rho", "gap", "reproduced", "source"], errors="ignore")
    found = [PUBLISHED.get(p, ((None, None, None), "")) for p in out["proxy"]]
    at = [DATASETS.index(b) for b in out["benchmark"]]
    value = [np.nan if v[i] is None else v[i] for (v, _), i in zip(found, at)]
    published = pd.Series(value, index=out.index, dtype=float)
    inside = (out["rho_lo"] <= published) & (published <= out["rho_hi"])
    return out.assign(
        published_rho=published,
        gap=out["spearman_rho"] - published,
        reproduced=inside.astype(object).where(published.notna(), None),
        source=[src if isinstance(src, str) else src[i] for (_, src), i in zip(found, at)],
    )


def with_committed_datasets(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Committed rows of the other datasets whose (dataset, proxy) was not recomputed now:
    their parts' cells are not committed (only their correlations), so a later session adds
    a proxy there without rerunning the others."""
    if not path.exists():
        return table
    old = pd.read_csv(path, keep_default_na=False, na_values=[""])
    if "source" in old:
        old["source"] = old["source"].fillna("")  # as written: an empty source, not NaN
    family = lambda df: df["benchmark"] + "/" + df["proxy"].str.split(":").str[0]  # noqa: E731
    old = old[(old["benchmark"] != "nb201-cifar10") & ~family(old).isin(set(family(table)))]
    return pd.concat([table, old], ignore_index=True) if len(old) else table


ALL_CELLS_CAPTION = (
    "Frontier proxies on the whole space: Spearman rho with NB201 test accuracy after 200 "
    "epochs, 95% bootstrap intervals, beside the published rho; truth 'cifar10 ori-test' = "
    "trained on all 50k train images (the study's), 'cifar10-valid test' = trained on 25k "
    "(what MeCo's NB201 script reads, over all 15,625 cells); cells 'unique' = one per "
    "isomorphism class (its smallest index), 'all' = every cell with its own accuracy and "
    "its class's score (isomorphic cells compute the same network, so each class is scored "
    "once)"
)


def all_cells_scores(root: Path, out: Path | None = None) -> pd.DataFrame:
    """Each ALL_CELLS part's proxy scores (one row per unique cell), or the committed ones
    (in `out`, default `study_dir()`) for parts not present under `root`."""
    path = (study_dir() if out is None else out) / "all_cells.csv.gz"
    old = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["proxy"])
    fresh = []
    for name, args in ALL_CELLS.items():
        part = root / name / "cells.csv"
        if part.exists():
            cells = pd.read_csv(part)
            proxy = args.split("--proxy ")[1].split()[0]
            family = cells["proxy"].str.split(":").str[0]  # the proxy and its readouts
            cells = cells[family.eq(proxy) & cells["seed"].notna()]
            fresh.append(cells[["proxy", "arch", "score", "direction", "status", "truth"]])
    if fresh:
        new = pd.concat(fresh, ignore_index=True)
        old = old[~old["proxy"].isin(set(new["proxy"]))]
        return pd.concat([old, new], ignore_index=True)
    return old


#: truth column -> what it is: the study's truth, and the one MeCo's NB201 script reads
#: (`get_more_info(i, 'cifar10-valid', hp='200')['test-accuracy']`: trained on 25k images)
ALL_CELLS_TRUTH = {
    "c10_test_acc_200": "cifar10 ori-test",
    "c10valid_test_acc_200": "cifar10-valid test",
}


def all_cells_table(scores: pd.DataFrame) -> pd.DataFrame:
    """rho over the unique cells, and over all 15,625 with each cell's class score, against
    each truth of ALL_CELLS_TRUTH; with AZ-NAS's components present, `az-nas:population`
    too, their log-rank aggregate over the 6,466 classes and over all 15,625 cells (each with
    its class's components: the population their notebook ranks)."""
    from harness.benchmarks.table import load_table
    from harness.correlate import rank_correlation
    from harness.spaces.nb201 import NB201Space

    table, space = load_table(), NB201Space()
    group = np.asarray(table["unique_group"])
    rows = []
    for proxy, (reps, unique, every) in _whole_space_rankings(scores, space, group).items():
        for column, truth_name in ALL_CELLS_TRUTH.items():
            truth = np.asarray(table[column], dtype=float)
            for population, x, y in (("unique", unique, truth[reps]), ("all", every, truth)):
                keep = ~np.isnan(x) & ~np.isnan(y)
                corr = rank_correlation(x[keep], y[keep], seed=0, n_resamples=1000)
                rows.append(
                    {
                        "benchmark": "nb201-cifar10", "proxy": proxy, "truth": truth_name,
                        "cells": population, "n": int(keep.sum()),
                        **{k: corr[k] for k in ("spearman_rho", "rho_lo", "rho_hi")},
                    }
                )  # fmt: skip
    return with_published(pd.DataFrame(rows))


Ranking = tuple[np.ndarray, np.ndarray, np.ndarray]  # class indices, their scores, all cells'


def _whole_space_rankings(
    scores: pd.DataFrame, space: Any, group: np.ndarray
) -> dict[str, Ranking]:
    """Each proxy's signed class scores (a failed one -inf) spread over the space (NaN where
    a cell's class was not scored), and AZ-NAS's population aggregate from its readouts."""
    from harness.proxies.zero_cost.az_nas import COMPONENTS, population_log_rank

    def spread(reps: np.ndarray, score: np.ndarray) -> np.ndarray:
        by_group = dict(zip(reps, score))
        return np.array([by_group.get(g, np.nan) for g in group])

    out: dict[str, Ranking] = {}
    for proxy, part in scores[~scores["proxy"].str.contains(":")].groupby("proxy", sort=False):
        sign = np.where(part["direction"].eq("maximize"), 1.0, -1.0)
        score = np.where(part["status"].eq("ok"), part["score"] * sign, -np.inf)
        reps = np.array([space.index(space.parse(a)) for a in part["arch"]])
        out[str(proxy)] = (reps, score, spread(reps, score))
    readouts = [f"az-nas:{c}" for c in COMPONENTS]
    if set(readouts) <= set(scores["proxy"]):
        # failed or NaN readouts: -inf, as theirs
        wide = wide_scores(scores.assign(seed=0), readouts)
        assert wide is not None
        wide = wide.fillna(-np.inf)
        reps = np.array([space.index(space.parse(a)) for a in wide.index])
        every = np.full(len(group), np.nan)
        scored = np.isin(group, reps)
        columns = {k: spread(reps, wide[k].to_numpy())[scored] for k in readouts}
        every[scored] = population_log_rank(columns)
        unique = population_log_rank({k: wide[k].to_numpy() for k in readouts})
        out["az-nas:population"] = (reps, unique, every)
    return out


def write_all_cells(root: Path, out: Path) -> None:
    from harness.report.render import render

    scores = all_cells_scores(root, out)
    if not len(scores):
        return
    scores.to_csv(out / "all_cells.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    table = all_cells_table(scores)
    table.to_csv(out / "all_cells.csv", index=False)
    (out / "all_cells.md").write_text(render(table, "md", caption=ALL_CELLS_CAPTION, digits=3))


def write(root: Path, out: Path | None = None) -> None:
    """Merge the parts under `root` into the committed study (`out`, default `study_dir()`)."""
    from harness.correlate import summarize
    from harness.report.figures import correlate_figures
    from harness.report.render import render

    out = study_dir() if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    cells = merge(root, out / "cells.csv.gz")
    cells.to_csv(out / "cells.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    parts = []
    for profile, group in cells.groupby("profile", sort=False):
        summary = summarize(group, seed=0, n_resamples=1000)
        summary.insert(0, "profile", profile)
        parts.append(summary)
    summary = pd.concat(parts, ignore_index=True)
    summary.to_csv(out / "summary.csv", index=False)
    (out / "summary.md").write_text(render(summary, "md", caption=CAPTION, digits=3))
    metric = "cifar10 test accuracy after 200 epochs (%)"
    correlate_figures(cells[cells["profile"] != "paper"], out / "figures", metric)
    paper = cells[cells["profile"] == "paper"]
    if len(paper):
        correlate_figures(paper, out / "figures" / "paper", metric)
    table = frontier(root, cells[cells["profile"] == "quick"], out)
    table.to_csv(out / "frontier.csv", index=False)
    (out / "frontier.md").write_text(render(table, "md", caption=FRONTIER_CAPTION, digits=3))
    write_all_cells(root, out)
    print(f"wrote {out}: {len(cells)} rows, {len(summary)} summary rows")


def explain(out: Path | None = None) -> None:
    """Print the README's figures about what the contrastive score measures, from the
    committed cells (authors' pirl; in `out`, default `study_dir()`), for each profile that
    has them."""
    cells = pd.read_csv((study_dir() if out is None else out) / "cells.csv.gz")
    for profile in ("quick", "paper"):
        part = cells[cells["profile"] == profile]
        if "contrastive:init-cosine" in set(part["proxy"]):
            print(f"-- {profile} profile")
            _explain(part, profile)


def per_image_divisor(profile: str) -> float:
    """The authors' score is the per-batch loss summed over batches and divided by their
    number; dividing by images / batches gives nats per image."""
    from harness.proxies import make_proxy

    s = make_proxy("contrastive", profile=profile).settings()
    batches = math.ceil(s["train_images"] / s["batch_size"])
    return s["train_images"] / batches


def _explain(part: pd.DataFrame, profile: str) -> None:
    from harness.spaces import SPACES
    from harness.studies.explain import print_loss, print_structure

    wide = part.pivot_table(index="arch", columns="proxy", values="score", aggfunc="mean")
    truth = part.groupby("arch")["truth"].first().reindex(wide.index)
    per_image = per_image_divisor(profile)
    ops = [SPACES.get("nb201").parse(a).ops for a in wide.index]
    convs = [sum(o.startswith("nor_conv") for o in c) for c in ops]
    pools = [sum(o == "avg_pool_3x3" for o in c) for c in ops]

    print_loss(wide, per_image)
    print_structure(wide["contrastive:init-cosine"], convs, pools, truth)
    supervised = part.loc[part["proxy"] == "supervised", "score"]
    print(f"supervised held-out accuracy (%): mean {supervised.mean():.1f}")
    seconds = part.loc[part["proxy"] == "contrastive", "wall_s"]
    print(f"authors' pirl seconds per cell: median {seconds.median():.1f}, max {seconds.max():.1f}")


def act(action: str, checkout: str | Path | None = None, root: str | None = None) -> None:
    """Run one action of `harness study nb201`. Every action works on a checkout of the
    repository (`checkout`, default the current directory), checked first: one line
    (HarnessError) where there is none."""
    needs = f"{FOLDER}/cells.csv.gz" if action == "explain" else None
    ref = require_checkout(f"harness study nb201 {action}", checkout, needs)
    outputs = Path(root or checkout_root(checkout) / "results" / "study")
    if action == "run":
        print("\n".join(commands()))
    elif action == "explain":
        explain(ref / FOLDER)
    else:
        write(outputs, ref / FOLDER)
