"""The shipped DARTS truth: Yang et al. 2020's 214 cells trained with the DARTS protocol.

`darts-cifar10` reports their final-epoch accuracy by canonical key (None elsewhere), names
the table and its sha256 in its manifest (so in the run identity), and `harness correlate`
draws from those cells and prints the set's own noise ceiling and depth gap beside the proxies.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.benchmarks.darts import DARTS214, TABLE_SOURCE
from harness.correlate import correlate, reference_rows
from harness.identity import run_inputs
from harness.proxies import make_proxy
from harness.spaces import SPACES
from harness.spaces.darts.genotype import Genotype

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "darts"
BENCH = BENCHMARKS.get("darts-cifar10")
SPACE = SPACES.get("darts")


def swapped(g: Genotype) -> Genotype:
    """The same architecture written differently: each node's two (op, input) pairs swapped."""

    def swap(pairs: tuple) -> tuple:
        return tuple(p for i in range(0, len(pairs), 2) for p in (pairs[i + 1], pairs[i]))

    return dataclasses.replace(g, normal=swap(g.normal), reduce=swap(g.reduce))


def test_report_gives_the_final_epoch_accuracy_by_canonical_key() -> None:
    cells = BENCH.truth_cells()
    assert len(cells) == 214
    with np.load(DARTS214) as z:
        expected = z["test_acc_final"]
    got = np.array([BENCH.report(g) for g in cells])
    np.testing.assert_array_equal(got, expected)
    g = cells[7]
    assert swapped(g) != g and BENCH.report(swapped(g)) == BENCH.report(g)
    assert BENCH.report(SPACE.format(g)) == BENCH.report(g)  # text form too
    assert BENCH.configure(encoding="edge").report(g) == BENCH.report(g)
    assert 96.0 < float(expected.min()) and float(expected.max()) < 97.5


def test_cells_without_truth_report_none() -> None:
    keys = {SPACE.canonical_key(g) for g in BENCH.truth_cells()}
    drawn = SPACE.sample_unique(20, np.random.default_rng(0))
    assert all(BENCH.report(g) is None for g in drawn if SPACE.canonical_key(g) not in keys)
    assert BENCH.report("DARTS_V2") is None
    assert BENCHMARKS.get("darts-cifar100").report(BENCH.truth_cells()[0]) is None


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/darts not beside the checkout")
def test_asset_equals_the_shared_source() -> None:
    source = pd.read_csv(SHARED / "yang2020_darts214.csv")
    for text, acc in zip(source["genotype"], source["test_acc_final"]):
        assert BENCH.report(SPACE.parse(text)) == pytest.approx(acc, abs=0)
    seeds = pd.read_csv(SHARED / "yang2020_seed_pairs.csv")
    pairs = BENCH.reference_pairs()["noise ceiling"][0]
    np.testing.assert_array_equal(pairs, seeds[["seed_a", "seed_b"]].to_numpy())


def test_manifest_names_the_table_and_its_hash_enters_the_run_identity() -> None:
    manifest = BENCH.manifest()
    digest = hashlib.sha256(DARTS214.read_bytes()).hexdigest()
    assert manifest["table_sha256"] == digest and manifest["table_source"] == TABLE_SOURCE
    assert manifest["table_cells"] == 214
    assert run_inputs(BENCH, make_proxy("params"))["table_sha256"] == digest
    assert "table_sha256" not in BENCHMARKS.get("darts-cifar100").manifest()
    assert "partial table: 214 cells" in BENCH.describe()
    assert "no table" in BENCHMARKS.get("darts-cifar100").describe()


def test_reference_rows_are_the_pairs_own_rank_correlations() -> None:
    rows = reference_rows(BENCH, seed=0, n_resamples=50).set_index("proxy")
    assert len(rows) == 2
    ceiling = rows.loc[next(p for p in rows.index if "noise ceiling" in p)]
    seeds = BENCH.reference_pairs()["noise ceiling"][0]
    assert ceiling["n"] == 24
    assert ceiling["spearman_rho"] == pytest.approx(stats.spearmanr(*seeds.T).statistic)
    assert round(ceiling["spearman_rho"], 3) == 0.758  # the data README's figure
    depth = rows.loc[next(p for p in rows.index if "depth gap" in p)]
    assert depth["n"] == 32 and round(depth["spearman_rho"], 3) == 0.728
    assert reference_rows(BENCHMARKS.get("nb201-cifar10")).empty


def test_correlate_draws_cells_with_truth_and_prints_the_ceiling(tmp_path) -> None:
    cells, summary = correlate("params", "darts-cifar10", sample=6, n_resamples=20, out=tmp_path)
    assert len(cells) == 6 and cells["truth"].notna().all()
    assert set(cells["arch_key"]) <= {SPACE.canonical_key(g) for g in BENCH.truth_cells()}
    again, _ = correlate("params", "darts-cifar10", sample=6, n_resamples=20)
    assert list(again["arch_key"]) == list(cells["arch_key"])  # seeded draw
    other, _ = correlate("params", "darts-cifar10", sample=6, n_resamples=20, seed=1)
    assert list(other["arch_key"]) != list(cells["arch_key"])
    assert next(iter(summary["proxy"])) == "params"
    assert any("noise ceiling" in p for p in summary["proxy"])
    assert any("noise ceiling" in p for p in pd.read_csv(tmp_path / "summary.csv")["proxy"])


def test_correlate_on_darts_refuses_bad_samples_and_benchmarks_without_truth() -> None:
    with pytest.raises(HarnessError, match="darts-cifar10 has truth for 214 cells"):
        correlate("params", "darts-cifar10", sample=215)
    with pytest.raises(HarnessError, match="darts-cifar10 has truth for 214 cells"):
        correlate("params", "darts-cifar10", sample=0)
    with pytest.raises(HarnessError, match="darts-cifar100 has none"):
        correlate("params", "darts-cifar100", sample=3)


def test_correlate_cli_bad_sample_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["correlate", "--benchmark", "darts-cifar10", "--proxy", "params", "--sample", "300"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1
    assert "has truth for 214 cells" in err
