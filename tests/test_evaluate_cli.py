"""`harness evaluate` end to end: store rows beside the table, report, skip and reuse, bad
input; kill -9 and rerun (subprocesses), two workers on one device."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from cli_helpers import harness

from harness.evaluate import checkpoint as ckpt
from harness.evaluate.jobs import make_jobs, run_jobs, targets_from_store
from harness.evaluate.trainer import TIMING_FIELDS
from harness.store import open_store

REPO = Path(__file__).resolve().parents[1]
ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
SMOKE = ["--profile", "smoke", "--threads", "1", "--quiet"]
SMALL = ["--epochs", "2", "--set", "train_images=64", "--set", "test_images=64"]


def _search(capsys, url: str, seeds: int = 2) -> None:
    code, _, err = harness(
        capsys, "run", "--method", "random", "--benchmark", "nb201-cifar10",
        "--seeds", str(seeds), "--trials", "4", "--storage", url, "--quiet",
    )  # fmt: skip
    assert code == 0, err


def _numbers(curve: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in curve]


def test_evaluate_run_stores_trained_accuracy_beside_the_table(capsys, store_url) -> None:
    _search(capsys, store_url, seeds=1)
    store = open_store(store_url, create=False)
    run = store.runs()[0]
    returned = store.trials(run["run_id"])[-1]["best_arch"]
    table_truth = store.trials(run["run_id"])[-1]["best_truth"]
    store.close()
    code, out, err = harness(
        capsys, "evaluate", "--run", run["run_id"], "--storage", store_url, *SMALL, *SMOKE
    )
    assert code == 0, err
    assert f"(table {table_truth:.2f}%)" in out and "note: trained on the shipped" in out
    store = open_store(store_url, create=False)
    [row] = store.cell_evaluations()
    trials = store.trials(run["run_id"])
    store.close()
    assert row["status"] == "done" and row["run_id"] == run["run_id"] and row["arch"] == returned
    assert row["protocol"] == "nb201" and row["settings"]["profile"] == "smoke"
    assert [r["epoch"] for r in row["curve"]] == [1, 2] and row["params"] > 0
    assert row["manifest"]["table_value"] == table_truth and row["device"] == "cpu:1t"
    assert trials[-1]["best_truth"] == table_truth  # the table's value is untouched
    code, out, _ = harness(capsys, "report", "--storage", store_url, "--format", "csv",
                           "--table", "summary")  # fmt: skip
    summary = pd.read_csv(io.StringIO(out)).iloc[0]
    assert summary["test_acc_mean"] == pytest.approx(table_truth)
    assert summary["trained_acc_mean"] == pytest.approx(row["test_acc"])
    assert summary["report_source"] == "table"
    # the same command again trains nothing: the stored result is shown
    code, out, _ = harness(
        capsys, "evaluate", "--run", run["run_id"], "--storage", store_url, *SMALL, *SMOKE
    )
    assert code == 0 and "[skipped]" in out and f"{row['test_acc']:.2f}%" in out


def test_runs_returning_the_same_cell_share_one_training(capsys, store_url, tmp_path) -> None:
    _search(capsys, store_url, seeds=1)
    store = open_store(store_url, create=False)
    [target] = targets_from_store(store, None, "random", "nb201-cifar10")
    twin = type(target)(target.benchmark, target.arch, "another-run")
    jobs = make_jobs([target, twin], None, "smoke", {"epochs": 1}, tmp_path / "ck")
    assert len(jobs) == 1 and len(jobs[0].rows) == 2
    store.close()
    outcomes = run_jobs(jobs, store_url, threads=1, progress=False)
    assert [o["status"] for o in outcomes] == ["done", "done"]
    assert outcomes[0]["test_acc"] == outcomes[1]["test_acc"]
    third = type(target)(target.benchmark, target.arch, "third-run")
    [job] = make_jobs([third], None, "smoke", {"epochs": 1}, tmp_path / "ck")
    [reused] = run_jobs([job], store_url, threads=1, progress=False)
    assert reused["status"] == "reused" and reused["test_acc"] == outcomes[0]["test_acc"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", ARCH], "--arch needs --benchmark"),
        (["--run", "x", "--arch", ARCH], "exactly one of --run, --method"),
        (["--run", "nope"], "no run 'nope'"),
        (["--method", "random", "--benchmark", "nb201-cifar100"], "no finished runs of method"),
        (["--arch", "|bad|", "--benchmark", "nb201-cifar10"], "is not a nb201 architecture"),
        (["--arch", ARCH, "--benchmark", "nb201-imagenet16"], "trains on cifar10, cifar100"),
        (["--arch", ARCH, "--benchmark", "nb201-cifar10", "--set", "lr=x"], "lr='x'"),
        (["--arch", ARCH, "--benchmark", "nb201-cifar10", "--protocol", "x"], "protocol 'x'"),
        (["--arch", ARCH, "--benchmark", "nb201-cifar100"], "sample is CIFAR-10"),
        (["--arch", ARCH, "--benchmark", "nb201-cifar10", "--workers", "0"], "--workers must"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, store_url, args, message) -> None:
    _search(capsys, store_url, seeds=1)
    code, _, err = harness(capsys, "evaluate", *args, "--storage", store_url, *SMOKE)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    store = open_store(store_url, create=False)
    assert store.cell_evaluations() == []  # nothing stored for bad input
    store.close()


def test_an_unfinished_run_is_refused(capsys, store_url) -> None:
    store = open_store(store_url)
    fields = dict(method="random", benchmark="nb201-cifar10", proxy="lookup-12",
                  strategy="random", repetition=0, seed=1)  # fmt: skip
    store.start_run("half-done", fields, {"config": {}})
    store.close()
    code, _, err = harness(capsys, "evaluate", "--run", "half-done", "--storage", store_url, *SMOKE)
    assert code == 2 and "run half-done has not finished (status running)" in err
    code, _, err = harness(
        capsys, "evaluate", "--method", "random", "--benchmark", "nb201-cifar10",
        "--storage", store_url, *SMOKE,
    )  # fmt: skip
    assert code == 2 and "no finished runs of method random on nb201-cifar10" in err
    assert "(1 unfinished)" in err


def test_paper_profile_refuses_the_shipped_sample(capsys, store_url, monkeypatch) -> None:
    monkeypatch.delenv("HARNESS_CIFAR10", raising=False)
    args = ["evaluate", "--arch", ARCH, "--benchmark", "nb201-cifar10", "--storage", store_url]
    code, _, err = harness(capsys, *args, "--set", "data=sample", "--quiet")
    assert code == 2 and "for --profile smoke only, not paper" in err
    code, _, err = harness(capsys, *args, "--quiet")
    assert code == 2 and "harness data download cifar10" in err


def _cmd(db: Path, ckdir: Path) -> list[str]:
    return [
        sys.executable, "-m", "harness.cli", "evaluate", "--arch", ARCH,
        "--benchmark", "nb201-cifar10", "--epochs", "3", "--set", "train_images=256",
        "--storage", f"sqlite:///{db}", "--checkpoint-dir", str(ckdir), *SMOKE,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def _row(db: Path) -> dict:
    store = open_store(f"sqlite:///{db}", create=False)
    try:
        [row] = store.cell_evaluations()
        return row
    finally:
        store.close()


@pytest.mark.slow
def test_kill_9_then_same_command_resumes_to_the_uninterrupted_result(tmp_path) -> None:
    clean = subprocess.run(_cmd(tmp_path / "clean.db", tmp_path / "ck-clean"), env=_env(),
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert clean.returncode == 0, clean.stderr
    from pausing import pausing_command, wait_until_paused

    db, ckdir = tmp_path / "killed.db", tmp_path / "ck"
    # paused right after the first epoch's checkpoint: killed mid-training on any machine
    cmd, ready = pausing_command(tmp_path, _cmd(db, ckdir)[3:], checkpoints=1)
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until_paused(proc, ready)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    [path] = list(ckdir.glob("*.pt"))
    saved = ckpt.load(path)
    assert saved is not None and 1 <= saved["epoch"] < 3  # killed mid-training
    assert _row(db)["status"] == "running"
    again = subprocess.run(_cmd(db, ckdir), env=_env(), capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "resumed, 2 sessions" in again.stdout
    resumed, reference = _row(db), _row(tmp_path / "clean.db")
    assert resumed["status"] == "done" and resumed["test_acc"] == reference["test_acc"]
    assert _numbers(resumed["curve"]) == _numbers(reference["curve"])
    assert resumed["manifest"]["resumed_at_epoch"] == saved["epoch"]
    assert not list(ckdir.glob("*.pt"))  # removed once the store holds the result


@pytest.mark.slow
def test_two_workers_on_one_device_give_the_serial_results(capsys, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _search(capsys, url, seeds=2)
    shutil.copy(tmp_path / "h.db", tmp_path / "serial.db")
    store = open_store(url, create=False)
    targets = targets_from_store(store, None, "random", "nb201-cifar10")
    store.close()
    jobs = make_jobs(targets, None, "smoke", {"epochs": 1}, tmp_path / "ck")
    assert len(jobs) == 2, "the two runs returned the same cell: pick other seeds"
    parallel = run_jobs(jobs, url, workers=2, devices="cpu", threads=1, progress=False)
    serial = run_jobs(jobs, f"sqlite:///{tmp_path / 'serial.db'}", threads=1, progress=False)
    key = lambda o: o["eval_id"]  # noqa: E731
    assert [o["status"] for o in parallel] == ["done", "done"]
    assert [(o["eval_id"], o["test_acc"]) for o in sorted(parallel, key=key)] == [
        (o["eval_id"], o["test_acc"]) for o in sorted(serial, key=key)
    ]
    assert torch.get_num_threads() >= 1  # the parent's thread count is untouched by lanes
