"""The proxy study: sampling unique cells, signed rank correlations, files written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.correlate import (
    CELL_COLUMNS,
    SUMMARY_COLUMNS,
    correlate,
    rank_correlation,
    sample_unique_cells,
    summarize,
    top_overlap,
)
from harness.spaces.nb201 import NB201Cell, canonical_key, parse_cell

BENCH = BENCHMARKS.get("nb201-cifar10")


def test_sample_unique_cells_is_seeded_and_distinct() -> None:
    a = sample_unique_cells(30, 5, BENCH)
    b = sample_unique_cells(30, 5, BENCH)
    assert a == b and a != sample_unique_cells(30, 6, BENCH)
    assert len({canonical_key(c) for c in a}) == 30
    group = BENCH.table["unique_group"]
    assert all(group[BENCH.index(c)] == BENCH.index(c) for c in a)  # class representatives
    with pytest.raises(HarnessError, match="--sample 0"):
        sample_unique_cells(0, 0, BENCH)
    with pytest.raises(HarnessError, match="6466"):
        sample_unique_cells(7000, 0, BENCH)


def test_top_overlap_counts_shared_best_cells() -> None:
    y = np.arange(20.0)  # cells 18, 19 are the true top 10%
    assert top_overlap(y, y) == 1.0
    assert top_overlap(-y, y) == 0.0
    x = y.copy()
    x[19] = -1.0  # the proxy misses the best cell, keeps the second
    assert top_overlap(x, y) == 0.5


def test_rank_correlation_known_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    r = rank_correlation(x, x * 10, seed=0, n_resamples=200)
    assert r["spearman_rho"] == pytest.approx(1.0) and r["kendall_tau"] == pytest.approx(1.0)
    assert r["rho_lo"] == pytest.approx(1.0) and r["n"] == 5
    # one swapped pair out of 10: tau = (9 - 1) / 10, rho = 1 - 6*2/(5*24)
    y = np.array([1.0, 2.0, 4.0, 3.0, 5.0])
    r = rank_correlation(x, y, seed=0, n_resamples=200)
    assert r["kendall_tau"] == pytest.approx(0.8)
    assert r["spearman_rho"] == pytest.approx(1 - 6 * 2 / (5 * 24))
    assert r["rho_lo"] <= r["spearman_rho"] <= r["rho_hi"]
    again = rank_correlation(x, y, seed=0, n_resamples=200)
    assert again == r  # seeded bootstrap


def test_sign_uses_the_stored_direction() -> None:
    truth = [90.0, 80.0, 70.0, 60.0]
    frame = pd.DataFrame(
        {
            "proxy": ["loss"] * 4 + ["acc"] * 4,
            "budget": [1.0] * 8,
            "arch_key": list("abcd") * 2,
            "score": [0.1, 0.2, 0.3, np.inf, 9.0, 8.0, 7.0, 6.0],
            "direction": ["minimize"] * 4 + ["maximize"] * 4,
            "truth": truth * 2,
        }
    )
    summary = summarize(frame, seed=0, n_resamples=50).set_index("proxy")
    # lower loss -> better truth (a failed, infinite loss ranks worst): positive
    assert summary.loc["loss", "spearman_rho"] == pytest.approx(1.0)
    assert summary.loc["acc", "spearman_rho"] == pytest.approx(1.0)


def test_seed_spread_and_seed_mean() -> None:
    truth = [4.0, 3.0, 2.0, 1.0]
    frame = pd.DataFrame(
        {
            "proxy": ["p"] * 8,
            "budget": [1.0] * 8,
            "seed": [0] * 4 + [1] * 4,
            "arch_key": list("abcd") * 2,
            "score": [4.0, 3.0, 2.0, 1.0, 4.0, 3.0, 1.0, 2.0],
            "direction": ["maximize"] * 8,
            "truth": truth * 2,
        }
    )
    row = summarize(frame, seed=0, n_resamples=20).iloc[0]
    assert row["seeds"] == 2 and row["n"] == 4  # cells, not cell x seed rows
    assert row["rho_seed_mean"] == pytest.approx((1.0 + 0.8) / 2)
    assert row["rho_seed_sd"] == pytest.approx(np.std([1.0, 0.8], ddof=1))
    # seed-mean scores 4, 3, 1.5, 1.5: a tie at the bottom
    assert row["spearman_rho"] == pytest.approx(
        float(np.corrcoef([4, 3, 1.5, 1.5], truth)[0, 1]), abs=0.06
    )


def test_naswot_nan_for_disconnected() -> None:
    cell = NB201Cell(("nor_conv_3x3", "none", "none", "none", "none", "avg_pool_3x3"))
    sig = BENCH.signals(cell)
    assert np.isnan(sig["naswot-table"][0]) and sig["params"][0] > 0
    assert sig["lookup-12"] == (BENCH.search_value(cell, 12), "maximize")


def test_correlate_smoke_writes_files(tmp_path) -> None:
    torch.set_num_threads(1)
    cells, summary = correlate(
        "contrastive",
        "nb201-cifar10",
        sample=4,
        budgets=[1, 2],
        profile="smoke",
        seed=1,
        out=tmp_path,
        n_resamples=50,
    )
    assert list(cells.columns) == CELL_COLUMNS and list(summary.columns) == SUMMARY_COLUMNS
    trained = cells[cells["proxy"] == "contrastive"]
    assert sorted(trained["budget"].unique()) == [1, 2] and len(trained) == 8
    assert {"contrastive", "lookup-12", "params", "flops", "naswot-table"} <= set(cells["proxy"])
    assert (trained["direction"] == "minimize").all()
    first = trained.iloc[0]
    assert first["truth"] == BENCH.report(parse_cell(first["arch"]))
    on_disk = pd.read_csv(tmp_path / "cells.csv")
    assert len(on_disk) == len(cells) and (tmp_path / "summary.csv").exists()
    assert (tmp_path / "scatter.png").stat().st_size > 1000


def test_correlate_rejects_bad_input() -> None:
    with pytest.raises(HarnessError, match="table lookup"):
        correlate("lookup-12", "nb201-cifar10", sample=3)
    with pytest.raises(HarnessError, match="colour"):
        correlate("contrastive", "nb201-cifar10", sample=3, settings={"colour": 1})
    with pytest.raises(HarnessError, match="unknown benchmark"):
        correlate("contrastive", "nb201-mnist", sample=3)
    with pytest.raises(HarnessError, match="--steps"):
        correlate("contrastive", "nb201-cifar10", sample=3, budgets=[0], profile="smoke")


def test_correlate_cli(tmp_path) -> None:
    from click.testing import CliRunner

    from harness.cli.data import correlate as correlate_cmd

    runner = CliRunner()
    args = ["--sample", "3", "--steps", "1", "--profile", "smoke", "--resamples", "20"]
    result = runner.invoke(correlate_cmd, [*args, "--out", str(tmp_path), "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "spearman_rho" in result.output and (tmp_path / "summary.csv").exists()
    bad = runner.invoke(correlate_cmd, [*args, "--steps", "a,b"])
    assert isinstance(bad.exception, HarnessError) and "--steps 'a,b'" in str(bad.exception)
    bad = runner.invoke(correlate_cmd, [*args, "--set", "colour=red"])
    assert isinstance(bad.exception, HarnessError) and "colour" in str(bad.exception)


def test_stopped_study_leaves_the_proxies_it_finished(tmp_path, monkeypatch) -> None:
    import harness.correlate as corr

    real = corr.run_cells

    def stop_at_supervised(proxies, *args, **kwargs):  # type: ignore[no-untyped-def]
        if proxies == ["supervised"]:
            raise KeyboardInterrupt
        return real(proxies, *args, **kwargs)

    monkeypatch.setattr(corr, "run_cells", stop_at_supervised)
    torch.set_num_threads(1)
    with pytest.raises(KeyboardInterrupt):
        correlate(
            ["contrastive", "supervised"], "nb201-cifar10", sample=3, profile="smoke", out=tmp_path
        )
    partial = pd.read_csv(tmp_path / "cells.partial.csv")
    assert set(partial["proxy"]) >= {"contrastive"} and "supervised" not in set(partial["proxy"])
    assert not (tmp_path / "cells.csv").exists()
    monkeypatch.setattr(corr, "run_cells", real)
    correlate(
        ["contrastive", "supervised"], "nb201-cifar10", sample=3, profile="smoke", out=tmp_path
    )
    assert (tmp_path / "cells.csv").exists() and not (tmp_path / "cells.partial.csv").exists()
