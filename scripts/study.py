"""The label-free proxy study: merge `harness correlate` outputs into committed tables and figures.

    python scripts/study.py run     # print the correlate commands (each resumable via --storage)
    python scripts/study.py write   # merge their cells.csv files into results/reference/study/
    python scripts/study.py explain # the README's figures on what the contrastive score measures

The study scores the same 200 unique NB201 cells (cell seed 0) with three proxy seeds at the
`quick` profile: the authors' contrastive proxy with its readouts, SimCLR, the supervised
control at equal budget, every zero-cost proxy and the table's own predictors; and 50 cells at
the `paper` profile with one seed (authors' contrastive and supervised). Correlations are
against NB201 CIFAR-10 test accuracy after 200 epochs, signed so that > 0 means 'better score,
better cell'. No setting was chosen by looking at the correlations.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "reference" / "study"
CACHE = "sqlite:///results/study-cache.db"
COMMON = "--benchmark nb201-cifar10 --seed 0 --resamples 1000 --threads 1"
#: part name -> the correlate arguments that make it (run from the repository root)
PARTS: dict[str, str] = {
    "quick-trained": "--proxy contrastive,contrastive/simclr,supervised --sample 200 --seeds 3 "
    "--profile quick",
    "quick-zc": "--proxy synflow,params,flops,jacov,snip,grad-norm --sample 200 --seeds 3",
    "quick-zc-2": "--proxy naswot --sample 200 --seeds 3",
    "quick-zc-3": "--proxy swap --sample 200 --seeds 3",
    "paper": "--proxy contrastive,supervised --sample 50 --seeds 1 --profile paper",
}
CAPTION = (
    "Rank correlation with NB201 cifar10 test accuracy (200 epochs) over unique cells; "
    "positive = better score, better cell; rho/tau of the seed-mean score with 95% bootstrap "
    "intervals; rho_seed_* = each proxy seed's own rho; top10_overlap = share of the truly "
    "best 10% the proxy also ranks in its best 10%"
)


def commands() -> list[str]:
    return [
        f"harness correlate {args} {COMMON} --storage {CACHE} --out results/study/{name}"
        for name, args in PARTS.items()
    ]


def merge(root: Path) -> pd.DataFrame:
    """All parts' per-cell rows; the table's own predictors kept once per cell."""
    frames = []
    for name in PARTS:
        path = root / name / "cells.csv"
        if path.exists():
            cells = pd.read_csv(path)
            cells.insert(0, "profile", "paper" if name == "paper" else "quick")
            frames.append(cells)
    if not frames:
        raise SystemExit(f"no correlate output under {root}: run the commands first")
    cells = pd.concat(frames, ignore_index=True)
    table = cells["seed"].isna() & cells["budget"].isna() & cells["wall_s"].eq(0.0)
    # the quick parts share their 200 cells; the paper part keeps its own cells' table rows
    cells.loc[table & cells["profile"].eq("quick"), "profile"] = "table"
    cells = cells.drop_duplicates(["profile", "proxy", "budget", "seed", "arch_key"])
    return cells.reset_index(drop=True)


def write(root: Path) -> None:
    from harness.correlate import summarize
    from harness.report.figures import correlate_figures
    from harness.report.render import render

    OUT.mkdir(parents=True, exist_ok=True)
    cells = merge(root)
    cells.to_csv(OUT / "cells.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    parts = []
    for profile, group in cells.groupby("profile", sort=False):
        summary = summarize(group, seed=0, n_resamples=1000)
        summary.insert(0, "profile", profile)
        parts.append(summary)
    summary = pd.concat(parts, ignore_index=True)
    summary.to_csv(OUT / "summary.csv", index=False)
    (OUT / "summary.md").write_text(render(summary, "md", caption=CAPTION, digits=3))
    metric = "cifar10 test accuracy after 200 epochs (%)"
    correlate_figures(cells[cells["profile"] != "paper"], OUT / "figures", metric)
    paper = cells[cells["profile"] == "paper"]
    if len(paper):
        correlate_figures(paper, OUT / "figures" / "paper", metric)
    print(f"wrote {OUT}: {len(cells)} rows, {len(summary)} summary rows")


def explain() -> None:
    """Print the README's figures about what the contrastive score measures, from the
    committed cells (authors' pirl), for each profile that has them."""
    cells = pd.read_csv(OUT / "cells.csv.gz")
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
    from scipy import stats

    from harness.spaces import SPACES

    wide = part.pivot_table(index="arch", columns="proxy", values="score", aggfunc="mean")
    truth = part.groupby("arch")["truth"].first().reindex(wide.index)
    final, init = wide["contrastive"], wide["contrastive:init-loss"]
    cosine, drop = wide["contrastive:init-cosine"], wide["contrastive:loss-drop"]
    per_image = per_image_divisor(profile)
    ops = [SPACES.get("nb201").parse(a).ops for a in wide.index]
    convs = [sum(o.startswith("nor_conv") for o in c) for c in ops]
    pools = [sum(o == "avg_pool_3x3" for o in c) for c in ops]

    def rho(a: object, b: object) -> float:
        return float(stats.spearmanr(a, b).statistic)

    print(f"cells: {len(wide)}")
    print(f"rho(final loss, loss before training): {rho(final, init):+.3f}")
    print(f"rho(final loss, initial embedding cosine): {rho(final, cosine):+.3f}")
    print(
        f"loss drop per image (nats): mean {drop.mean() / per_image:.2f}, "
        f"min {drop.min() / per_image:.2f}, max {drop.max() / per_image:.2f}; "
        f"rose for {int((drop < 0).sum())} cells"
    )
    spread = (final.max() - final.min()) / per_image
    print(f"spread of the final loss between cells (nats): {spread:.2f}")
    print(f"rho(initial cosine, #convolutions): {rho(cosine, convs):+.3f}")
    print(f"rho(initial cosine, #average pools): {rho(cosine, pools):+.3f}")
    print(f"rho(#convolutions, test accuracy): {rho(convs, truth):+.3f}")
    supervised = part.loc[part["proxy"] == "supervised", "score"]
    print(f"supervised held-out accuracy (%): mean {supervised.mean():.1f}")
    seconds = part.loc[part["proxy"] == "contrastive", "wall_s"]
    print(f"authors' pirl seconds per cell: median {seconds.median():.1f}, max {seconds.max():.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["run", "write", "explain"])
    parser.add_argument("--root", default=str(REPO / "results" / "study"))
    args = parser.parse_args()
    if args.action == "run":
        print("\n".join(commands()))
    elif args.action == "explain":
        explain()
    else:
        write(Path(args.root))


if __name__ == "__main__":
    sys.exit(main())
