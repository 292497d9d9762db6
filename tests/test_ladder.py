"""`harness study ladder`: the plans, the commands, and the whole path (correlate parts through
a store, merge, summary, crossings, figures) at tiny sizes on the CPU."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.studies import ladder
from tests.cli_helpers import harness

PAPER_IMAGE_EPOCHS = 500 * 10  # the `paper` profile: 500 images x 10 epochs


def test_plans_span_the_issue_budgets() -> None:
    cpu, gpu = ladder.PLANS["cpu"], ladder.PLANS["gpu"]
    for plan in (cpu, gpu):
        budgets = [i * e for i, e in plan.rungs]
        assert budgets == sorted(budgets) and plan.rungs[0] == (256, 3)  # from `quick`
        assert max(budgets) >= 10 * PAPER_IMAGE_EPOCHS
        assert plan.seeds >= 2
        s = plan.settings
        assert s["lr"] == pytest.approx(0.1 * s["batch_size"] / 256)
    assert (25000, 12) in gpu.rungs and gpu.cells == 200 and gpu.seeds == 3
    assert gpu.settings["device"] == "cuda" and cpu.settings["device"] == "cpu"


def test_commands_run_cheap_rungs_first_and_resume_from_one_store() -> None:
    plan = ladder.PLANS["cpu"]
    lines = ladder.commands(plan, "/data/c10.npz", "sqlite:///cache.db", "out")
    assert len(lines) == 1 + len(plan.rungs) * len(ladder.PROXIES)
    argvs = [shlex.split(line) for line in lines]
    assert argvs[0][argvs[0].index("--proxy") + 1] == ladder.ZERO_COST
    budgets = []
    for argv in argvs[1:]:
        sets = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--set")
        budgets.append(int(sets["train_images"]) * int(sets["epochs"]))
        assert sets["data"] == "/data/c10.npz" and sets["weight_decay"] == "0.0005"
        assert argv[argv.index("--storage") + 1] == "sqlite:///cache.db"
        assert argv[argv.index("--sample") + 1] == str(plan.cells)
    assert budgets == sorted(budgets)


def _run_parts(
    capsys: Any, tmp_path: Path, proxies: tuple[str, ...], only: str | None = None
) -> Path:
    plan = ladder.PLANS["smoke"]
    root = tmp_path / "parts"
    store = f"sqlite:///{tmp_path / 'cache.db'}"
    for name, args in ladder.part_args(plan, "sample", proxies).items():
        if only is None or name == only:
            code, _, err = harness(capsys, "correlate", *args, "--storage", store, "--out",
                                   str(root / name))  # fmt: skip
            assert code == 0, err
    return root


def test_smoke_ladder_end_to_end(capsys: Any, tmp_path: Path) -> None:
    proxies = ("supervised", "contrastive/simclr")
    root = _run_parts(capsys, tmp_path, proxies)
    out = tmp_path / "out"
    ladder.write(root, out, "smoke", resamples=100)
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values=[""])
    trained = summary[summary["rung"].ne(ladder.NO_RUNG)]
    assert set(trained["rung"]) == {"32x1", "64x2"}
    assert set(trained["image_epochs"]) == {32.0, 128.0}
    scores = trained[trained["readout"] == "score"]
    assert sorted(scores["proxy"]) == sorted([*proxies] * 2)
    assert (scores["n"] == 5).all() and (scores["seeds"] == 2).all()
    assert (scores["seconds_per_cell"] > 0).all()
    labels = scores.set_index("proxy")["labels_used"]
    assert (labels["supervised"] > 0).all() and (labels["contrastive/simclr"] == 0).all()
    # the readouts a proxy declares become rows of their own, at every rung
    simclr = trained[trained["proxy"] == "contrastive/simclr"]
    assert {"score", "loss-drop", "init-cosine"} <= set(simclr["readout"])
    # the references have no rung: NB201's own 12-epoch training and MeCo on the same cells
    refs = summary[summary["rung"].eq(ladder.NO_RUNG)]
    assert {"lookup-12", "meco"} <= set(refs["proxy"])
    assert (refs[refs["proxy"] == "meco"]["n"] == 5).all()
    cross = pd.read_csv(out / "crossings.csv")
    assert sorted(cross["proxy"]) == sorted(proxies)
    for name in ("ladder", "readouts"):
        assert (out / f"{name}.png").stat().st_size > 0 and (out / f"{name}.svg").exists()
    # a later session's write keeps the committed rows of parts it did not rerun
    merged = pd.read_csv(out / "cells.csv.gz")
    (root / "supervised@32x1" / "cells.csv").unlink()
    ladder.write(root, out, "smoke", resamples=100)
    again = pd.read_csv(out / "cells.csv.gz")
    key = ["rung", "proxy", "seed", "arch_key"]
    pd.testing.assert_frame_equal(
        merged.sort_values(key, ignore_index=True), again.sort_values(key, ignore_index=True)
    )
    # a part run again reads its evaluations from the store: the same scores and seconds
    part = root / "contrastive-simclr@64x2" / "cells.csv"
    before = pd.read_csv(part)
    _run_parts(capsys, tmp_path, proxies, only=part.parent.name)
    pd.testing.assert_frame_equal(before, pd.read_csv(part))


def test_crossings_read_the_first_rung_above_zero_and_at_half() -> None:
    rows = [
        ("p", "score", "a", 10.0, -0.2, -0.5, 0.1),
        ("p", "score", "b", 100.0, 0.3, 0.1, 0.5),
        ("p", "score", "c", 1000.0, 0.6, 0.4, 0.8),
        ("q", "score", "a", 10.0, 0.1, -0.1, 0.3),
    ]
    summary = pd.DataFrame(
        rows,
        columns=["proxy", "readout", "rung", "image_epochs", "spearman_rho", "rho_lo", "rho_hi"],
    )
    cross = ladder.crossings(summary).set_index("proxy")
    assert cross.loc["p", "above_zero_at"] == 100.0 and cross.loc["p", "rho_0.5_at"] == 1000.0
    assert pd.isna(cross.loc["q", "above_zero_at"]) and pd.isna(cross.loc["q", "rho_0.5_at"])


def test_one_line_mistakes(capsys: Any, tmp_path: Path) -> None:
    code, _, err = harness(capsys, "study", "ladder", "cost")
    assert code == 2 and err.count("\n") == 1 and "--data" in err
    code, _, err = harness(capsys, "study", "ladder", "run", "--plan", "huge", "--data", "x")
    assert code == 2 and "huge" in err
    code, _, err = harness(
        capsys, "study", "ladder", "write", "--checkout", str(tmp_path), "--root", str(tmp_path)
    )
    assert code == 2 and err.count("\n") == 1


@pytest.mark.slow
def test_smoke_ladder_runs_every_trained_proxy(capsys: Any, tmp_path: Path) -> None:
    root = _run_parts(capsys, tmp_path, ladder.PROXIES)
    ladder.write(root, tmp_path / "out", "smoke", resamples=100)
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", keep_default_na=False)
    scored = summary[summary["rung"].ne(ladder.NO_RUNG) & summary["readout"].eq("score")]
    assert set(scored["proxy"]) == set(ladder.PROXIES)
    rankme = summary[summary["readout"].eq("rankme")]
    assert set(rankme["proxy"]) == set(ladder.PROXIES)  # every trained proxy reads it out


def test_the_figure_draws_an_estimate_outside_its_bootstrap_interval(tmp_path: Path) -> None:
    from harness.studies.ladder_figure import draw

    columns = ["proxy", "readout", "rung", "image_epochs", "spearman_rho", "rho_lo", "rho_hi",
               "seconds_per_cell"]  # fmt: skip
    rows = [
        ("p", "score", "32x1", 32.0, 0.9, 0.95, 1.0, 0.1),  # few cells: rho below its interval
        ("p", "score", "64x2", 128.0, 0.2, -0.1, 0.5, 0.2),
        ("lookup-12", "score", ladder.NO_RUNG, float("nan"), 0.8, 0.7, 0.9, float("nan")),
    ]
    paths = draw(pd.DataFrame(rows, columns=columns), tmp_path)
    assert {p.name for p in paths} == {"ladder.png", "ladder.svg", "readouts.png", "readouts.svg"}
