"""Every report statistic against a small case whose answer is worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.report import stats


def test_bootstrap_ci_two_points_spans_both() -> None:
    # resampled means of [0, 1] are 0, 0.5, 1 with probability 1/4, 1/2, 1/4: the 2.5th and
    # 97.5th percentiles are the extremes
    assert stats.bootstrap_ci([0.0, 1.0], seed=1) == (0.0, 1.0)


def test_bootstrap_ci_three_points() -> None:
    # P(mean == 90) = P(mean == 92) = 1/27 > 2.5%, so the percentile CI is (90, 92)
    assert stats.bootstrap_ci([90.0, 91.0, 92.0], seed=0) == (90.0, 92.0)
    # P(mean == 88) = 8/27, P(mean == 91) = 1/27: (88, 91)
    assert stats.bootstrap_ci([88.0, 88.0, 91.0], seed=0) == (88.0, 91.0)


def test_bootstrap_ci_degenerate_and_seeded() -> None:
    assert stats.bootstrap_ci([73.0, 73.0, 73.0]) == (73.0, 73.0)
    assert stats.bootstrap_ci([5.0]) == (5.0, 5.0)
    assert all(math.isnan(v) for v in stats.bootstrap_ci([]))
    assert stats.bootstrap_ci([1.0, 2.0, float("nan")]) == stats.bootstrap_ci([1.0, 2.0])
    x = np.arange(20.0)
    assert stats.bootstrap_ci(x, seed=3) == stats.bootstrap_ci(x, seed=3)
    lo, hi = stats.bootstrap_ci(x, seed=3)
    assert lo < 9.5 < hi


def test_bootstrap_band() -> None:
    mean, lo, hi = stats.bootstrap_band(np.array([[0.0, 2.0], [1.0, 2.0]]), seed=0)
    np.testing.assert_allclose(mean, [0.5, 2.0])
    np.testing.assert_allclose(lo, [0.0, 2.0])
    np.testing.assert_allclose(hi, [1.0, 2.0])
    mean, lo, hi = stats.bootstrap_band(np.array([[3.0, 4.0]]))
    np.testing.assert_allclose([mean, lo, hi], [[3, 4]] * 3)


def test_paired_t_three_pairs_by_hand() -> None:
    # d = [2, 3, 1]: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 2 sqrt 3 on 2 df; the t(2) CDF is
    # 1/2 + t / (2 sqrt(t^2 + 2)), so p = 1 - 2 sqrt 3 / sqrt 14 = 0.07418
    t = stats.paired_t([92, 91, 90, float("nan")], [90, 88, 89, 1])
    assert (t.n_pairs, t.n_better, t.n_worse) == (3, 3, 0)
    assert (t.mean_diff, t.median_diff) == (2.0, 2.0)
    assert t.statistic == pytest.approx(2 * math.sqrt(3))
    assert t.p == pytest.approx(1 - 2 * math.sqrt(3) / math.sqrt(14))
    # bootstrap means of [2, 3, 1]: P(1) = P(3) = 1/27 > 2.5%, so the CI is (1, 3)
    assert (t.ci_lo, t.ci_hi) == (1.0, 3.0)
    assert t.seeds() == "better on 3 of 3" and t.testable
    with pytest.raises(ValueError):
        stats.paired_t([1, 2], [1])


def test_paired_t_five_pairs_by_hand() -> None:
    # d = [-2, -4, -3, 0, 0]: mean -1.8, sd sqrt(12.8 / 4), t = -1.8 / 0.8 = -2.25 on 4 df;
    # the t(4) CDF is 1/2 + 3/8 u (1 - t^2 / (12 (1 + t^2/4))), u = t / sqrt(1 + t^2/4)
    t = stats.paired_t([88, 86, 87, 90, 90], [90, 90, 90, 90, 90])
    assert t.statistic == pytest.approx(-2.25)
    x = 2.25
    u = x / math.sqrt(1 + x * x / 4)
    cdf = 0.5 + 3 / 8 * u * (1 - x * x / (12 * (1 + x * x / 4)))
    assert t.p == pytest.approx(2 * (1 - cdf))  # 0.0876
    assert t.seeds() == "worse 3, equal 2 of 5" and t.median_diff == -2.0


def test_paired_t_decides_at_five_pairs_where_exact_tests_cannot() -> None:
    """Why the t-test: a method worse on 5 of 5 seeds by ~24 points. Every exact sign-flip or
    rank test on 5 pairs has 2**5 = 32 equally likely sign patterns, the two most extreme give
    p = 2/32 = 0.0625 however wide the margin; the t-test's p falls with the evidence."""
    from scipy import stats as sst

    a = [70.0, 60.0, 75.0, 80.0, 65.0]
    b = [94.0, 93.9, 94.1, 93.8, 94.0]
    assert sst.wilcoxon(np.subtract(a, b)).pvalue == pytest.approx(0.0625)
    t = stats.paired_t(a, b)
    assert t.p < 0.005 and t.seeds() == "worse on 5 of 5"
    assert t.ci_hi < 0 and t.mean_diff == pytest.approx(-23.96)
    assert stats.paired_label(t, t.p) == "worse"
    assert stats.paired_label(stats.paired_t(b, a), t.p) == "better"


def test_paired_t_degenerate() -> None:
    same = stats.paired_t([90.0, 91.0, 92.0], [90.0, 91.0, 92.0])
    assert (same.statistic, same.p, same.mean_diff, same.median_diff) == (0.0, 1.0, 0.0, 0.0)
    assert same.seeds() == "equal on 3 of 3"
    assert stats.paired_label(same, same.p) == "no difference shown"
    # the same non-zero difference on every seed: no spread, the limit t = -inf, p = 0
    const = stats.paired_t([90.0, 91.0, 92.0], [91.0, 92.0, 93.0])
    assert (const.statistic, const.p, const.ci_lo, const.ci_hi) == (-math.inf, 0.0, -1, -1)
    one = stats.paired_t([80.0], [90.0])  # no spread to test against: no test at all
    assert one.n_pairs == 1 and not one.testable and math.isnan(one.p)
    assert stats.paired_label(one, math.nan) == "inconclusive: n too small"
    empty = stats.paired_t([float("nan")], [1.0])
    assert empty.n_pairs == 0 and math.isnan(empty.p) and math.isnan(empty.mean_diff)
    assert empty.seeds() == "no paired seeds"
    assert stats.paired_label(empty, math.nan) == "inconclusive: n too small"
    assert stats.T_MIN_PAIRS == 2


def test_paired_t_float_noise_is_no_spread_and_no_win() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no precision warning reaches the user
        same_margin = stats.paired_t([93.5, 93.6, 93.7], [70.1, 70.2, 70.3])
        noise = stats.paired_t([0.1 + 0.2, 0.3, 0.7], [0.3, 0.1 + 0.2, 0.7])
        tiny = stats.paired_t([23.4, 23.4 + 1e-7, 23.4 + 2e-7], [0.0, 0.0, 0.0])
    assert same_margin.seeds() == "better on 3 of 3"
    assert (same_margin.statistic, same_margin.p) == (math.inf, 0.0)
    assert noise.seeds() == "equal on 3 of 3" and (noise.statistic, noise.p) == (0.0, 1.0)
    assert tiny.p < 1e-9  # a real but tiny spread: the test runs, silently


def test_paired_t_bootstrap_is_seeded() -> None:
    a, b = [1.0, 5.0, 2.0, 8.0, 3.0], [0.0, 1.0, 1.0, 2.0, 4.0]
    assert stats.paired_t(a, b, seed=4) == stats.paired_t(a, b, seed=4)
    assert (stats.paired_t(a, b).ci_lo, stats.paired_t(a, b).ci_hi) == stats.bootstrap_ci(
        np.subtract(a, b), seed=0, n_resamples=9999
    )


def test_holm() -> None:
    # sorted 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    out = stats.holm([0.02, float("nan"), 0.04])
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.04, 0.04])
    # 0.6*2 caps at 1; step-down keeps adjusted p monotone, so 0.9 becomes 1 too
    np.testing.assert_allclose(stats.holm([0.6, 0.9]), [1.0, 1.0])


def test_average_ranks() -> None:
    scores = pd.DataFrame(
        [[3, 2, 1], [3, 1, 2], [1, 2, 3], [np.nan, 1, 1]], columns=["a", "b", "c"]
    )
    # per-row ranks (1 = highest): [1,2,3], [1,3,2], [3,2,1]; the NaN row is dropped
    np.testing.assert_allclose(stats.average_ranks(scores), [5 / 3, 7 / 3, 2.0])
    tied = pd.DataFrame([[2, 2, 1]], columns=["a", "b", "c"])
    np.testing.assert_allclose(stats.average_ranks(tied), [1.5, 1.5, 3.0])


def test_friedman() -> None:
    # 3 blocks, 3 methods, same order every time: rank sums 3, 6, 9;
    # chi2 = 12/(3*3*4) * (9+36+81) - 3*3*4 = 6, p = exp(-6/2) for 2 df
    scores = pd.DataFrame([[3, 2, 1], [30, 20, 10], [0.3, 0.2, 0.1]], columns=list("abc"))
    f = stats.friedman(scores)
    assert f.statistic == pytest.approx(6.0)
    assert f.p == pytest.approx(math.exp(-3))
    assert (f.n_blocks, f.n_methods) == (3, 3)
    two = stats.friedman(scores[["a", "b"]])
    assert math.isnan(two.statistic) and math.isnan(two.p)
    tied = stats.friedman(pd.DataFrame([[1, 1, 1], [2, 2, 2]], columns=list("abc")))
    assert (tied.statistic, tied.p) == (0.0, 1.0)


def test_nemenyi_cd() -> None:
    # Demšar (2006) table: q_0.05 = 2.343 (k=3), 2.728 (k=5); q for k=2 is z_0.975 = 1.960
    assert stats.nemenyi_cd(3, 3) == pytest.approx(2.343 * math.sqrt(12 / 18), abs=1e-3)
    assert stats.nemenyi_cd(5, 3) == pytest.approx(2.728 * math.sqrt(30 / 18), abs=1e-3)
    assert stats.nemenyi_cd(2, 2) == pytest.approx(1.95996 * math.sqrt(0.5), abs=1e-4)
    assert math.isnan(stats.nemenyi_cd(1, 3))


def test_nemenyi_pvalues_symmetric() -> None:
    rng = np.random.default_rng(0)
    scores = pd.DataFrame(rng.normal(size=(6, 3)) + np.array([2, 1, 0]), columns=list("abc"))
    p = stats.nemenyi_pvalues(scores)
    assert list(p.columns) == list("abc") and list(p.index) == list("abc")
    np.testing.assert_allclose(p.to_numpy(), p.to_numpy().T)
    assert (p.to_numpy() <= 1).all()


# 5-seed stores, as `harness run --seeds 5` writes them, through the report path (the trials
# frame -> report_tables, which `harness report` and `--versus`/`--format latex` call): csnas
# loses to `wide` on every seed by ~24 points, to `hair` by a hair on 3 of 5 (a hair ahead on
# the other 2), to `close` by a hair on 3 of 5 (equal on the other 2), and equals `same`.
FIVE = {
    ("b1", "csnas"): [70.0, 60.0, 75.0, 80.0, 65.0],
    ("b1", "wide"): [94.0, 93.9, 94.1, 93.8, 94.0],
    ("b1", "hair"): [70.1, 60.2, 75.1, 79.9, 64.9],
    ("b1", "close"): [70.1, 60.2, 75.15, 80.0, 65.0],
    ("b1", "same"): [70.0, 60.0, 75.0, 80.0, 65.0],
}


def _five_seed_compare(fmt: str, versus: str = "csnas") -> pd.DataFrame | str:
    from test_report_tables import make_frame

    from harness.report import report_tables

    text = report_tables(make_frame(FIVE), fmt, versus=versus, which=("compare",))["compare"]
    if fmt != "csv":
        return text
    import io

    return pd.read_csv(io.StringIO(text)).set_index("method")


def test_five_seeds_decide_when_the_data_are_clear() -> None:
    c = _five_seed_compare("csv")
    assert isinstance(c, pd.DataFrame)
    assert (c["n_pairs"] == 5).all()
    wide = c.loc["wide"]
    assert wide["decision"] == "worse" and wide["seeds"] == "worse on 5 of 5"
    assert (
        wide["p_holm"] < 0.05 and wide["ci_hi"] < 0 and wide["mean_diff"] == pytest.approx(-23.96)
    )
    for name in ("hair", "close"):  # by a hair on 3 of 5: no decision
        assert c.loc[name, "decision"] == "no difference shown"
        assert c.loc[name, "p_holm"] >= 0.05
    assert c.loc["hair", "seeds"] == "better 2, worse 3 of 5"
    assert c.loc["close", "seeds"] == "worse 3, equal 2 of 5"
    same = c.loc["same"]
    assert same["decision"] == "no difference shown" and same["seeds"] == "equal on 5 of 5"
    assert (same["mean_diff"], same["ci_lo"], same["ci_hi"], same["p"]) == (0, 0, 0, 1)
    # Holm stays: over the 4 comparisons wide's raw p is multiplied by 4
    assert wide["p_holm"] == pytest.approx(min(1.0, 4 * wide["p"]))


def test_versus_and_latex_use_the_same_rule() -> None:
    back = _five_seed_compare("csv", versus="wide")
    assert isinstance(back, pd.DataFrame)
    assert back.loc["csnas", "decision"] == "better"
    assert back.loc["csnas", "seeds"] == "better on 5 of 5"
    tex = _five_seed_compare("latex")
    md = _five_seed_compare("md")
    assert isinstance(tex, str) and isinstance(md, str)
    for text in (tex, md):
        assert "worse on 5 of 5" in text and "no difference shown" in text
        assert "Paired t-test" in text and "9,999 resamples, seed 0" in text
        assert "tie" not in text and "Wilcoxon" not in text
    assert tex.count(" & worse \\\\") == 1 and tex.count(" & no difference shown \\\\") == 3


def test_one_seed_is_inconclusive_not_a_tie() -> None:
    from test_report_tables import make_frame

    from harness.report import compare

    c = compare(make_frame({("b1", "csnas"): [70.0], ("b1", "wide"): [94.0]}))
    assert c["decision"].tolist() == ["inconclusive: n too small"]
    assert c["seeds"].tolist() == ["worse on 1 of 1"] and c["p_holm"].isna().all()


def test_a_real_five_seed_store_through_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`harness report --versus rea --format latex|csv` on a store `harness run` could write (5
    seeds, lookup searches): the same rule as compare() on the store's trials."""
    import io

    from cli_helpers import harness

    from harness.executors import execute_plan
    from harness.report import compare
    from harness.runner import make_plan
    from harness.store import open_store

    url = f"sqlite:///{tmp_path / 'five.db'}"
    plan = make_plan(["rea", "random"], ["nb201-cifar10"], seeds=5, master_seed=1, trials=6)
    execute_plan(plan, url, workers=1)
    store = open_store(url, create=False)
    expected = compare(store.trials_frame(), "rea")
    store.close()
    argv = ("report", "--storage", url, "--versus", "rea", "--table", "compare")
    code, out, err = harness(capsys, *argv, "--format", "csv")
    assert code == 0, err
    body = "\n".join(line for line in out.splitlines() if not line.startswith("#"))
    table = pd.read_csv(io.StringIO(body))
    assert table["decision"].tolist() == expected["decision"].tolist()
    assert table["seeds"].tolist() == expected["seeds"].tolist()
    assert table["n_pairs"].tolist() == [5]
    code, tex, err = harness(capsys, *argv, "--format", "latex")
    assert code == 0, err
    assert "Paired t-test" in tex and f" & {expected['decision'][0]} \\\\" in tex
