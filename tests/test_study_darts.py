"""harness/studies/darts.py (`harness study darts`): a later part replaces an earlier one's rows for the same cells and
seeds, the summary ends with the truth's own reference rows, and the NASLib subset is seeded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
from harness.studies import darts as study  # noqa: E402

#: NASLib's NB301 table in the project's shared data beside the checkout (not in the package)
NASLIB = REPO.parent / "shared" / "data" / "darts" / "naslib_nb301_zc.csv.gz"


def _part(root: Path, name: str, proxy: str, seeds: list[int], score: float) -> None:
    rows = [
        {"benchmark": "darts-cifar10", "proxy": proxy, "budget": 3.0, "seed": float(s),
         "arch": a, "arch_key": a, "score": score + i, "direction": "minimize",
         "truth": 97.0 - i, "status": "ok", "wall_s": 1.0, "labels_used": 0}
        for s in seeds for i, a in enumerate("abcd")
    ]  # fmt: skip
    (root / name).mkdir()
    pd.DataFrame(rows).to_csv(root / name / "cells.csv", index=False)


def test_merge_lets_the_later_part_replace_shared_rows(tmp_path: Path) -> None:
    """Committed rows first, then the parts in PARTS order: a part run in a later session
    replaces the committed rows it shares and adds its seeds beside theirs."""
    _part(tmp_path, "committed", "contrastive", [0, 1], 100.0)
    committed = tmp_path / "committed.csv.gz"
    pd.read_csv(tmp_path / "committed" / "cells.csv").to_csv(committed, index=False)
    _part(tmp_path, "pirl", "contrastive", [0], 200.0)
    _part(tmp_path, "pirl-s2", "contrastive", [2], 300.0)
    cells = study.merge(tmp_path, committed)
    assert len(cells) == 12
    by_seed = cells.groupby("seed")["score"].min().to_dict()
    assert by_seed == {0.0: 200.0, 1.0: 100.0, 2.0: 300.0}
    assert len(study.merge(tmp_path)) == 8  # the parts alone


def test_merge_rebuilds_the_population_aggregate_from_the_readouts(tmp_path: Path) -> None:
    """AZ-NAS's four readouts in a part give `az-nas:population`, the log-rank sum over the
    merged cells (ranks by hand); a stale committed aggregate is replaced, not kept."""
    import math

    values = {"expressivity": [1, 2, 3, 4], "progressivity": [4, 3, 2, 1],
              "trainability": [1, 3, 2, 4], "complexity": [2, 1, 4, 3]}  # fmt: skip
    rows = [
        {"benchmark": "darts-cifar10", "proxy": f"az-nas:{k}", "budget": None, "seed": 0.0,
         "arch": a, "arch_key": a, "score": float(v[i]), "direction": "maximize",
         "truth": 97.0 - i, "status": "ok", "wall_s": 1.0, "labels_used": 0}
        for k, v in values.items() for i, a in enumerate("abcd")
    ]  # fmt: skip
    (tmp_path / "zc-az-nas").mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / "zc-az-nas" / "cells.csv", index=False)
    stale = pd.DataFrame(rows[:4]).assign(proxy="az-nas:population", score=9.0)
    stale.to_csv(tmp_path / "committed.csv.gz", index=False)
    cells = study.merge(tmp_path, tmp_path / "committed.csv.gz")
    got = cells[cells["proxy"] == "az-nas:population"].set_index("arch")["score"]
    by_hand = {a: sum(math.log(v[i] / 4) for v in values.values()) for i, a in enumerate("abcd")}
    assert len(got) == 4 and got.to_dict() == pytest.approx(by_hand)


def test_summary_signs_by_direction_and_ends_with_reference_rows(tmp_path: Path) -> None:
    _part(tmp_path, "pirl", "contrastive", [0, 1], 10.0)
    summary = study.summary_table(study.merge(tmp_path))
    first = summary.iloc[0]
    assert first["proxy"] == "contrastive" and first["spearman_rho"] == pytest.approx(1.0)
    assert first["labels"] == 0 and first["seeds"] == 2
    refs = summary[summary["proxy"].str.startswith("reference:")]
    assert list(refs["n"]) == [24, 32]
    table = study.readme_table(summary)
    assert "| contrastive | 0 | 4 | +1.00" in table and "noise ceiling" in table


def test_naslib_subset_is_seeded_and_in_file_order() -> None:
    if not NASLIB.exists():
        pytest.skip("../shared/data/darts not beside the checkout")
    a, b = study.naslib_cells(NASLIB, 100), study.naslib_cells(NASLIB, 100)
    assert list(a["naslib_idx"]) == list(b["naslib_idx"]) and len(a) == 100
    assert list(a.index) == sorted(a.index)
    assert len(study.naslib_cells(NASLIB, 0)) == 725


def test_naslib_nb301_network_is_ours_without_affine_bn_in_the_cell_ops() -> None:
    """NASLib's NB301 parameter counts (its graph at commit 6639fd1: C=32, 8 cells, cell ops
    with affine=False BatchNorm) equal the `darts` space's C=32, 8-cell network's count minus
    the affine BatchNorm parameters inside the cells' ops, exactly, on 20 cells."""
    if not NASLIB.exists():
        pytest.skip("../shared/data/darts not beside the checkout")
    import torch

    from harness.spaces import SPACES

    space = SPACES.get("darts")
    for row in study.naslib_cells(NASLIB, 20).itertuples():
        net = space.network(space.parse(row.genotype), 10, C=32, layers=8)
        total = sum(p.numel() for p in net.parameters())
        affine = sum(
            p.numel()
            for name, m in net.named_modules()
            if isinstance(m, torch.nn.BatchNorm2d) and ".ops." in name
            for p in m.parameters()
        )
        assert total - affine == round(row.naslib_params * 1e6)
