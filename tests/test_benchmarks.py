from __future__ import annotations

import numpy as np
import pytest

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.benchmarks.table import load_table
from harness.proxies import make_proxy
from harness.spaces import NB201Space

SPACE = NB201Space()


@pytest.mark.parametrize(
    ("name", "optimum", "arch"),
    [
        ("nb201-cifar10", 94.3733, 6111),
        ("nb201-cifar100", 73.5133, 9930),
        ("nb201-imagenet16", 47.3111, 857),
    ],
)
def test_optima_match_the_paper(name, optimum, arch):
    b = BENCHMARKS.get(name)
    assert b.optimum == pytest.approx(optimum, abs=5e-5)
    assert b.report(SPACE.from_index(arch)) == pytest.approx(optimum, abs=5e-5)
    assert b.regret(b.optimum) == 0.0


def test_search_and_report_metrics_are_different_columns():
    b = BENCHMARKS.get("nb201-cifar10")
    cell = SPACE.from_index(6111)
    assert b.search_value(cell, 200) == pytest.approx(91.6067, abs=5e-5)  # cifar10-valid x-valid
    assert b.report(cell) == pytest.approx(94.3733, abs=5e-5)  # cifar10 ori-test
    assert b.search_value(cell, 12) < b.search_value(cell, 200)
    for name in BENCHMARKS.names():
        bench = BENCHMARKS.get(name)
        if bench.truth_source != "table":
            continue  # open spaces search on the proxy's own score
        assert "valid" in bench.search_metric and "test" in bench.report_metric


def test_lookup_proxies_report_cost_labels_and_direction():
    b = BENCHMARKS.get("nb201-cifar100")
    cell = SPACE.from_index(9930)
    per_epoch = load_table()["nats_c10valid_train_time_per_epoch_s_200"][9930]
    for name, epochs in (("lookup-12", 12), ("lookup-200", 200)):
        ev = make_proxy(name).evaluate(cell, b, seed=0)
        assert ev.direction == "maximize"
        assert ev.score == b.search_value(cell, epochs)
        assert ev.simulated_s == pytest.approx(per_epoch * 2.0 * epochs)
        assert ev.labels_used == 50_000
        assert ev.loss == -ev.score


def test_table_errors_are_clear(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(HarnessError, match=r"nope\.npz"):
        load_table(missing)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(HarnessError, match="cannot read"):
        load_table(junk)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, ops=np.zeros((3, 6), np.uint8))
    with pytest.raises(HarnessError, match="lacks columns"):
        load_table(wrong)


def test_shipped_table_is_small_and_records_its_source():
    table = load_table()
    assert table.path.stat().st_size < 3_000_000
    assert "nb201.csv.gz" in table.meta["source_sha256"]
    assert table.meta["release"].startswith("NAS-Bench-201 v1.1")
