"""Every figure renders from a tiny frame to non-empty PNG + PDF; the curve helpers are exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import synthetic_trials

from harness import HarnessError
from harness.report.figures import curves_by_cost, curves_by_evaluations, make_figures

FIGURES = (
    "anytime_evaluations",
    "anytime_simulated",
    "anytime_wall",
    "anytime_regret",
    "rank_vs_budget",
    "critical_difference",
    "labels_vs_accuracy",
    "found_cells",
    "proxy_vs_truth",
)


def tiny_cells() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for proxy, direction in (("contrastive", "minimize"), ("lookup-12", "maximize")):
        for budget in (10, 20):
            truth = rng.uniform(60, 94, 30)
            score = -truth if direction == "minimize" else truth
            rows += [
                {
                    "benchmark": "nb201-cifar10",
                    "proxy": proxy,
                    "budget": budget,
                    "arch": "a",
                    "arch_key": "k",
                    "score": s + rng.normal(),
                    "direction": direction,
                    "truth": t,
                }
                for s, t in zip(score, truth)
            ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    trials = synthetic_trials(
        methods=("csnas", "random", "rea"),
        benchmarks=("nb201-cifar10", "nb201-cifar100"),
        n_seeds=2,
        n_trials=4,
    )
    return make_figures(
        trials, tmp_path_factory.mktemp("figs"), correlate_cells=tiny_cells(), dpi=40
    )


def test_every_figure_written(rendered: list[Path]) -> None:
    names = {p.name for p in rendered}
    assert names == {f"{f}.{ext}" for f in FIGURES for ext in ("png", "pdf")}
    for p in rendered:
        head = p.read_bytes()[:8]
        assert p.stat().st_size > 1000
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else head.startswith(b"%PDF")


def _runs(values: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    rows = [
        {"run_id": r, "number": n, "cum_simulated_s": c, "best_truth": v}
        for r, pts in values.items()
        for n, (c, v) in enumerate(pts)
    ]
    return pd.DataFrame(rows)


def test_curves_by_evaluations_carry_forward() -> None:
    runs = _runs({"a": [(1, 80.0), (2, 85.0), (3, 90.0)], "b": [(1, 70.0), (2, np.nan)]})
    np.testing.assert_array_equal(curves_by_evaluations(runs), [[80, 85, 90], [70, 70, 70]])


def test_curves_by_cost_steps() -> None:
    runs = _runs({"a": [(10.0, 80.0), (20.0, 85.0)], "b": [(15.0, 70.0)]})
    grid = np.array([5.0, 10.0, 19.0, 20.0, 100.0])
    out = curves_by_cost(runs, "cum_simulated_s", grid)
    np.testing.assert_array_equal(out[0], [np.nan, 80, 80, 85, 85])
    np.testing.assert_array_equal(out[1], [np.nan, np.nan, 70, 70, 70])


def test_draw_cell_labels_every_real_edge() -> None:
    from matplotlib.figure import Figure

    from harness.spaces.nb201.draw import draw_cell

    ax = Figure().subplots()
    draw_cell(ax, "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(["conv3x3", "skip", "avgpool", "conv1x1", "in", "1", "2", "out"])
    assert len(ax.patches) == 6 + 4  # every edge (two dashed `none`) and every node


def test_figures_skip_what_is_missing() -> None:
    from harness.report import figures

    trials = synthetic_trials(
        methods=("csnas", "random"), benchmarks=("nb201-cifar10",), n_seeds=2, n_trials=3
    )
    colors = figures.method_colors(["csnas", "random"])
    # fewer than 3 methods: no CD diagram; no correlate CSV: no proxy scatter (not faked)
    assert "3+ methods" in figures._cd_diagram(trials, colors)
    assert "--correlate" in figures._proxy_vs_truth(None, {})
    with pytest.raises(HarnessError):
        figures.make_figures(trials.iloc[0:0], "unused")


def test_figures_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main
    from harness.cli import report as cmds
    from harness.report import figures

    trials = synthetic_trials(
        methods=("csnas", "random"), benchmarks=("nb201-cifar10",), n_seeds=2, n_trials=3
    )
    seen: dict[str, object] = {}

    def fake(frame: pd.DataFrame, out: str, **kw: object) -> list[Path]:
        seen.update(kw, frame=frame, out=out)
        return [Path(out) / "x.png"]

    from harness.report.results import Results

    monkeypatch.setattr(cmds, "load_results", lambda storage, ids=None: Results(trials))
    monkeypatch.setattr(figures, "make_figures", fake)
    with pytest.raises(SystemExit) as exc:
        main(["figures", "--out", str(tmp_path), "--correlate", str(tmp_path / "missing.csv")])
    assert exc.value.code == 2  # click's usage error: the correlate file does not exist
    tiny_cells().to_csv(tmp_path / "cells.csv", index=False)
    main(["figures", "--out", str(tmp_path), "--correlate", str(tmp_path / "cells.csv")])
    assert capsys.readouterr().out.split() == [str(tmp_path / "x.png")]
    assert seen["frame"] is trials and len(seen["correlate_cells"]) == len(tiny_cells())


def test_figures_render_from_a_tiny_real_store(tmp_path: Path) -> None:
    """End to end: a real lookup search into a store, then `harness figures` on it."""
    from harness.cli import main
    from harness.executors import execute_plan
    from harness.runner import make_plan

    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    plan = make_plan(["random", "rea", "tpe"], ["nb201-cifar10", "nb201-cifar100"], 2, trials=6)
    execute_plan(plan, url, progress=False)
    out = tmp_path / "figs"
    main(["figures", "--storage", url, "--out", str(out)])
    for name in FIGURES:
        if name == "proxy_vs_truth":  # needs a correlate CSV, which this store has none of
            continue
        for ext in ("png", "pdf"):
            assert (out / f"{name}.{ext}").stat().st_size > 1000, name


def test_contrastive_explained_figure_needs_the_readouts(tmp_path) -> None:
    import numpy as np
    import pandas as pd

    from harness.report import figures

    rng = np.random.default_rng(0)
    keys = [f"cell{i}" for i in range(30)]
    init = rng.uniform(5, 7, 30)
    rows = []
    for k, v in zip(keys, init):
        for proxy, score in (
            ("contrastive", v - 0.4),
            ("contrastive:init-loss", v),
            ("contrastive:init-cosine", v / 7),
        ):
            rows.append(
                {"proxy": proxy, "arch_key": k, "score": score, "truth": 80 + v, "budget": 3}
            )
    cells = pd.DataFrame(rows)
    fig = figures._contrastive_explained(cells)
    assert fig is not None
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert any("ρ = 1.00" in t for t in titles)  # final loss is init loss - 0.4 exactly
    assert "ρ = -1.00" in fig._suptitle.get_text()  # higher loss, better cell: inverse
    declined = figures._contrastive_explained(cells[cells["proxy"] == "contrastive"])
    assert isinstance(declined, str) and "init-loss" in declined
