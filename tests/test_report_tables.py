"""summarize/compare/rank_methods on a hand-made frame with known answers; every renderer."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from harness import HarnessError
from harness.report import compare, rank_methods, render, report_tables, summarize
from harness.report.tables import SUMMARY_COLUMNS

OPTIMUM = {"b1": 94.0, "b2": 75.0}
# final best_truth per seed (repetition 0, 1, 2)
FINALS = {
    ("b1", "csnas"): [90.0, 91.0, 92.0],
    ("b1", "random"): [88.0, 88.0, 91.0],
    ("b2", "csnas"): [69.0, 71.0, 76.0],
    ("b2", "random"): [73.0, 73.0, 73.0],
}
ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"


def make_frame(finals: dict[tuple[str, str], list[float]] = FINALS) -> pd.DataFrame:
    """3 trials per run; the incumbent improves by 1 point per trial to the listed final."""
    rows = []
    for (bench, method), values in finals.items():
        for rep, final in enumerate(values):
            cum_sim = cum_wall = 0.0
            for n in range(3):
                best = final - (2 - n)
                sim = 10.0 if method == "csnas" else (2.0, 3.0, 5.0)[n]
                wall = 1.5 if method == "csnas" else 0.25
                cum_sim += sim
                cum_wall += wall
                rows.append(
                    {
                        "run_id": f"{bench}-{method}-{rep}",
                        "method": method,
                        "benchmark": bench,
                        "proxy": "contrastive" if method == "csnas" else "lookup-12",
                        "strategy": "tpe",
                        "repetition": rep,
                        "seed": 100 + rep,
                        "number": n,
                        "arch": ARCH,
                        "arch_key": "k",
                        "status": "ok",
                        "score": float(n),
                        "direction": "maximize",
                        "truth": best,
                        "best_score": float(n),
                        "best_arch": ARCH,
                        "best_truth": best,
                        "regret": OPTIMUM[bench] - best,
                        "optimum": OPTIMUM[bench],
                        "wall_s": wall,
                        "simulated_s": sim,
                        "cum_wall_s": cum_wall,
                        "cum_simulated_s": cum_sim,
                        "labels_used": 0 if method == "csnas" else (50, 100, 100)[n],
                        "cached": False,
                        "search_metric": f"{bench} x-valid accuracy (%)",
                        "report_metric": f"{bench} x-test accuracy after 200 epochs (%)",
                    }
                )
    # shuffled: the report must find each run's last trial by number, not by row order
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return summarize(make_frame())


def test_summary_exact_values(summary: pd.DataFrame) -> None:
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    s = summary.set_index(["benchmark", "method"])
    assert list(s.index) == [("b1", "csnas"), ("b1", "random"), ("b2", "csnas"), ("b2", "random")]
    assert s["n_seeds"].tolist() == [3, 3, 3, 3]
    assert s["test_acc_mean"].tolist() == pytest.approx([91.0, 89.0, 72.0, 73.0])
    # sample std (ddof 1): sqrt(2/2), sqrt((1+1+4)/2), sqrt((9+1+16)/2), 0
    assert s["test_acc_std"].tolist() == pytest.approx([1.0, math.sqrt(3), math.sqrt(13), 0.0])
    assert s["test_acc_median"].tolist() == pytest.approx([91.0, 88.0, 71.0, 73.0])
    # percentile bootstrap of 3 values: extremes each have mass 1/27 > 2.5%
    assert s["test_acc_ci_lo"].tolist() == pytest.approx([90.0, 88.0, 69.0, 73.0])
    assert s["test_acc_ci_hi"].tolist() == pytest.approx([92.0, 91.0, 76.0, 73.0])
    assert s["regret_mean"].tolist() == pytest.approx([3.0, 5.0, 3.0, 2.0])
    assert s["regret_std"].tolist() == pytest.approx([1.0, math.sqrt(3), math.sqrt(13), 0.0])
    # labels: a run's max over trials (0 / 100), not the sum 250
    assert s["labels_used_mean"].tolist() == pytest.approx([0.0, 100.0, 0.0, 100.0])
    assert s["evaluations_mean"].tolist() == pytest.approx([3.0] * 4)
    assert s["simulated_seconds_mean"].tolist() == pytest.approx([30.0, 10.0, 30.0, 10.0])
    assert s["wall_seconds_mean"].tolist() == pytest.approx([4.5, 0.75, 4.5, 0.75])
    assert s["best"].tolist() == [True, False, False, True]
    assert s["proxy"].tolist() == ["contrastive", "lookup-12"] * 2
    assert s.loc[("b2", "csnas"), "search_metric"] == "b2 x-valid accuracy (%)"
    assert s.loc[("b2", "csnas"), "report_metric"] == "b2 x-test accuracy after 200 epochs (%)"


def test_compare_exact_values() -> None:
    c = compare(make_frame())  # versus defaults to csnas
    assert c["versus"].tolist() == ["csnas", "csnas"]
    assert c["method"].tolist() == ["random", "random"]
    # b1: d = [2, 3, 1] -> t = 2 sqrt 3 on 2 df, p = 1 - 2 sqrt 3 / sqrt 14 (t(2)'s CDF);
    # b2: d = [-4, -2, 3] -> mean -1, sd sqrt 13, t = -sqrt(3 / 13)
    p1 = 1 - 2 * math.sqrt(3) / math.sqrt(14)
    t2 = -math.sqrt(3 / 13)
    p2 = 1 + t2 / math.sqrt(t2 * t2 + 2)
    assert c["mean_diff"].tolist() == pytest.approx([2.0, -1.0])
    assert c["median_diff"].tolist() == pytest.approx([2.0, -2.0])
    assert c["t"].tolist() == pytest.approx([2 * math.sqrt(3), t2])
    assert c["p"].tolist() == pytest.approx([p1, p2])
    assert c["p_holm"].tolist() == pytest.approx([2 * p1, p2])  # p1 * 2, max(p2 * 1, 2 p1)
    assert c["decision"].tolist() == ["no difference shown"] * 2
    assert c["seeds"].tolist() == ["better on 3 of 3", "better 1, worse 2 of 3"]
    assert c["n_pairs"].tolist() == [3, 3]
    back = compare(make_frame(), versus="random")
    assert back["median_diff"].tolist() == pytest.approx([-2.0, 2.0])
    assert back["seeds"].tolist() == ["worse on 3 of 3", "better 2, worse 1 of 3"]


def test_compare_significant_direction() -> None:
    eight = {
        ("b1", "csnas"): [90.0 + i for i in range(8)],
        ("b1", "random"): [90.0 - 0.1 * (i + 1) for i in range(8)],
        ("b1", "rea"): [95.0 + i for i in range(8)],
    }
    c = compare(make_frame(eight)).set_index("method")
    # csnas - rea is -5 on every seed: no spread, p = 0 (the t-test's limit)
    assert c.loc["rea", "p"] == 0.0 and c.loc["rea", "decision"] == "worse"
    # csnas - random = 1.1 i + 0.1 over i = 0..7: mean 3.95, sd 1.1 sqrt 6, t = mean sqrt 8 / sd
    t = 3.95 * math.sqrt(8) / (1.1 * math.sqrt(6))
    assert c.loc["random", "t"] == pytest.approx(t)
    # Holm: rea's p = 0 is the smallest (times 2 is still 0), random's is the last (times 1)
    assert c.loc["random", "p_holm"] == pytest.approx(c.loc["random", "p"])
    assert c.loc["random", "p_holm"] < 0.05
    assert c.loc["random", "decision"] == "better"


def test_compare_errors() -> None:
    with pytest.raises(HarnessError, match="nope"):
        compare(make_frame(), versus="nope")
    with pytest.raises(HarnessError, match="empty"):
        summarize(make_frame().iloc[0:0])


def test_ranks(summary: pd.DataFrame) -> None:
    r = rank_methods(summary)
    # csnas first on b1, random first on b2: both average 1.5; Friedman needs 3 methods
    assert r.table["average_rank"].tolist() == [1.5, 1.5]
    assert r.table["rank_b1"].tolist() == [1.0, 2.0]
    assert math.isnan(r.friedman.statistic)
    assert r.cd == pytest.approx(1.95996 * math.sqrt(2 * 3 / (6 * 2)), abs=1e-4)
    assert "Friedman" in r.caption() and "CD" in r.caption()


def test_render_csv_roundtrip(summary: pd.DataFrame) -> None:
    back = pd.read_csv(io.StringIO(render(summary, "csv")))
    assert list(back.columns) == list(SUMMARY_COLUMNS)
    assert back["test_acc_mean"].tolist() == pytest.approx([91.0, 89.0, 72.0, 73.0])


def test_render_latex(summary: pd.DataFrame) -> None:
    tex = render(summary, "latex")
    for rule in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}", "\\caption{"):
        assert rule in tex
    assert "\\textbf{91.00}" in tex and "\\textbf{73.00}" in tex
    assert tex.count("\\textbf{") == 2
    assert "test\\_acc\\_mean" in tex and "test_acc_mean" not in tex
    assert "b1 x-valid accuracy (\\%)" in tex  # both metrics named, % escaped
    assert "b1 x-test accuracy after 200 epochs (\\%)" in tex


def test_render_md_and_table(summary: pd.DataFrame) -> None:
    md = render(summary, "md")
    lines = md.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| benchmark"))
    assert lines[header + 1].startswith("|:---")
    assert "**91.00**" in md and "**73.00**" in md
    assert "b2 x-valid accuracy (%)" in md and "x-test accuracy after 200 epochs" in md
    assert all(line.count("|") == lines[header].count("|") for line in lines[header : header + 6])
    text = render(summary, "table")
    assert "b1: report metric b1 x-test accuracy after 200 epochs (%)" in text
    assert "91.00 ± 1.00*" in text and "73.00 ± 0.00*" in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100  # fits a terminal
    rows = [line for line in lines if line.startswith(("csnas ", "random "))]
    assert len(rows) == 4
    # aligned: every data row ends its proxy-score column where the header does
    head = next(line for line in lines if line.startswith("method"))
    col = head.index("proxy score") + len("proxy score")
    assert all(r[col - 1] != " " and r[col : col + 2] == "  " for r in rows)
    assert "higher is better" in text and "cached" in text and "* best" in text
    with pytest.raises(HarnessError, match="format"):
        render(summary, "html")


def test_report_tables_all_formats() -> None:
    frame = make_frame()
    for fmt in ("table", "md", "latex", "csv"):
        out = report_tables(frame, fmt)
        # a terminal's summary holds its context; the other formats give it its own table
        context = set() if fmt == "table" else {"context"}
        assert set(out) == {"summary", "compare", "ranks"} | context
        assert all(text.strip() for text in out.values())
    only = report_tables(frame, "csv", which=("summary",))["summary"]
    assert list(pd.read_csv(io.StringIO(only)).columns) == list(SUMMARY_COLUMNS)
    ranks = pd.read_csv(io.StringIO(report_tables(frame, "csv", which=("ranks",))["ranks"]))
    assert {"average_rank", "friedman_p", "nemenyi_cd"} <= set(ranks.columns)


def test_report_command(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main
    from harness.cli import report as cmds
    from harness.report.results import Results

    monkeypatch.setattr(cmds, "load_results", lambda storage, ids: Results(make_frame()))
    main(["report", "--format", "latex"])
    out = capsys.readouterr().out
    assert out.count("\\toprule") == 3 and "\\textbf{91.00}" in out
    main(["report", "--format", "csv", "--table", "summary", "--out", str(tmp_path / "s.csv")])
    written = pd.read_csv(tmp_path / "s.csv")
    assert list(written.columns) == list(SUMMARY_COLUMNS)
    with pytest.raises(SystemExit) as exc:
        main(["report", "--versus", "nope"])
    assert exc.value.code == 2
    assert "nope" in capsys.readouterr().err


def test_empty_store_is_a_harness_error(tmp_path) -> None:
    from harness.report.output import load_trials
    from harness.store import open_store

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url, create=True).close()
    with pytest.raises(HarnessError, match="no trials"):
        load_trials(url)
    with pytest.raises(HarnessError):
        load_trials(f"sqlite:///{tmp_path / 'missing.db'}")


def test_csv_report_first_block_is_the_summary() -> None:
    from harness.report import report_text

    out = report_text(make_frame(), "csv")
    first = pd.read_csv(io.StringIO(out.split("\n\n")[0]))
    assert list(first.columns) == list(SUMMARY_COLUMNS) and len(first) == 4
    assert "\n# compare\n" in out and "\n# ranks\n" in out
