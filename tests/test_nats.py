"""The NATS-Bench path, tested without the official files through a stand-in API module."""

from __future__ import annotations

import sys
import types

import pytest

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.benchmarks.nats import nats_source
from harness.executors import execute_plan
from harness.runner import make_plan
from harness.spaces import NB201Space
from harness.store import open_store

SPACE = NB201Space()


class FakeArchResult:
    def get_dataset_seeds(self, dataset):
        return [999, 777, 888]


class FakeAPI:
    def __init__(self):
        self.calls = []

    def query_index_by_arch(self, arch):
        return SPACE.index(SPACE.parse(arch))

    def query_meta_info_by_index(self, index, hp):
        return FakeArchResult()

    def get_more_info(self, index, dataset, hp="12", is_random=True):
        assert is_random is not True, "the unseeded API default must never be used"
        self.calls.append((index, dataset, hp, is_random))
        trial = 0 if is_random is False else is_random
        return {
            "valid-accuracy": (index % 97) + trial / 1000,
            "test-accuracy": 50.0 + (index % 89) / 10,
            "train-all-time": 10.0 * int(hp),
        }


@pytest.fixture
def fake_nats(monkeypatch):
    api = FakeAPI()
    module = types.ModuleType("nats_bench")
    module.create = lambda path, space, fast_mode, verbose: api  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nats_bench", module)
    nats_source.cache_clear()
    yield api
    nats_source.cache_clear()


def test_lookups_and_report_go_through_the_api(fake_nats, tmp_path):
    bench = BENCHMARKS.get("nb201-cifar100").configure(nats_path=str(tmp_path))
    cell = SPACE.from_index(1234)
    assert bench.lookup(cell, 12, seed=0) == (1234 % 97, 120.0)
    assert bench.report(cell) == 50.0 + (1234 % 89) / 10
    assert bench.release == "NATS-Bench tss v1.0"
    assert fake_nats.calls[0] == (1234, "cifar100", "12", False)
    assert fake_nats.calls[1] == (1234, "cifar100", "200", False)
    # the optimum comes from the NATS release too, never mixed with NB201 v1.1
    assert bench.optimum != BENCHMARKS.get("nb201-cifar100").optimum


def test_sampled_training_seed_is_seeded_not_random(fake_nats, tmp_path):
    bench = BENCHMARKS.get("nb201-cifar10").configure(nats_path=str(tmp_path), nats_trial="sample")
    cell = SPACE.from_index(77)
    picks = {bench.lookup(cell, 12, seed=s)[0] for s in range(20)}
    assert len(picks) > 1  # different seeds pick different recorded trials
    assert bench.lookup(cell, 12, seed=5) == bench.lookup(cell, 12, seed=5)
    assert {c[3] for c in fake_nats.calls} <= {777, 888, 999}
    assert all(c[1] == "cifar10-valid" for c in fake_nats.calls)


def test_runs_through_nats_are_reproducible(fake_nats, tmp_path):
    kw = dict(
        seeds=1, trials=8, benchmark_settings={"nats_path": str(tmp_path), "nats_trial": "sample"}
    )
    plan = make_plan(["tpe"], ["nb201-cifar10"], **kw)
    frames = []
    for name in ("a.db", "b.db"):
        url = f"sqlite:///{tmp_path / name}"
        execute_plan(plan, url, progress=False)
        frames.append(open_store(url, create=False).trials_frame())
    assert list(frames[0].score) == list(frames[1].score)
    assert frames[0].simulated_s.iloc[0] == 120.0
    assert plan.run_ids != make_plan(["tpe"], ["nb201-cifar10"], seeds=1, trials=8).run_ids


def test_missing_package_or_files_are_clear_errors(monkeypatch, tmp_path):
    nats_source.cache_clear()
    monkeypatch.setitem(sys.modules, "nats_bench", None)
    with pytest.raises(HarnessError, match="pip install"):
        nats_source(str(tmp_path))
    monkeypatch.setitem(sys.modules, "nats_bench", types.ModuleType("nats_bench"))
    with pytest.raises(HarnessError, match="not found"):
        nats_source(str(tmp_path / "missing"))
    with pytest.raises(HarnessError, match="trial mode"):
        BENCHMARKS.get("nb201-cifar10").configure(nats_path="x", nats_trial="random")
    nats_source.cache_clear()
