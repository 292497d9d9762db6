"""Statistics for multi-seed NAS comparisons, each a thin wrapper over a kept library.

Conventions: accuracies are "higher is better"; rank 1 is the best method; every resampling
takes an explicit seed so that a report is byte-identical when rerun on the same store.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: The fewest pairs a paired t-test can decide on: with n pairs it has n - 1 degrees of freedom,
#: so one pair leaves no spread to test against; from 2 pairs on a consistent difference can
#: reach any p. (An exact sign-flip or Wilcoxon test on n pairs cannot go below 2 / 2**n:
#: 0.0625 at 5 pairs, so it could never decide at the default 5 seeds.)
T_MIN_PAIRS = 2
#: paired differences are rounded to this many decimals (report metrics carry a few)
DIFF_DECIMALS = 9
#: the paired comparison's labels: a decision, or why there is none
BETTER, WORSE = "better", "worse"
NO_DIFFERENCE = "no difference shown"
TOO_FEW = "inconclusive: n too small"


def bootstrap_ci(
    values: np.ndarray | list[float] | pd.Series,
    *,
    level: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (scipy.stats.bootstrap with a seeded Generator).

    NaNs are dropped. One value gives a zero-width interval (there is no spread to resample);
    no values give (nan, nan). The percentile method, not BCa, because BCa is undefined for the
    degenerate samples that small seed counts often give (all seeds find the same cell).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (math.nan, math.nan)
    if x.size == 1 or np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    res = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
        batch=_batch(x.size, n_resamples),
    )
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


#: resampled values a bootstrap draws at once (16 MB of float64): 9,999 resamples of 5,000
#: seeds at once took 880 MB; drawn in batches, the same Generator stream and the same interval
BOOTSTRAP_ELEMENTS = 2_000_000


def _batch(n: int, n_resamples: int) -> int | None:
    """scipy's `batch` for `n` values: None (all at once) while they fit BOOTSTRAP_ELEMENTS."""
    if n * n_resamples <= BOOTSTRAP_ELEMENTS:
        return None
    return max(1, BOOTSTRAP_ELEMENTS // n)


def bootstrap_band(
    curves: np.ndarray, *, level: float = 0.95, n_resamples: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and percentile-bootstrap band of many curves at once (rows = runs, cols = x).

    Resamples whole runs (rows), so the band at each x respects that points of one run are
    dependent. Returns (mean, lo, hi), each of length curves.shape[1].
    """
    y = np.asarray(curves, dtype=float)
    with warnings.catch_warnings():
        # x values where no run has a value yet (e.g. failed first trials) are NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(y, axis=0)
        if y.shape[0] < 2:
            return mean, mean.copy(), mean.copy()
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, y.shape[0], size=(n_resamples, y.shape[0]))
        boot = _resampled_means(y, idx)  # (n_resamples, n_x)
        alpha = (1.0 - level) / 2.0
        lo, hi = np.nanpercentile(boot, [100 * alpha, 100 * (1 - alpha)], axis=0)
    return mean, lo, hi


#: resampled values a band computes at once, element for element (about 64 MB of floats);
#: beyond it, means come from resample counts by matrix products
BAND_EXACT_ELEMENTS = 8_000_000


def _resampled_means(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """nanmean over each resample's rows (`idx`: resamples x rows drawn).

    Up to BAND_EXACT_ELEMENTS drawn values, exactly as `np.nanmean(y[idx], axis=1)`; beyond,
    as (counts @ values) / (counts @ present) with each row's draw counts: the same means up to
    float rounding, in memory of resamples x runs instead of resamples x runs x points (a
    store of 1,667 seeds drew 2.7 GB for one band)."""
    if idx.size * y.shape[1] <= BAND_EXACT_ELEMENTS:
        return np.nanmean(y[idx], axis=1)
    n = y.shape[0]
    counts = np.zeros((idx.shape[0], n))
    np.add.at(counts, (np.arange(idx.shape[0])[:, None], idx), 1.0)
    present = ~np.isnan(y)
    return (counts @ np.where(present, y, 0.0)) / (counts @ present.astype(float))


@dataclass(frozen=True)
class PairedComparison:
    """A two-sided paired t-test of a - b over seeds, with the effect and the win count."""

    n_pairs: int  # pairs with both values present
    n_better: int  # pairs where a > b
    n_worse: int  # pairs where a < b
    mean_diff: float  # mean of a - b
    ci_lo: float  # percentile bootstrap CI of mean_diff (seeded; see bootstrap_ci)
    ci_hi: float
    median_diff: float  # median of a - b
    statistic: float  # t = mean / (sd / sqrt(n)), n - 1 degrees of freedom
    p: float  # two-sided; NaN when n_pairs < T_MIN_PAIRS

    @property
    def testable(self) -> bool:
        """Whether the test can reach any threshold at this n (T_MIN_PAIRS pairs or more)."""
        return self.n_pairs >= T_MIN_PAIRS

    def seeds(self) -> str:
        """The win count in words, from a's side: 'worse on 5 of 5', 'equal on 5 of 5', or
        the counts where they differ: 'better 2, worse 3 of 5', 'better 1, worse 3, equal 6
        of 10' (short enough for a terminal column)."""
        if self.n_pairs == 0:
            return "no paired seeds"
        equal = self.n_pairs - self.n_better - self.n_worse
        counts = (("better", self.n_better), ("worse", self.n_worse), ("equal", equal))
        parts = [(word, k) for word, k in counts if k]
        if len(parts) == 1:
            return f"{parts[0][0]} on {parts[0][1]} of {self.n_pairs}"
        return f"{', '.join(f'{word} {k}' for word, k in parts)} of {self.n_pairs}"


def paired_t(
    a: np.ndarray | list[float],
    b: np.ndarray | list[float],
    *,
    seed: int = 0,
    n_resamples: int = 9999,
    level: float = 0.95,
) -> PairedComparison:
    """Two-sided paired t-test of a - b over seeds (scipy's ttest_1samp of the differences,
    which is ttest_rel), with the mean and median difference, a seeded bootstrap CI of the mean
    difference and the win count.

    The t-test assumes the differences are roughly normal over seeds; it is used because it
    can decide at 5 pairs, where every exact rank or sign-flip test stops at p = 0.0625.
    Degenerate cases are explicit:
    - pairs with a NaN on either side are dropped;
    - fewer than T_MIN_PAIRS pairs: statistic and p are NaN (no test is possible);
    - every difference zero: the methods are indistinguishable on these seeds, t = 0, p = 1;
    - every difference the same non-zero value: no spread at all, t = +-inf, p = 0 (the limit
      of t as the spread shrinks; scipy gives the same, with a precision warning), judged on
      the differences rounded to DIFF_DECIMALS, so float noise is no spread (nor a win).
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.shape} vs {y.shape}")
    keep = ~(np.isnan(x) | np.isnan(y))
    d = x[keep] - y[keep]
    # rounded for the win count and the no-spread case, so that float noise (93.6 - 70.2 is not
    # 93.5 - 70.1) is neither a win nor a spread
    r = np.round(d, DIFF_DECIMALS)
    n = int(d.size)
    better, worse = int(np.sum(r > 0)), int(np.sum(r < 0))
    if n == 0:
        return PairedComparison(0, 0, 0, *(math.nan,) * 6)
    mean, median = float(np.mean(d)), float(np.median(d))
    lo, hi = bootstrap_ci(d, level=level, n_resamples=n_resamples, seed=seed)
    if n < T_MIN_PAIRS:
        t, p = math.nan, math.nan
    elif np.all(r == r[0]):
        t = 0.0 if r[0] == 0 else math.copysign(math.inf, float(r[0]))
        p = 1.0 if r[0] == 0 else 0.0
    else:
        with warnings.catch_warnings():  # a spread tiny next to the mean: t is huge, p ~ 0
            warnings.simplefilter("ignore", RuntimeWarning)
            res = stats.ttest_1samp(d, 0.0, alternative="two-sided")  # = ttest_rel(a, b)
        t, p = float(res.statistic), float(res.pvalue)
    return PairedComparison(n, better, worse, mean, lo, hi, median, t, p)


def paired_label(test: PairedComparison, p_holm: float, alpha: float = 0.05) -> str:
    """The comparison's label from a's side: 'better'/'worse' when the Holm-adjusted p is below
    alpha, 'inconclusive: n too small' when the test cannot reach alpha at this n, else
    'no difference shown' (not 'tie': failing to show a difference is not showing equality)."""
    if not test.testable:
        return TOO_FEW
    if p_holm < alpha:
        return BETTER if test.mean_diff > 0 else WORSE
    return NO_DIFFERENCE


def holm(pvalues: np.ndarray | list[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (statsmodels' multipletests); NaNs stay NaN.

    Holm controls the family-wise error over all comparisons of one report without assuming
    independence, and is uniformly more powerful than Bonferroni.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, math.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def average_ranks(scores: pd.DataFrame) -> pd.Series:
    """Mean rank of each column over rows (blocks), rank 1 = highest score, ties averaged.

    Rows with any NaN are dropped: a rank is only comparable within a complete block.
    """
    block = scores.dropna(axis=0, how="any")
    if block.empty:
        return pd.Series(math.nan, index=scores.columns, dtype=float)
    ranks = stats.rankdata(-block.to_numpy(dtype=float), axis=1)
    return pd.Series(ranks.mean(axis=0), index=scores.columns, dtype=float)


@dataclass(frozen=True)
class FriedmanResult:
    statistic: float
    p: float
    n_blocks: int
    n_methods: int


def friedman(scores: pd.DataFrame) -> FriedmanResult:
    """Friedman chi-square over complete blocks (rows) of methods (columns).

    scipy needs at least 3 methods and 2 blocks; with fewer the statistic and p are NaN
    rather than an error, because a report over two methods is still a valid report.
    """
    block = scores.dropna(axis=0, how="any")
    n, k = block.shape
    if k < 3 or n < 2:
        return FriedmanResult(math.nan, math.nan, n, k)
    arr = block.to_numpy(dtype=float)
    if np.all(arr == arr[:, :1]):  # every method tied in every block: no evidence at all
        return FriedmanResult(0.0, 1.0, n, k)
    res = stats.friedmanchisquare(*arr.T)
    return FriedmanResult(float(res.statistic), float(res.pvalue), n, k)


def nemenyi_cd(n_methods: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks (Demšar 2006).

    CD = q_alpha * sqrt(k (k + 1) / (6 N)), with q_alpha the studentized-range quantile
    (infinite df) divided by sqrt(2); Demšar's table gives q_0.05 = 2.343 for k = 3.
    """
    if n_methods < 2 or n_blocks < 1:
        return math.nan
    q = stats.studentized_range.ppf(1 - alpha, n_methods, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(n_methods * (n_methods + 1) / (6.0 * n_blocks)))


def nemenyi_pvalues(scores: pd.DataFrame) -> pd.DataFrame:
    """Pairwise Nemenyi p-values after Friedman (scikit-posthocs), higher score = better.

    Used for the critical-difference diagram; needs at least 3 complete blocks.
    """
    import scikit_posthocs as sp

    block = scores.dropna(axis=0, how="any")
    return (
        sp.posthoc_nemenyi_friedman(block.to_numpy(dtype=float))
        .set_axis(list(block.columns), axis=0)
        .set_axis(list(block.columns), axis=1)
    )
