"""Issue 27, "every mistake gets one line": a damaged store, a new store at a mistyped path, a
notebook-defined name sent to worker processes, a pending DARTS result, progress bars in a
log, and `correlate` printing only what it was asked for."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness
from tests.cli_helpers import harness as cli

RUN = ["run", "--method", "random", "--seeds", "1", "--trials", "3"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damaged_store(tmp_path: Path) -> Path:
    """A real store of 3,000 trials whose middle page (a data page: page 1 and the schema
    are untouched) has its b-tree header overwritten."""
    db = tmp_path / "damaged.db"
    harness.run(["random"], seeds=3, trials=1000, storage=f"sqlite:///{db}")
    size, page = db.stat().st_size, 4096
    assert size > 50 * page
    with db.open("r+b") as fh:
        fh.seek((size // page // 2) * page)
        fh.write(b"\xff" * 12)
    return db


def test_a_store_with_a_damaged_data_page_is_refused_in_one_line_and_left_as_it_is(
    tmp_path, capsys
) -> None:
    db = _damaged_store(tmp_path)
    before = _sha(db)
    url = f"sqlite:///{db}"
    for argv in (
        [*RUN, "--storage", url, "--progress"],
        ["report", "--storage", url],
        ["export", "--storage", url, "--out", str(tmp_path / "x.csv")],
    ):
        code, out, err = cli(capsys, *argv)
        assert code == 2, (argv, out, err)
        assert out == "" and len(err.strip().splitlines()) == 1, (argv, err)
        assert "damaged" in err and "malformed" in err and "search" not in err, err
        assert _sha(db) == before
    assert not (tmp_path / "x.csv").exists()


def test_a_run_that_creates_a_store_names_it_and_its_folders_on_its_first_line(
    tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, *RUN, "--storage", "sqlite:///nope/sub/x.db")
    assert code == 0, err
    assert err.splitlines()[0] == (
        f"harness: new store nope{os.sep}sub{os.sep}x.db (created folders nope{os.sep}, "
        f"nope{os.sep}sub{os.sep})"
    )
    code, _out, err = cli(capsys, *RUN, "--storage", "sqlite:///nope/sub/x.db")
    assert code == 0 and "new store" not in err  # the second time it is not new
    code, _, err = cli(capsys, "report", "--storage", "sqlite:///nope/other.db")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no store" in err
    assert not (tmp_path / "nope" / "other.db").exists()


NOTEBOOK = """
import harness
from harness.proxies import PROXIES, make_proxy


class NumConv:
    name, direction, deterministic, needs_table = "num-conv", "maximize", True, False
    version = "1"

    def settings(self):
        return {{}}

    def evaluate(self, arch, benchmark, seed):
        return make_proxy("params").evaluate(arch, benchmark, seed)


PROXIES.register("num-conv", lambda **kw: NumConv())
url = "sqlite:///{db}"
print(len(harness.run(["random"], seeds=2, trials=2, storage=url, proxy="num-conv")))
try:
    harness.run(["random"], seeds=2, trials=2, storage=url + "2", proxy="num-conv",
                workers=2, executor="{executor}")
except harness.HarnessError as err:
    print("refused:", err)
"""


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_a_notebook_defined_proxy_with_worker_processes_is_refused_before_any_run(
    tmp_path, executor
) -> None:
    """`python -` reads the code from stdin: like a notebook cell, no file a worker could
    import. Serially the proxy runs; with workers it is refused in one line, saying why and
    what to do, before any store is opened."""
    if executor == "dask":
        pytest.importorskip("distributed")
    db = tmp_path / "nb.db"
    done = subprocess.run(
        [sys.executable, "-"],
        input=NOTEBOOK.format(db=db, executor=executor),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "4"  # serially: 2 runs x 2 trials
    refusal = lines[-1]
    assert refusal.startswith("refused: proxy 'num-conv' is registered in this notebook"), refusal
    assert "cannot import" in refusal and "executor='serial'" in refusal
    assert "plugin" in refusal
    assert not Path(f"{db}2").exists()


def test_a_pending_darts_result_prints_the_evaluate_command_that_fills_it(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'darts.db'}"
    argv = ["run", "--method", "random", "--benchmark", "darts-cifar100", "--seeds", "1"]
    code, out, err = cli(capsys, *argv, "--trials", "3", "--proxy", "params", "--storage", url)
    assert code == 0, err
    assert "pending" in out
    command = f"harness evaluate --method random --benchmark darts-cifar100 --storage {url}"
    assert f"  {command}" in out.splitlines()
    code, out, err = cli(capsys, "report", "--storage", url)
    assert code == 0 and f"  {command}" in out.splitlines()  # the report says it too
    code, out, err = cli(capsys, *RUN, "--storage", f"sqlite:///{tmp_path / 'nb.db'}")
    assert code == 0 and "harness evaluate" not in out  # a table's result is never pending


def test_a_run_whose_stderr_is_not_a_terminal_draws_no_bar_and_logs_what_it_decides(
    tmp_path, capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    code, out, err = cli(capsys, *RUN, "--storage", url)
    assert code == 0
    for mark in ("\r", "it/s", "trial/s", "search:"):
        assert mark not in out + err, mark
    log_file = tmp_path / "logs" / "run.log"
    code, out, err = cli(capsys, *RUN, "--storage", url, "-v", "--log-file", str(log_file))
    assert code == 0 and "already complete in the store, skipped" in err
    assert "skipped" in log_file.read_text() and "DEBUG harness.runner" in log_file.read_text()
    code, out, err = cli(capsys, *RUN, "--storage", url, "-q")
    assert code == 0 and err == ""
    code, out, err = cli(capsys, *RUN, "--storage", url, "--progress")
    assert code == 0 and "trial" in err  # asked for: the bar is drawn anyway


def test_a_lease_takeover_is_logged(tmp_path, caplog) -> None:
    import logging
    import socket

    from harness.leases import claim
    from harness.runner import make_plan
    from harness.store import open_store

    spec = make_plan(["random"], ["nb201-cifar10"], seeds=1, trials=2).runs[0]
    store = open_store(f"sqlite:///{tmp_path / 'lease.db'}")
    try:
        store.start_run(spec.run_id, dict(method="random", benchmark="nb201-cifar10",
                        proxy="lookup-12", strategy="random", repetition=0, seed=1), {})  # fmt: skip
        dead = f"{socket.gethostname()}:{2**22 + 12345}:gone"  # above any pid_max: no process
        assert store.claim_run(spec.run_id, dead, 60) is None
        with caplog.at_level(logging.INFO, logger="harness"):
            lease = claim(store, spec.run_id, "me:1:x", 60)
        lease.stop()  # type: ignore[union-attr]
    finally:
        store.close()
    assert any("took over the lease of " + dead in r.getMessage() for r in caplog.records)


def test_correlate_prints_the_proxies_asked_for_and_labels_the_reference_rows(capsys) -> None:
    code, out, err = cli(capsys, "correlate", "--proxy", "params,naswot", "--sample", "5")
    assert code == 0, err
    asked, _, reference = out.partition("\n\n")
    rows = asked.strip().splitlines()
    assert rows[0].split()[0] == "proxy" and "budget" not in rows[0]
    assert [r.split()[0] for r in rows[1:]] == ["params", "naswot"]
    assert reference.startswith("reference rows, not proxies asked for")
    assert "lookup-12" in reference and "params (table)" in reference and "None" not in out
