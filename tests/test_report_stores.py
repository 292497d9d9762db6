"""Reports on real and mixed stores: evaluations reachable and labelled, one identity per
seed slot, every table and figure either drawn with sane axes or declined in one line."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from cli_helpers import harness as cli
from synthetic import synthetic_trials

import harness
from harness import api
from harness.assets import NB201_TABLE
from harness.report.figures import _style, draw_figures
from harness.report.results import Results
from harness.report.sections import report_sections

SMOKE = ["--profile", "smoke", "--threads", "1", "--quiet"]


# -- cell evaluations are results ------------------------------------------------------------
@pytest.fixture(scope="module")
def darts_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A csnas smoke search on darts-cifar10, its returned cell trained at smoke scale, and a
    given architecture trained too (about 10 s)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('darts') / 'd.db'}"
    from harness.cli import main

    main(["run", "--method", "csnas", "--benchmark", "darts-cifar10", "--seeds", "1",
          "--trials", "2", "--profile", "smoke", "--storage", url, "--quiet"])  # fmt: skip
    main(["evaluate", "--method", "csnas", "--benchmark", "darts-cifar10", "--storage", url,
          *SMOKE])  # fmt: skip
    main(["evaluate", "--arch", "DARTS_V2", "--benchmark", "darts-cifar10", "--storage", url,
          *SMOKE])  # fmt: skip
    return url


def test_a_store_of_evaluations_only_reports_them(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    code, _, err = cli(capsys, "evaluate", "--arch", "DARTS_V2", "--benchmark",
                       "darts-cifar10", "--storage", url, *SMOKE)  # fmt: skip
    assert code == 0, err
    code, out, err = cli(capsys, "report", "--storage", url)
    assert code == 0, err
    assert "Cells trained from scratch" not in out  # the terminal shows the table, not titles
    assert "darts-cifar10" in out and "smoke: 1 epoch" in out and "cpu" in out
    assert "no search runs in this store" in out
    code, out, err = cli(capsys, "report", "--storage", url, "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert len(table) == 1
    assert {"benchmark", "arch", "protocol", "profile", "scale", "test_acc", "params", "wall_s",
            "device", "epochs"} <= set(table.columns)  # fmt: skip
    assert table.loc[0, "profile"] == "smoke" and table.loc[0, "epochs"] == 1
    assert table.loc[0, "scale"].startswith("smoke: 1 epoch, C=4")
    assert api.report(url, "csv") == out  # the API gives the CLI's tables
    code, out, err = cli(capsys, "figures", "--storage", url, "--out", str(tmp_path / "f"))
    assert code == 0, err
    assert out.split() == [str(tmp_path / "f" / f"evaluation_curves.{e}") for e in ("png", "pdf")]
    assert "skipped proxy_vs_truth: " in err  # what was not drawn, and why


@pytest.mark.slow  # a real csnas search and training: ~10-20 s
def test_smoke_results_are_labelled_and_never_best(darts_store: str) -> None:
    summary = harness.summary(darts_store)
    (row,) = summary.itertuples()
    assert row.report_source == "trained (darts)" and row.scale.startswith("smoke")
    assert "reduced scale (smoke" in row.report_metric and "600 epochs" not in row.report_metric
    assert not row.best
    text = api.report(darts_store)
    (row_line,) = [line for line in text.splitlines() if line.startswith("csnas ")]
    assert "†" in row_line  # reduced scale, marked
    assert "*" not in row_line and "no * (best) mark" in text
    assert "lower is better" in text  # the contrastive proxy's direction is named
    assert "proxies run at: csnas smoke profile" in text  # the search's proxy scale too
    assert max(len(line) for line in text.split("\n\n")[0].splitlines()) <= 100
    md = api.report(darts_store, "md")
    assert "**" not in md  # nothing bold: one method, smoke scale


@pytest.mark.slow  # a real csnas search and training: ~10-20 s
def test_every_table_reaches_the_api_and_the_cli_alike(darts_store: str, capsys) -> None:
    for fmt in ("table", "md", "csv", "latex"):
        code, out, err = cli(capsys, "report", "--storage", darts_store, "--format", fmt)
        assert code == 0, err
        assert out == api.report(darts_store, fmt)
    text = api.report(darts_store, "md")
    assert "returned_arch" in text  # the returned table: the API used to drop it
    assert "DARTS_V2" not in text and "sep_conv_3x3" in text  # --arch evaluation listed
    assert text.count("smoke: 1 epoch") >= 3  # summary, returned and evaluations rows


@pytest.mark.slow  # a real csnas search and training: ~10-20 s
def test_export_reaches_evaluations_and_curves(darts_store: str) -> None:
    from harness.cli.report import export_text

    evals = pd.read_csv(io.StringIO(export_text(darts_store, "csv", "evaluations")))
    assert len(evals) == 2 and set(evals["profile"]) == {"smoke"}
    assert evals["run_id"].notna().sum() == 1  # one returned cell, one --arch
    curves = pd.read_csv(io.StringIO(export_text(darts_store, "csv", "curves")))
    assert len(curves) == 2 and {"eval_id", "epoch", "train_loss", "test_acc"} <= set(curves)
    records = pd.read_json(io.StringIO(export_text(darts_store, "json", "evaluations")))
    assert all(len(c) == 1 for c in records["curve"])
    assert all(m["profile"] == "smoke" for m in records["manifest"])
    trials = pd.read_csv(io.StringIO(export_text(darts_store, "csv", "trials")))
    assert trials["evaluated_scale"].str.startswith("smoke").all()


def test_reduced_scale_evaluations_are_labelled_and_never_best_beside_full_ones() -> None:
    """Two methods on an open space: one's cells trained in full, the other's at smoke
    scale: the smoke row is labelled, named in its report metric, and not starred."""
    from harness.report.results import attach_evaluations, evaluations_frame
    from harness.report.tables import summarize

    trials = synthetic_trials(methods=("csnas", "random"), benchmarks=("b",), n_trials=3)
    trials = trials.assign(best_truth=np.nan, truth=np.nan, regret=np.nan)
    final = trials.sort_values("number").groupby("run_id").tail(1)
    rows = []
    for i, r in enumerate(final.itertuples()):
        smoke = r.method == "random"
        settings = {"profile": "smoke" if smoke else "paper", "epochs": 1 if smoke else 600}
        settings |= {"C": 4, "layers": 3} if smoke else {"C": 36, "layers": 20}
        rows.append(dict(eval_id=f"e{i}", run_id=r.run_id, benchmark="darts-cifar10",
                         arch=r.best_arch, protocol="darts", settings=settings, status="done",
                         test_acc=99.0 if smoke else 90.0 + i, params=1, wall_s=1.0,
                         device="cpu", curve=[], created=float(i)))  # fmt: skip
    evals = evaluations_frame(rows)
    assert set(evals["scale"]) == {"full", "smoke: 1 epoch, C=4, layers=3"}
    t = attach_evaluations(trials, evals, [])
    s = summarize(t).set_index("method")
    assert s.loc["csnas", "scale"] == "full" and s.loc["random", "scale"].startswith("smoke")
    assert "reduced scale (smoke: 1 epoch" in s.loc["random", "report_metric"]
    assert s.loc["random", "test_acc_mean"] == 99.0  # the higher number, yet:
    assert not s.loc["random", "best"] and not s.loc["csnas", "best"]  # no full-scale rival
    text = render_summary_text(t)
    assert "99.00 ± 0.00†" in text and "*" not in text.split("test acc:")[0]


def test_a_cell_trained_beside_a_table_value_keeps_its_scale() -> None:
    from harness.report.results import attach_evaluations, evaluations_frame
    from harness.report.tables import summarize

    trials = synthetic_trials(methods=("rea",), benchmarks=("nb201-cifar10",), n_seeds=1)
    run, arch = trials["run_id"].iloc[0], trials["best_arch"].iloc[-1]
    row = dict(eval_id="e", run_id=run, benchmark="nb201-cifar10", arch=arch,
               protocol="nb201", settings={"profile": "smoke", "epochs": 1}, status="done",
               test_acc=14.0, params=1, wall_s=1.0, device="cpu", curve=[], created=0.0)  # fmt: skip
    s = summarize(attach_evaluations(trials, evaluations_frame([row]), [])).iloc[0]
    assert s["scale"] == "full" and s["report_source"] == "table"  # the table's number
    assert s["trained_acc_mean"] == 14.0 and s["trained_scale"].startswith("smoke: 1 epoch")


def render_summary_text(trials: pd.DataFrame) -> str:
    from harness.report.render import render
    from harness.report.tables import summarize

    return render(summarize(trials), "table")


# -- one identity per seed slot ---------------------------------------------------------------
def _shifted_table(dst) -> None:
    with np.load(NB201_TABLE, allow_pickle=False) as npz:
        cols = {k: npz[k] for k in npz.files}
    cols["c10_test_acc_200"] = cols["c10_test_acc_200"] + 0.5
    np.savez(dst, **cols)


def test_runs_of_two_identities_are_never_pooled(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    table = tmp_path / "shifted.npz"
    _shifted_table(table)
    base = ["run", "--method", "random", "--seeds", "2", "--trials", "5", "--storage", url,
            "--quiet"]  # fmt: skip
    assert cli(capsys, *base)[0] == 0
    first = set(harness.trials(url)["run_id"])
    assert cli(capsys, *base, "--table", str(table))[0] == 0
    code, out, err = cli(capsys, "report", "--storage", url, "--format", "md")
    assert code == 0, err
    notes = [line for line in out.splitlines() if line.startswith("> note:")]
    assert len(notes) == 1 and "different identities" in notes[0] and "newest" in notes[0]
    summary = pd.read_csv(io.StringIO(api.report(url, "csv", table="summary")))
    assert summary["n_seeds"].tolist() == [2]  # not 4
    newest = harness.trials(url)
    shifted = newest[~newest["run_id"].isin(first)]
    final = shifted.sort_values("number").groupby("run_id")["best_truth"].last()
    assert summary["test_acc_mean"].iloc[0] == pytest.approx(final.mean())
    with pytest.warns(UserWarning, match="different identities"):
        assert harness.summary(url)["n_seeds"].tolist() == [2]
    code, _, err = cli(capsys, "figures", "--storage", url, "--out", str(tmp_path / "f"))
    assert code == 0 and "note: 1 (method, benchmark, seed) slot(s)" not in err  # 2 slots
    assert "note: 2 (method, benchmark, seed) slot(s) hold runs of different identities" in err
    # an explicit selection wins over "newest"
    code, out, err = cli(capsys, "report", "--storage", url, "--format", "csv",
                         "--table", "summary", "--run-ids", ",".join(sorted(first)))  # fmt: skip
    assert code == 0, err
    chosen = pd.read_csv(io.StringIO(out))
    assert chosen["n_seeds"].tolist() == [2]
    assert chosen["test_acc_mean"].iloc[0] == pytest.approx(final.mean() - 0.5, abs=1e-6)
    code, _, err = cli(capsys, "report", "--storage", url, "--run-ids", "nope")
    assert code == 2 and err.count("\n") == 1


# -- mixed stores: every table and every figure -------------------------------------------------
def _mixed_stores() -> dict[str, pd.DataFrame]:
    many = synthetic_trials(
        methods=("csnas", "random", "rea"), n_seeds=3, n_trials=12,
        benchmarks=("nb201-cifar10", "nb201-cifar100"),
    )  # fmt: skip
    # the README's order: csnas on CIFAR-10 only, three lookup methods on CIFAR-100 only
    split = pd.concat(
        [
            synthetic_trials(methods=("csnas",), benchmarks=("nb201-cifar10",), n_seeds=3,
                             n_trials=10),
            synthetic_trials(methods=("random", "rea", "tpe"), benchmarks=("nb201-cifar100",),
                             n_seeds=3, n_trials=10, seed=1),
        ]
    )  # fmt: skip
    one_method = synthetic_trials(methods=("csnas",), benchmarks=("nb201-cifar10",), n_trials=8)
    one_seed = synthetic_trials(methods=("random", "rea"), n_seeds=1, n_trials=8)
    return {"many": many, "split": split, "one_method": one_method, "one_seed": one_seed}


MIXED = _mixed_stores()


def _data_artists(ax) -> int:
    return len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.images)


def _check_axes(name: str, fig) -> None:
    fig.canvas.draw()  # layout and ticks as they will be saved
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert shown or name == "found_cells", f"{name}: no visible axes"
    for ax in shown:
        if ax.get_label() == "<colorbar>":
            continue
        assert _data_artists(ax) > 0, f"{name}: empty axes {ax.get_title()!r}"
        for lim in (ax.get_xlim(), ax.get_ylim()):
            assert all(math.isfinite(v) for v in lim) and lim[0] != lim[1], (name, lim)
        ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert len(ticks) == len(set(ticks)), f"{name}: repeated x tick labels {ticks}"
        for line in ax.lines:  # no point outside the axes
            xy = np.asarray(line.get_xydata(), dtype=float)
            xy = xy[np.isfinite(xy).all(axis=1)]
            if len(xy):
                (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
                assert (xy[:, 0] >= x0).all() and (xy[:, 0] <= x1).all(), (name, "x clip")
                assert (xy[:, 1] >= y0).all() and (xy[:, 1] <= y1).all(), (name, "y clip")


@pytest.mark.parametrize("kind", sorted(MIXED))
def test_every_figure_is_drawn_sanely_or_declined_in_one_line(kind: str) -> None:
    with _style():
        drawn = list(draw_figures(MIXED[kind]))
    names = [d.name for d in drawn]
    assert "anytime_evaluations" in names and "found_cells" in names
    for d in drawn:
        if d.figure is None:
            assert d.reason and "\n" not in d.reason, d.name
        else:
            _check_axes(d.name, d.figure)
    declined = {d.name: d.reason for d in drawn if d.figure is None}
    if kind == "split":  # no common benchmark: ranks cannot be had, and say so
        assert "common benchmark" in declined["rank_vs_budget"]
        assert "critical_difference" in declined
    if kind in ("one_method",):
        assert "2+ methods" in declined["rank_vs_budget"]
    assert "anytime_evaluations" not in declined


@pytest.mark.parametrize("kind", sorted(MIXED))
def test_every_table_shows_data_or_says_why_not(kind: str) -> None:
    report = report_sections(Results(MIXED[kind]), "md")
    for s in report.sections:
        if s.frame is None:
            assert s.reason and "\n" not in s.reason
        else:
            assert len(s.frame) > 0, (kind, s.name)
    by = {s.name: s for s in report.sections}
    if kind == "split":
        assert by["ranks"].frame is None and "common benchmark" in str(by["ranks"].reason)
        assert by["compare"].frame is None and "csnas" in str(by["compare"].reason)
    if kind == "one_method":
        assert by["compare"].frame is None and by["ranks"].frame is None
        assert not by["summary"].frame["best"].any()  # no '*' with nothing to beat
    if kind == "many":
        assert by["ranks"].frame is not None and by["compare"].frame is not None


def test_found_cells_names_every_benchmark_row() -> None:
    with _style():
        (fig,) = [d.figure for d in draw_figures(MIXED["split"]) if d.name == "found_cells"]
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"nb201-cifar10", "nb201-cifar100"} <= texts


def test_labels_axis_keeps_zero_label_points_inside_with_plain_ticks() -> None:
    with _style():
        (fig,) = [
            d.figure for d in draw_figures(MIXED["one_method"]) if d.name == "labels_vs_accuracy"
        ]
    fig.canvas.draw()
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    assert x0 < 0 < x1
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels and all("^" not in t and "-" not in t for t in labels), labels
