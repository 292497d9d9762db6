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
from harness.executors import execute_plan
from harness.identity import code_version, file_sha256
from harness.runner import make_plan


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


def test_the_cache_key_and_run_identity_include_the_proxy_code_version(tmp_path, register):
    from harness.proxies import PROXIES

    Versioned.calls_total = []
    url = f"sqlite:///{tmp_path / 'h.db'}"
    for version in ("1", "1", "2"):
        register(PROXIES, "versioned", lambda v=version, **kw: Versioned(v))
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


# -- the whole code and the libraries: strategy, search loop, outside code, versions ---------
def _plan_ids_in(root, code: str) -> str:
    """Run `code` (which prints something) with the harness imported from `root`."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=root)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_changed_strategy_source_in_a_copy_of_the_package_is_a_new_run(tmp_path):
    from pathlib import Path

    repo = Path(harness.__file__).resolve().parents[1]
    code = (
        "import harness; p = harness.plan(['tpe-optuna', 'rea'], seeds=1, trials=3); "
        "print(' '.join(r.run_id for r in p.runs))"
    )
    for name in ("same", "edited"):
        shutil.copytree(repo / "harness", tmp_path / name / "harness",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        # baselines/ where the wheel puts it (harness.baselines), so the copy is self-contained
        shutil.copytree(repo / "baselines", tmp_path / name / "harness" / "baselines",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    edited = tmp_path / "edited" / "harness" / "strategies" / "tpe_optuna.py"
    edited.write_text(edited.read_text() + "\n# an edit that changes no behaviour\n")
    ours = " ".join(r.run_id for r in harness.plan(["tpe-optuna", "rea"], seeds=1, trials=3).runs)
    same = _plan_ids_in(tmp_path / "same", code)
    changed = _plan_ids_in(tmp_path / "edited", code)
    assert same == ours  # a copy of the same code is the same run
    assert changed.split()[0] != ours.split()[0]  # the edited strategy: a new run
    assert changed.split()[1] == ours.split()[1]  # rea's code did not change


def _user_module(tmp_path, monkeypatch, dotted: str, source: str):
    """Import a user's module `package.module` written under tmp_path (`_edit_and_forget`
    rewrites it and drops it from sys.modules)."""
    import importlib

    package, module = dotted.split(".")
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(dotted)


def _edit_and_forget(tmp_path, dotted: str, source: str) -> None:
    import sys

    from harness.identity import code_identity

    (tmp_path / f"{dotted.replace('.', '/')}.py").write_text(source)
    code_identity.cache_clear()
    sys.modules.pop(dotted), sys.modules.pop(dotted.split(".")[0])


def test_outside_code_is_hashed_by_its_real_file(tmp_path, monkeypatch):
    """A user's proxy in mylab/proxy.py: editing it gives a new version, not the old one."""
    from harness.identity import code_identity, proxy_version

    module = _user_module(
        tmp_path, monkeypatch, "mylab.proxy", "import numpy\nclass P:\n    name = 'p'\n"
    )
    first = proxy_version(module.P())
    assert first != code_identity("nothing.at.all").version  # the empty input's hash
    _edit_and_forget(tmp_path, "mylab.proxy", "import numpy\nclass P:\n    name = 'p'  # edited\n")
    assert proxy_version(module.P()) != first
    assert dict(code_identity("mylab.proxy").libraries)["numpy"] == np.__version__


def test_a_zero_cost_proxys_measure_module_is_part_of_its_identity(tmp_path, monkeypatch):
    """Zero-cost proxies share one class; each one's formula lives in its own module (meco.py,
    naswot.py): two proxies differ, and editing a user's measure module gives a new version."""
    from harness.identity import proxy_version
    from harness.proxies import make_proxy
    from harness.proxies.zero_cost.common import COMMON, ZeroCostProxy

    versions = {proxy_version(make_proxy(n)) for n in ("meco", "naswot", "swap", "synflow")}
    assert len(versions) == 4
    spied = make_proxy("meco")
    spied.evaluate = lambda *a: None  # a wrapper set on the instance is not its definition
    assert proxy_version(spied) == proxy_version(make_proxy("meco"))
    module = _user_module(
        tmp_path, monkeypatch, "mylab2.score", "def measure(ctx):\n    return 1.0\n"
    )
    proxy = ZeroCostProxy("mine", dict(COMMON), module.measure)
    first = proxy_version(proxy)
    _edit_and_forget(tmp_path, "mylab2.score", "def measure(ctx):\n    return 2.0\n")
    assert proxy_version(proxy) != first


def test_code_without_a_file_needs_an_explicit_version():
    """A proxy class defined in `python -c` (or a notebook cell) has no source to hash."""
    from pathlib import Path

    repo = Path(harness.__file__).resolve().parents[1]
    code = (
        "from harness.identity import proxy_version\n"
        "class P: name = 'nb'\n"
        "class V: name = 'nb'; version = 'v1'\n"
        "print(proxy_version(V()))\n"
        "try:\n    proxy_version(P())\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = _plan_ids_in(repo, code).splitlines()
    assert out[0] == "v1"
    assert out[1].startswith("HarnessError code in __main__ has no source file")
    assert "give the class a `version` string" in out[1]


def test_library_versions_are_part_of_the_identity_and_checked_where_it_runs(tmp_path, monkeypatch):
    from harness import identity

    before = harness.plan(["tpe-optuna"], seeds=1, trials=3).runs[0]
    assert before.inputs["libraries"]["optuna"] == identity.version_of("optuna")
    real = identity.version_of
    monkeypatch.setattr(identity, "version_of", lambda d: "0.0.1" if d == "optuna" else real(d))
    identity.code_identity.cache_clear()
    after = harness.plan(["tpe-optuna"], seeds=1, trials=3).runs[0]
    assert after.run_id != before.run_id and after.inputs["libraries"]["optuna"] == "0.0.1"
    # a worker with the real optuna refuses the plan made with the other one, naming it
    monkeypatch.setattr(identity, "version_of", real)
    identity.code_identity.cache_clear()
    from harness.runner import Plan

    with pytest.raises(HarnessError, match=r"libraries.optuna is .* here but 0.0.1 in the plan"):
        execute_plan(Plan([after]), f"sqlite:///{tmp_path / 'h.db'}", progress=False)


#: numpy's AVX-512 dispatch targets: disabling them runs an AVX2 machine's kernels here
NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"


def _has_avx512() -> bool:
    from harness.environment import numpy_simd

    return "X86_V4" in numpy_simd()["dispatched"]


@pytest.mark.skipif(not _has_avx512(), reason="needs numpy's AVX-512 kernels to emulate 2 CPUs")
def test_a_run_resumed_on_another_cpu_replays_or_names_the_first_trial_and_both_environments(
    tmp_path,
):
    """The reference's tpe-optuna rep 6 forks at trial 25 between AVX2 and AVX-512 kernels.
    Started with AVX2 kernels and killed at trial 27, it cannot resume here: one line names
    the trial and the kernels; rep 0..5, which replay exactly, resumed nothing wrong."""
    import os
    import signal
    import subprocess

    from pausing import pausing_command, wait_until_paused

    url = f"sqlite:///{tmp_path / 'mixed.db'}"
    argv = ["run", "--method", "tpe-optuna", "--seeds", "7", "--trials", "100",
            "--master-seed", "2026", "--storage", url, "--quiet"]  # fmt: skip
    cmd, ready = pausing_command(tmp_path, argv, trials=6 * 100 + 27)
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": NO_AVX512}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_until_paused(proc, ready)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with pytest.raises(HarnessError) as err:
        harness.run(["tpe-optuna"], seeds=7, trials=100, master_seed=2026, storage=url)
    line = str(err.value)
    assert "\n" not in line
    assert "does not replay here: stored trial 25 has edge_1_0=" in line
    assert "numpy_simd.widest X86_V3 (recorded) vs" in line
