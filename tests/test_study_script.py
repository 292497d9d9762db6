"""harness/studies/nb201.py (`harness study nb201`): the merge keeps each cell set's own table predictors, and the per-image
divisor equals the one the contrastive proxy itself uses for `train_loss_per_image`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.studies import nb201 as study


def _part(root: Path, name: str, proxy: str, archs: list[str], budget: float | None) -> None:
    rows = []
    for i, arch in enumerate(archs):
        base = {"benchmark": "b", "arch": arch, "arch_key": arch, "truth": float(i)}
        rows.append({**base, "proxy": proxy, "budget": budget, "seed": 0.0, "score": float(i),
                     "direction": "maximize", "status": "ok", "wall_s": 1.0})  # fmt: skip
        rows.append({**base, "proxy": "lookup-12", "budget": None, "seed": None,
                     "score": float(i), "direction": "maximize", "status": "ok", "wall_s": 0.0})  # fmt: skip
    (root / name).mkdir()
    pd.DataFrame(rows).to_csv(root / name / "cells.csv", index=False)


def test_merge_keeps_table_rows_per_cell_set(tmp_path: Path) -> None:
    _part(tmp_path, "quick-zc", "synflow", ["a", "b", "c"], None)
    _part(tmp_path, "quick-zc-2", "naswot", ["a", "b", "c"], None)
    _part(tmp_path, "paper", "contrastive", ["x", "y"], 10.0)
    cells = study.merge(tmp_path, committed=tmp_path / "none.csv.gz")  # the parts alone
    table = cells[cells["proxy"] == "lookup-12"]
    # quick parts share cells: their table rows appear once, as profile 'table'
    assert sorted(table.loc[table["profile"] == "table", "arch_key"]) == ["a", "b", "c"]
    # the paper part's own cells keep theirs under 'paper', not mixed into the quick set
    assert sorted(table.loc[table["profile"] == "paper", "arch_key"]) == ["x", "y"]


def test_per_image_divisor_follows_the_profiles() -> None:
    """images / batches: the ratio of the proxy's `train-loss` to its `train_loss_per_image`
    (250.0 in every paper-profile evaluation stored by the study)."""
    assert study.per_image_divisor("quick") == 64.0  # 256 images in 4 batches of 64
    assert study.per_image_divisor("paper") == 250.0  # 500 images in 2 batches (256 + 244)


def test_frontier_keeps_committed_rows_of_other_datasets_not_rerun(tmp_path) -> None:
    """Only correlations of the other datasets are committed: a later write keeps them,
    unless that (dataset, proxy) was recomputed."""
    import pandas as pd

    from harness.studies.nb201 import with_committed_datasets

    old = pd.DataFrame(
        {
            "benchmark": ["nb201-cifar10", "nb201-cifar100", "nb201-cifar100", "nb201-imagenet16"],
            "proxy": ["meco", "az-nas", "az-nas:expressivity", "az-nas"],
            "spearman_rho": [0.1, 0.83, 0.73, 0.5],
        }
    )
    old.to_csv(tmp_path / "frontier.csv", index=False)
    now = pd.DataFrame(
        {"benchmark": ["nb201-cifar10", "nb201-imagenet16"], "proxy": ["meco", "az-nas"],
         "spearman_rho": [0.9, 0.6]}
    )  # fmt: skip
    out = with_committed_datasets(now, tmp_path / "frontier.csv")
    assert list(zip(out["benchmark"], out["proxy"], out["spearman_rho"])) == [
        ("nb201-cifar10", "meco", 0.9),
        ("nb201-imagenet16", "az-nas", 0.6),
        ("nb201-cifar100", "az-nas", 0.83),
        ("nb201-cifar100", "az-nas:expressivity", 0.73),
    ]
    assert with_committed_datasets(now, tmp_path / "none.csv") is now


def test_frontier_joins_the_parts_of_one_other_dataset(tmp_path: Path) -> None:
    """AZ-NAS and VKDNW on CIFAR-100 are two parts over the same cells: both proxies get
    their rows, and so does vkdnw:agg, which needs the two together."""
    rng = np.random.default_rng(0)
    archs = [f"a{i}" for i in range(40)]
    truth = rng.normal(size=40)
    readouts = {f"az-nas:{c}": c for c in ("expressivity", "progressivity", "trainability",
                                          "complexity")}  # fmt: skip
    parts = {"frontier-az-nas-c100": ["az-nas", *readouts], "frontier-vkdnw-c100":
             ["vkdnw", "vkdnw:vkdnw_dim"]}  # fmt: skip
    for name, proxies in parts.items():
        rows = [
            {"benchmark": "nb201-cifar100", "proxy": p, "budget": None, "seed": 0.0, "arch": a,
             "arch_key": a, "score": t + rng.normal(), "direction": "maximize", "truth": t,
             "status": "ok", "wall_s": 1.0, "labels_used": 0}
            for p in proxies for a, t in zip(archs, truth)
        ]  # fmt: skip
        (tmp_path / name).mkdir()
        pd.DataFrame(rows).to_csv(tmp_path / name / "cells.csv", index=False)
    cifar10 = pd.read_csv(tmp_path / "frontier-vkdnw-c100" / "cells.csv").assign(
        benchmark="nb201-cifar10"
    )
    table = study.frontier(tmp_path, cifar10)
    c100 = set(table.loc[table["benchmark"] == "nb201-cifar100", "proxy"])
    assert {"az-nas", "az-nas:population", "vkdnw", "vkdnw:single", "vkdnw:agg"} <= c100
    agg = table[(table["benchmark"] == "nb201-cifar100") & (table["proxy"] == "vkdnw:agg")]
    assert int(agg["n"].iloc[0]) == 40
