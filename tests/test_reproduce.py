"""Reproducing the committed reference on other kernels, and the environment every run records.

numpy dispatches float ufuncs to AVX-512 or AVX2 code at run time; NPY_DISABLE_CPU_FEATURES
makes this machine run the other one. The reference's tpe-optuna runs on nb201-cifar10 are
rerun both ways in fresh processes: identical to the committed trials, or forked at a named
trial and within the stated tolerance (harness.reproduce), never a silent pass or a failure
on a last-bit tie.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import harness
from harness.environment import differences, environment
from harness.reproduce import divergence, judge

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "results" / "reference" / "trials.csv.gz"
NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
RERUN = """
import sys
import harness
frame = harness.run(["tpe-optuna"], ["nb201-cifar10"], seeds=10, trials=100, master_seed=2026,
                    storage="sqlite:///" + sys.argv[1])
frame.to_csv(sys.argv[2], index=False)
"""


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    frame = pd.read_csv(COMMITTED)
    return frame[(frame.method == "tpe-optuna") & (frame.benchmark == "nb201-cifar10")]


@pytest.mark.parametrize("kernels", ["native", "no-avx512"])
def test_the_reference_reruns_identically_or_within_tolerance_on_either_kernels(
    kernels, committed, tmp_path
):
    env = dict(os.environ)
    if kernels == "no-avx512":
        env["NPY_DISABLE_CPU_FEATURES"] = NO_AVX512
    out = tmp_path / "rerun.csv"
    subprocess.run([sys.executable, "-c", RERUN, str(tmp_path / "r.db"), str(out)], env=env,
                   check=True, capture_output=True)  # fmt: skip
    fresh = pd.read_csv(out)[list(committed.columns)]  # the API adds report columns
    forked = divergence(committed, fresh)
    assert judge(committed, fresh) == []
    if forked is not None:  # the measured fork: AVX2 vs AVX-512 kernels, a tie at trial 25
        assert forked.first["repetition"] == 6 and forked.first["number"] == 25
        assert forked.runs == 1


def test_judge_flags_a_shifted_mean_and_a_swap_of_separated_methods(committed):
    ref = pd.read_csv(COMMITTED)
    ref = ref[ref.benchmark == "nb201-cifar10"]
    assert judge(ref, ref.copy()) == []
    shifted = ref.copy()
    last = shifted.groupby("run_id").tail(1).index
    shifted.loc[last, "best_truth"] -= 1.0
    assert any("outside the committed" in p for p in judge(ref, shifted))
    swapped = ref.copy()
    means = ref.groupby("run_id").tail(1).groupby("method").best_truth.mean()
    low, high = means.idxmin(), means.idxmax()
    for method, delta in ((low, means[high] - means[low]), (high, means[low] - means[high])):
        rows = swapped.groupby("run_id").tail(1)
        swapped.loc[rows[rows.method == method].index, "best_truth"] += delta
    problems = judge(ref, swapped)
    assert any("swapped places" in p for p in problems)


def test_divergence_names_the_first_trial_of_the_first_run_that_differs(committed):
    fresh = committed.copy()
    rows = fresh[(fresh.repetition == 3) & (fresh.number >= 40)].index
    fresh.loc[rows, "arch"] = "changed"
    forked = divergence(committed, fresh)
    assert forked is not None and forked.rows == 60 and forked.runs == 1
    assert (forked.first["repetition"], forked.first["number"], forked.first["column"]) == (
        3, 40, "arch",
    )  # fmt: skip
    assert divergence(committed, committed.copy()) is None


def test_every_manifest_records_the_environment(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    harness.run(["random"], seeds=1, trials=2, storage=url)
    from harness.store import open_store

    store = open_store(url, create=False)
    (run,) = store.runs()
    store.close()
    env = run["manifest"]["environment"]
    assert env["packages"]["numpy"] == run["manifest"]["versions"]["numpy"]
    assert env["numpy_simd"]["widest"] in env["numpy_simd"]["dispatched"] + ["baseline"]
    assert env["cpu"] and env["python"] and "blas" in env
    libraries = run["manifest"]["config"]["inputs"]["libraries"]
    assert libraries["numpy"] == env["packages"]["numpy"]
    if (REPO / ".git").exists():
        assert len(env["git"]["commit"]) == 40


def test_the_recorded_reference_environment_names_its_kernels():
    for path in (REPO / "results/reference/environment.json",
                 REPO / "results/reference/zero_cost/environment.json"):  # fmt: skip
        recorded = json.loads(path.read_text())
        assert recorded["torch"]["cpu_capability"] and recorded["numpy_simd"]["widest"]
        assert recorded["libraries"]["optuna"] == recorded["packages"]["optuna"]


def test_differences_name_libraries_and_kernels_not_thread_noise():
    here = environment()
    assert differences(here, here) == []
    other = json.loads(json.dumps(here))
    other["libraries"]["optuna"] = "4.0.0"
    other["numpy_simd"]["widest"] = "X86_V3"
    other["cpu"] = "Another CPU"
    found = differences(other, here)
    assert any(d.startswith("optuna 4.0.0 (recorded) vs") for d in found)
    assert any(d.startswith("numpy_simd.widest X86_V3 (recorded)") for d in found)
    assert len(differences(other, here, include_cpu=False)) == len(found) - 1


def test_differences_name_the_blas_paths_the_cpu_vendor_picks():
    """MKL's path follows the CPU vendor and MKL_CBWR, numpy's OpenBLAS its core type: each
    changes float32 bits (measured, harness.environment), so each is a kernel difference."""
    here = environment()
    here["cpu_vendor"] = "GenuineIntel"
    here["blas"] = [{"internal_api": "openblas", "architecture": "SkylakeX"}]
    other = json.loads(json.dumps(here))
    other["cpu_vendor"] = "AuthenticAMD"
    other["blas"][0]["architecture"] = "Haswell"
    other["variables"]["MKL_CBWR"] = "AVX2"
    found = differences(here, other, include_cpu=False)
    assert "cpu_vendor GenuineIntel (recorded) vs AuthenticAMD (here)" in found
    assert "blas_cores SkylakeX (recorded) vs Haswell (here)" in found
    assert "variables.MKL_CBWR None (recorded) vs AVX2 (here)" in found
    # a record written before the vendor and cores were kept: not compared, not a difference
    older = json.loads(json.dumps(here))
    del older["cpu_vendor"]
    older["blas"] = [{"internal_api": "openblas"}]
    assert differences(older, here, include_cpu=False) == []
    # a second OpenBLAS (scipy's, once imported) on the same core is not a difference
    twice = json.loads(json.dumps(here))
    twice["blas"] = twice["blas"] * 2
    assert differences(twice, here, include_cpu=False) == []


def test_reading_the_checkouts_commit_writes_nothing_into_it(tmp_path):
    """The harness asks git for its commit and dirty state in every run and in the fork
    server; a plain `git status` takes index.lock and rewrites a stale index, so a process
    killed mid-call left a lock that blocks the user's next commit (seen in a kill storm)."""
    from harness.environment import git_commit

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *args], check=True,
                              capture_output=True, text=True)  # fmt: skip
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "a")
    index = tmp_path / ".git" / "index"
    os.utime(tmp_path / "a.py", (1, 1))  # stat data stale: a refreshing status rewrites it
    before = index.read_bytes()
    assert git_commit(tmp_path) == {"commit": git("rev-parse", "HEAD"), "dirty": False}
    assert index.read_bytes() == before
    (tmp_path / "a.py").write_text("x = 2\n")
    assert git_commit.__wrapped__(tmp_path)["dirty"] is True
