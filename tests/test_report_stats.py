"""Every report statistic against a small case whose answer is worked out by hand."""

from __future__ import annotations

import math

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


def test_wilcoxon_all_positive() -> None:
    # W- = 0; exact two-sided p = 2 / 2**6
    t = stats.wilcoxon_paired([1, 2, 3, 4, 5, 6], [0] * 6)
    assert (t.n_pairs, t.n_nonzero, t.statistic, t.median_diff) == (6, 6, 0.0, 3.5)
    assert t.p == pytest.approx(0.03125)
    assert not t.underpowered


def test_wilcoxon_one_negative() -> None:
    # d = [1,-2,3,4,5,6]: W- = 2; subsets of 1..6 with sum <= 2: {}, {1}, {2} -> p = 2*3/64
    t = stats.wilcoxon_paired([1, -2, 3, 4, 5, 6], [0] * 6)
    assert t.statistic == 2.0
    assert t.p == pytest.approx(6 / 64)


def test_wilcoxon_zeros_dropped_and_small_n_flagged() -> None:
    # one zero difference is dropped: n = 5 all positive -> p = 2 / 32, never below 0.05
    t = stats.wilcoxon_paired([1, 0, 3, 4, 5, 6], [0] * 6)
    assert (t.n_pairs, t.n_nonzero) == (6, 5)
    assert t.p == pytest.approx(0.0625)
    assert t.underpowered


def test_wilcoxon_degenerate() -> None:
    same = stats.wilcoxon_paired([90.0, 91.0, 92.0], [90.0, 91.0, 92.0])
    assert (same.statistic, same.p, same.median_diff, same.n_nonzero) == (0.0, 1.0, 0.0, 0)
    empty = stats.wilcoxon_paired([float("nan")], [1.0])
    assert empty.n_pairs == 0 and math.isnan(empty.p)
    # n = 3, d = [2, 3, 1]: W- = 0, p = 2 / 8
    t = stats.wilcoxon_paired([92, 91, 90, float("nan")], [90, 88, 89, 1])
    assert (t.n_pairs, t.statistic, t.median_diff) == (3, 0.0, 2.0)
    assert t.p == pytest.approx(0.25)
    with pytest.raises(ValueError):
        stats.wilcoxon_paired([1, 2], [1])


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
