"""Run identity: table and image files (path and sha256), the proxy's code version and the
settings are in every run's identity and manifest, carried by the plan itself."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np
import pytest

import harness
from harness import HarnessError
from harness.assets import NB201_TABLE
from harness.identity import code_version, file_sha256
from harness.runner import execute_plan, make_plan


def _altered_table(src, dst) -> None:
    """A valid table with one test accuracy changed: another file, another result."""
    with np.load(src, allow_pickle=False) as npz:
        cols = {k: npz[k] for k in npz.files}
    cols["c10_test_acc_200"] = cols["c10_test_acc_200"].copy()
    cols["c10_test_acc_200"][:] += 0.5
    np.savez(dst, **cols)


def test_a_changed_table_file_is_a_new_run_never_a_reused_one(tmp_path, capsys):
    from harness.cli import main

    table = tmp_path / "table.npz"
    shutil.copy(NB201_TABLE, table)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    argv = ["run", "--method", "rea", "--seeds", "1", "--trials", "4", "--table", str(table),
            "--storage", url]  # fmt: skip
    main(argv)
    first = harness.trials(url)
    assert first.truth.notna().all()
    _altered_table(NB201_TABLE, table)  # same path, other contents
    main(argv)
    err = capsys.readouterr().err
    assert "1 of 1 runs executed here, 0 already complete" in err
    both = harness.trials(url)
    assert both.run_id.nunique() == 2 and len(both) == 8
    second = both[~both.run_id.isin(first.run_id)]
    assert list(second.truth) == pytest.approx(list(first.truth + 0.5))
    (run,) = [r for r in _runs(url) if r["run_id"] == second.run_id.iloc[0]]
    inputs = run["manifest"]["config"]["inputs"]
    assert inputs["table_sha256"] == file_sha256(table)
    assert run["manifest"]["config"]["benchmark_settings"]["table"] == str(table.resolve())


def _runs(url):
    from harness.store import open_store

    store = open_store(url, create=False)
    try:
        return store.runs()
    finally:
        store.close()


def test_the_table_travels_in_the_plan_not_in_the_environment(tmp_path, monkeypatch):
    table = tmp_path / "env-table.npz"
    _altered_table(NB201_TABLE, table)
    monkeypatch.setenv("HARNESS_NB201_TABLE", str(table))
    planned = harness.plan(["random"], seeds=1, trials=2)
    spec = planned.runs[0]
    assert spec.benchmark_settings["table"] == str(table.resolve())
    monkeypatch.delenv("HARNESS_NB201_TABLE")  # a worker without the variable runs the same
    assert spec.resolve_benchmark().table.sha256 == file_sha256(table)
    default = harness.plan(["random"], seeds=1, trials=2).runs[0]
    assert default.run_id != spec.run_id
    assert default.inputs["table_sha256"] != spec.inputs["table_sha256"]


def test_a_file_changed_after_planning_is_refused_where_the_run_executes(tmp_path):
    table = tmp_path / "table.npz"
    shutil.copy(NB201_TABLE, table)
    plan = make_plan(["random"], ["nb201-cifar10"], seeds=1, trials=3, table=str(table))
    _altered_table(NB201_TABLE, table)
    with pytest.raises(HarnessError, match=r"table_sha256 is .* here but .* in the plan"):
        execute_plan(plan, f"sqlite:///{tmp_path / 'h.db'}", progress=False)


@dataclass
class Versioned:
    """A seeded proxy whose code version is declared: changing it must not reuse scores."""

    version: str = "1"
    name: str = "versioned"
    direction: str = "minimize"
    deterministic: bool = False  # evaluations are cached in the store
    needs_table: bool = False
    calls: int = 0

    def settings(self):
        return {}

    def evaluate(self, arch, benchmark, seed):
        from harness.proxies import Evaluation

        Versioned.calls_total.append(self.version)
        return Evaluation(score=float(sum(arch.codes)) + seed % 7, direction="minimize")


def test_the_cache_key_and_run_identity_include_the_proxy_code_version(tmp_path, monkeypatch):
    from harness.proxies import PROXIES

    Versioned.calls_total = []
    url = f"sqlite:///{tmp_path / 'h.db'}"
    for version in ("1", "1", "2"):
        monkeypatch.setitem(PROXIES._items, "versioned", lambda v=version, **kw: Versioned(v))
        frame = harness.run(["tpe"], seeds=1, trials=5, proxy="versioned", storage=url)
        assert frame.run_id.nunique() == 1
    # v1 evaluated once (the rerun was complete already), v2 evaluated again: no reuse
    assert Versioned.calls_total.count("1") == 5 and Versioned.calls_total.count("2") == 5
    runs = _runs(url)
    assert len(runs) == 2
    assert {r["manifest"]["config"]["inputs"]["proxy_version"] for r in runs} == {"1", "2"}
    from harness.store import open_store

    store = open_store(url, create=False)
    assert store.counts()["evaluations"] == 10
    store.close()


def test_image_data_is_part_of_a_trained_run_identity(tmp_path):
    from harness.data.cifar import sample_path

    copy = tmp_path / "images.npz"
    shutil.copy(sample_path(), copy)
    a = make_plan(["csnas"], ["nb201-cifar10"], seeds=1, trials=2,
                  proxy_settings={"profile": "smoke", "data": str(copy)})  # fmt: skip
    assert a.runs[0].inputs["images_sha256"] == file_sha256(copy)
    with np.load(copy) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["x_train"] = arrays["x_train"][::-1].copy()
    np.savez(copy, **arrays)
    b = make_plan(["csnas"], ["nb201-cifar10"], seeds=1, trials=2,
                  proxy_settings={"profile": "smoke", "data": str(copy)})  # fmt: skip
    assert a.runs[0].run_id != b.runs[0].run_id


def test_code_version_follows_the_code_a_proxy_imports():
    lookup = code_version("harness.proxies.lookup")
    assert lookup == code_version("harness.proxies.lookup")
    assert lookup != code_version("harness.proxies.contrastive")
    # registries and the API are not code a proxy runs: editing them changes no version
    from harness.identity import REGISTRIES

    assert {"harness", "harness.proxies"} <= REGISTRIES
