"""The proxy-budget ladder: at what training budget does a trained proxy start to rank NB201
cells, and does a self-supervised loss then match supervised training at the same budget?

    harness study ladder cost  --data FILE [--plan cpu]   # seconds per cell at every rung
    harness study ladder run   --data FILE [--plan cpu]   # the correlate commands (resumable)
    harness study ladder write [--plan cpu]               # merge into results/reference/ladder/

Every trained proxy (PROXIES) is scored at every rung of a plan (PLANS): a training budget of
`train_images` x `epochs`, everything else fixed, on one seeded draw of unique NB201 cells
(cell seed 0) with several proxy seeds. Each (proxy, rung) is one `harness correlate` part, so
a killed ladder resumes from its store and parts finish independently. `write` summarises each
proxy's score and every readout it records (RankMe, losses, pretext accuracy) per rung:
Spearman and Kendall with 95% bootstrap intervals against NB201 CIFAR-10 test accuracy after
200 epochs, the spread across proxy seeds, top-10% overlap and seconds per cell, beside two
references on the same cells: NB201's own 12-epoch training (`lookup-12`, labels) and the best
zero-cost proxy of the committed study (MeCo, no labels).

The optimiser is fixed a priori for every rung and proxy (never from correlations): SGD with
momentum 0.9, NB201's weight decay 5e-4 and NB201's learning rate 0.1 scaled linearly to the
batch (lr = 0.1 x batch / 256), constant (NB201 anneals it with a cosine; the template keeps a
constant rate). The CSNAS authors' lr 1e-3 barely moves the networks at these budgets (the
supervised control's training loss fell from 2.33 to 2.10-2.17 in 1,000 x 10 image-epochs at
lr 1e-3, and to 1.50-1.61 at lr 0.025: two cells, training losses only), so the ladder would
measure the learning rate rather than the budget. The study's `quick` and `paper` rows keep the
authors' rate.
"""

from __future__ import annotations

import math
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import HarnessError
from harness.studies.ladder_figure import NO_RUNG

#: the study's folder in the reference (results/reference/ladder/ of a checkout)
FOLDER = "ladder"
BENCHMARK = "nb201-cifar10"
#: the trained proxies on the ladder, as correlate names them (NAME or NAME/VARIANT)
PROXIES = ("supervised", "contrastive", "contrastive/simclr", "rotation", "simsiam")
#: the label-free reference: the committed study's best zero-cost proxy (rho 0.90 on its 200
#: cells); lookup-12 comes with every correlate part (the table's own predictor)
ZERO_COST = "meco"
LOOKUP = "lookup-12"


@dataclass(frozen=True)
class Plan:
    """One ladder: cells, proxy seeds, rungs (train_images, epochs) and the settings every
    rung shares (network scale, resolution, batch, optimiser, device)."""

    cells: int
    seeds: int
    rungs: tuple[tuple[int, int], ...]
    #: the trained-proxy profile whose network scale the ladder keeps (the space's
    #: `proxy_scale(profile)`: NB201 quick C=8 N=1, paper C=16 N=5)
    profile: str
    settings: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def rung_settings(self, images: int, epochs: int) -> dict[str, Any]:
        return {**self.settings, "train_images": images, "epochs": epochs}


def _optimiser(batch: int) -> dict[str, Any]:
    """NB201's rate scaled linearly to the batch, its weight decay; momentum 0.9."""
    return {"batch_size": batch, "lr": 0.1 * batch / 256, "momentum": 0.9, "weight_decay": 5e-4}


PLANS: dict[str, Plan] = {
    # chosen from `cost` (results/reference/ladder/cpu/cost.md): 531 s per cell and seed for
    # the five proxies at the four rungs, measured at load 5.6-7, so 32 x 2 is 9.4 core-hours
    # at that load and less on a quiet machine
    "cpu": Plan(
        cells=32,
        seeds=2,
        rungs=((256, 3), (500, 5), (1000, 10), (5000, 10)),
        profile="quick",
        settings={
            "image_size": 16,
            "heldout_images": 256,
            "threads": 1,
            "device": "cpu",
            **_optimiser(64),
        },
        description="32 cells x 2 seeds, NB201 C=8 N=1 at 16x16 (the quick network), "
        "768 to 50,000 image-epochs",
    ),
    # the full ladder for a lent GPU: NB201's own network and resolution, up to its 12-epoch
    # budget on 25,000 images (needs the CIFAR-10 training set as --data)
    "gpu": Plan(
        cells=200,
        seeds=3,
        rungs=((256, 3), (500, 10), (2500, 10), (5000, 12), (25000, 12)),
        profile="paper",
        settings={
            "image_size": 32,
            "heldout_images": 1000,
            "device": "cuda",
            **_optimiser(256),
        },
        description="200 cells x 3 seeds, NB201 C=16 N=5 at 32x32, up to 25,000 images x 12 "
        "epochs (NB201's own budget)",
    ),
    # tests: the whole path at tiny sizes on the CPU
    "smoke": Plan(
        cells=5,
        seeds=2,
        rungs=((32, 1), (64, 2)),
        profile="smoke",
        settings={
            "image_size": 16,
            "heldout_images": 32,
            "threads": 1,
            "device": "cpu",
            **_optimiser(32),
        },
        description="tests: 5 cells x 2 seeds, NB201 C=4 N=1, 32 and 128 image-epochs",
    ),
}


def plan_of(name: str) -> Plan:
    if name not in PLANS:
        raise HarnessError(f"unknown ladder plan {name!r} (known: {', '.join(PLANS)})")
    return PLANS[name]


def rung_label(images: int, epochs: int) -> str:
    return f"{images}x{epochs}"


def part_name(proxy: str, rung: tuple[int, int] | None) -> str:
    """The folder of one correlate part: `supervised@1000x10`, `contrastive-simclr@...`."""
    return proxy.replace("/", "-") + ("" if rung is None else "@" + rung_label(*rung))


def part_args(plan: Plan, data: str, proxies: tuple[str, ...] = PROXIES) -> dict[str, list[str]]:
    """Part name -> the `harness correlate` arguments that make it (without --out and
    --storage): the cheap rungs first, so a ladder stopped early has whole low rungs."""
    common = ["--benchmark", BENCHMARK, "--sample", str(plan.cells), "--seed", "0",
              "--resamples", "1000"]  # fmt: skip
    parts: dict[str, list[str]] = {
        part_name(ZERO_COST, None): ["--proxy", ZERO_COST, *common, "--seeds", "1"]
    }
    for rung in sorted(plan.rungs, key=lambda r: r[0] * r[1]):
        sets = {**plan.rung_settings(*rung), "data": data}
        for proxy in proxies:
            args = ["--proxy", proxy, *common, "--seeds", str(plan.seeds)]
            args += ["--profile", plan.profile]
            for key, value in sets.items():
                args += ["--set", f"{key}={value}"]
            parts[part_name(proxy, rung)] = args
    return parts


def commands(plan: Plan, data: str, storage: str, root: str) -> list[str]:
    """One shell line per part, cheap rungs first; each resumes from `storage`."""
    return [
        shlex.join(["harness", "correlate", *args, "--storage", storage, "--out", f"{root}/{name}"])
        for name, args in part_args(plan, data).items()
    ]


def measure_cost(plan: Plan, data: str, cells: int = 1) -> list[dict[str, Any]]:
    """Seconds per cell of every proxy at every rung, on the plan's first `cells` cells,
    proxy seed 0, in this process; each proxy first evaluates one cell at the cheapest rung,
    untimed, so that loading the images and the code is not counted."""
    from harness.benchmarks import BENCHMARKS
    from harness.correlate import sample_unique_cells, split_proxy
    from harness.proxies import make_proxy

    bench = BENCHMARKS.get(BENCHMARK)
    archs = sample_unique_cells(plan.cells, 0, bench)[:cells]
    rungs = sorted(plan.rungs, key=lambda r: r[0] * r[1])
    rows = []

    def build(proxy: str, rung: tuple[int, int]) -> Any:
        name, variant = split_proxy(proxy)
        settings = {**plan.rung_settings(*rung), "data": data, **variant}
        return make_proxy(name, profile=plan.profile, **settings)

    for proxy in PROXIES:
        build(proxy, rungs[0]).evaluate(archs[0], bench, 0)
        for rung in rungs:
            evaluator, seconds = build(proxy, rung), []
            for arch in archs:
                start = time.perf_counter()
                evaluator.evaluate(arch, bench, 0)
                seconds.append(time.perf_counter() - start)
            rows.append(
                {"proxy": proxy, "rung": rung_label(*rung), "image_epochs": rung[0] * rung[1],
                 "seconds_per_cell": sum(seconds) / len(seconds)}
            )  # fmt: skip
            print(f"{proxy:<20} {rung_label(*rung):>9} {rows[-1]['seconds_per_cell']:8.2f} s")
    return rows


def core_hours(plan: Plan, cost: list[dict[str, Any]]) -> float:
    """The plan's compute from measured seconds per cell: cells x seeds x every (proxy, rung)."""
    return plan.cells * plan.seeds * sum(r["seconds_per_cell"] for r in cost) / 3600


def parse_rung(part: str) -> tuple[int, int] | None:
    if "@" not in part:
        return None
    images, epochs = part.split("@", 1)[1].split("x")
    return int(images), int(epochs)


def image_epochs(rung: tuple[int, int] | None) -> float:
    return math.nan if rung is None else float(rung[0] * rung[1])


# -- merging the parts -------------------------------------------------------------------------

CAPTION = (
    "The proxy-budget ladder: Spearman rho / Kendall tau of the seed-mean score with NB201 "
    "cifar10 test accuracy (200 epochs) over the ladder's unique cells, 95% bootstrap "
    "intervals; positive = better score, better cell; rho_seed_sd = spread of each proxy seed's "
    "own rho; top10_overlap = share of the truly best 10% also in the proxy's best 10%; "
    "seconds_per_cell = median wall seconds of one evaluation; rung = train images x epochs"
)
SUMMARY_FIELDS = [
    "proxy", "readout", "rung", "image_epochs", "n", "spearman_rho", "rho_lo", "rho_hi",
    "kendall_tau", "tau_lo", "tau_hi", "seeds", "rho_seed_sd", "top10_overlap",
    "seconds_per_cell", "labels_used",
]  # fmt: skip


def merge(root: Path, committed: Path | None = None) -> Any:
    """Every part's cells.csv under `root` with its rung, plus the rows of `committed` (a
    previous `write`'s cells.csv.gz) for parts not under `root`: a ladder run over several
    sessions keeps what earlier ones finished. The table's own predictors are kept once per
    cell (every part carries them)."""
    import pandas as pd

    frames = []
    for path in sorted(root.glob("*/cells.csv")):
        cells = pd.read_csv(path)
        rung = parse_rung(path.parent.name)
        cells.insert(0, "rung", NO_RUNG if rung is None else rung_label(*rung))
        cells.insert(1, "image_epochs", image_epochs(rung))
        frames.append(cells)
    if committed is not None and committed.exists():
        old = pd.read_csv(committed, keep_default_na=False, na_values=[""])
        fresh = {
            (rung, family)
            for f in frames
            for rung, family in zip(f["rung"], _family(f["proxy"]).where(f["seed"].notna()))
            if isinstance(family, str)
        }
        keep = [(r, p) not in fresh for r, p in zip(old["rung"], _family(old["proxy"]))]
        frames.insert(0, old[keep])
    if not frames:
        raise HarnessError(f"no correlate output under {root}: run the ladder's commands first")
    cells = pd.concat(frames, ignore_index=True)
    table = cells["seed"].isna() & cells["wall_s"].eq(0.0)
    cells.loc[table, ["rung", "image_epochs"]] = [NO_RUNG, math.nan]
    return cells.drop_duplicates(["rung", "proxy", "seed", "arch_key"], ignore_index=True)


def _family(proxy: Any) -> Any:
    """`contrastive/simclr:rankme` -> `contrastive/simclr`: a proxy and its readouts."""
    return proxy.str.split(":").str[0]


def summarize_ladder(cells: Any, resamples: int = 1000) -> Any:
    """One row per (proxy, readout, rung) with the correlations and the cost of a cell."""
    import pandas as pd

    from harness.correlate import summarize

    parts = []
    for rung, group in cells.groupby("rung", sort=False, dropna=False):
        summary = summarize(group, seed=0, n_resamples=resamples)
        family = _family(summary["proxy"])
        own = group[~group["proxy"].str.contains(":")]
        seconds = own.groupby("proxy")["wall_s"].median()
        labels = own.groupby("proxy")["labels_used"].max()
        parts.append(
            summary.assign(
                proxy=family,
                readout=summary["proxy"].str.partition(":")[2].replace("", "score"),
                rung=rung,
                image_epochs=group["image_epochs"].iloc[0],
                seconds_per_cell=family.map(seconds).where(family.map(seconds) > 0),
                labels_used=family.map(labels),
            )
        )
    table = pd.concat(parts, ignore_index=True)[SUMMARY_FIELDS]
    order = {p.replace("/", "-"): i for i, p in enumerate((ZERO_COST, LOOKUP, *PROXIES))}
    table["_o"] = table["proxy"].str.replace("/", "-").map(order).fillna(len(order))
    table = table.sort_values(["_o", "readout", "image_epochs"], kind="stable")
    return table.drop(columns="_o").reset_index(drop=True)


def crossings(summary: Any, readout: str = "score") -> Any:
    """Per trained proxy: the smallest rung (image-epochs) whose rho exceeds 0 with its whole
    interval, and the smallest whose rho reaches 0.5 (NaN: no rung does)."""
    import pandas as pd

    rows = []
    trained = summary[summary["rung"].ne(NO_RUNG) & summary["readout"].eq(readout)]
    for proxy, part in trained.groupby("proxy", sort=False):
        part = part.sort_values("image_epochs")
        above = part[part["rho_lo"] > 0]
        half = part[part["spearman_rho"] >= 0.5]
        rows.append(
            {
                "proxy": proxy,
                "readout": readout,
                "best_rho": part["spearman_rho"].max(),
                "above_zero_at": above["image_epochs"].min() if len(above) else math.nan,
                "rho_0.5_at": half["image_epochs"].min() if len(half) else math.nan,
            }
        )
    return pd.DataFrame(rows)


def ladder_dir(checkout: str | Path | None = None) -> Path:
    from harness.reference import reference_dir

    return reference_dir(checkout) / FOLDER


def write(root: Path, out: Path, plan: str, resamples: int = 1000) -> None:
    """Merge the parts under `root` into `out`: cells, summary (csv, md), crossings and the
    figure."""
    from harness.report.render import render
    from harness.studies.ladder_figure import draw

    out.mkdir(parents=True, exist_ok=True)
    cells = merge(root, out / "cells.csv.gz")
    cells.to_csv(out / "cells.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    summary = summarize_ladder(cells, resamples)
    summary.to_csv(out / "summary.csv", index=False)
    caption = f"{CAPTION}; plan {plan}: {plan_of(plan).description}"
    (out / "summary.md").write_text(render(summary, "md", caption=caption, digits=3))
    cross = crossings(summary)
    cross.to_csv(out / "crossings.csv", index=False)
    draw(summary, out)
    print(f"wrote {out}: {len(cells)} rows, {len(summary)} summary rows")


def act(
    action: str,
    checkout: str | Path | None,
    root: str | None,
    plan: str,
    data: str | None,
    storage: str | None,
) -> None:
    """Run one action of `harness study ladder` (see the module docstring)."""
    from harness.reference import checkout_root, require_checkout

    chosen = plan_of(plan)
    if action in ("cost", "run") and not data:
        raise HarnessError(
            f"harness study ladder {action} needs --data (a CIFAR-10 .npz or folder)"
        )
    if action == "cost":
        cost = measure_cost(chosen, str(data))
        print(f"plan {plan}: {chosen.cells} cells x {chosen.seeds} seeds = "
              f"{core_hours(chosen, cost):.1f} core-hours")  # fmt: skip
        return
    ref = require_checkout(f"harness study ladder {action}", checkout)
    outputs = root or str(checkout_root(checkout) / "results" / "ladder" / plan)
    if action == "run":
        store = storage or f"sqlite:///{checkout_root(checkout) / 'results' / 'ladder-cache.db'}"
        print("\n".join(commands(chosen, str(data), store, outputs)))
    else:
        write(Path(outputs), ref / FOLDER / plan, plan)
