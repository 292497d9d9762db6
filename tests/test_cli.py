from __future__ import annotations

import io
import sqlite3

import pandas as pd
import pytest
from cli_helpers import harness

REQUIRED_REPORT_COLUMNS = (
    "benchmark,method,n_seeds,test_acc_mean,test_acc_std,regret_mean,"
    "labels_used_mean,simulated_seconds_mean,wall_seconds_mean"
).split(",")


def test_run_report_export_end_to_end(capsys, store_url):
    code, out, _ = harness(
        capsys,
        "run",
        "--method",
        "tpe,random",
        "--benchmark",
        "nb201-cifar10",
        "--benchmark",
        "nb201-imagenet16",
        "--seeds",
        "2",
        "--trials",
        "10",
        "--storage",
        store_url,
        "--quiet",
    )
    assert code == 0
    assert "tpe" in out and "nb201-imagenet16" in out
    code, out, _ = harness(capsys, "report", "--storage", store_url, "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out.split("\n\n")[0]))
    assert set(REQUIRED_REPORT_COLUMNS) <= set(table.columns)
    assert len(table) == 4 and (table.n_seeds == 2).all()
    code, out, _ = harness(capsys, "export", "--storage", store_url, "--format", "csv")
    rows = pd.read_csv(io.StringIO(out))
    assert len(rows) == 2 * 2 * 2 * 10
    for col in (
        "method",
        "benchmark",
        "seed",
        "arch_key",
        "score",
        "truth",
        "best_truth",
        "labels_used",
        "simulated_s",
        "wall_s",
        "direction",
    ):
        assert col in rows.columns
    # a store of search runs only: no trained cells is an empty table, not an error (the
    # report guide's export example found this)
    code, out, err = harness(capsys, "export", "--storage", store_url, "--evaluations")
    assert code == 0, err
    empty = pd.read_csv(io.StringIO(out))
    assert len(empty) == 0 and "test_acc" in empty.columns
    code, out, err = harness(capsys, "export", "--storage", store_url, "--curves")
    assert code == 0, err
    empty = pd.read_csv(io.StringIO(out))  # a header, no rows (it printed nothing)
    assert len(empty) == 0 and {"eval_id", "epoch", "test_acc"} <= set(empty.columns)


def test_list_prints_every_registry(capsys):
    from harness.benchmarks import BENCHMARKS
    from harness.methods import METHODS
    from harness.proxies import PROXIES
    from harness.strategies import STRATEGIES

    code, out, _ = harness(capsys, "list")
    assert code == 0
    for registry in (BENCHMARKS, METHODS, PROXIES, STRATEGIES):
        for name in registry.names():
            assert name in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "--method", "magic", "--seeds", "1"], "unknown method 'magic'"),
        (["run", "--method", "tpe", "--benchmark", "nb201-svhn"], "unknown benchmark 'nb201-svhn'"),
        (["run", "--method", "tpe", "--proxy", "oracle"], "unknown proxy 'oracle'"),
        (["run", "--method", "tpe", "--seeds", "0"], "--seeds"),
        (["run", "--method", "tpe", "--seeds", "-3"], "--seeds"),
        (["run", "--method", "tpe", "--seeds", "two"], "'two' is not a valid integer"),
        (["run", "--method", "tpe", "--storage", "harness.db"], "not a database URL"),
        (["run", "--method", "tpe", "--table", "/nonexistent/table.npz"], "table.npz"),
        (["report", "--storage", "sqlite:////nonexistent/dir/x.db"], "no store"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle, store_url):
    if "--storage" not in argv:
        argv = [*argv, "--storage", store_url]
    code, _out, err = harness(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0]


def test_bad_input_leaves_an_existing_store_as_it_was(capsys, store_url, tmp_path):
    assert (
        harness(
            capsys,
            "run",
            "--method",
            "random",
            "--seeds",
            "1",
            "--trials",
            "4",
            "--storage",
            store_url,
            "--quiet",
        )[0]
        == 0
    )
    db = tmp_path / "harness.db"

    def snapshot():
        con = sqlite3.connect(db)
        rows = con.execute(
            "select run_id, number, arch, score from trials order by 1, 2"
        ).fetchall()
        runs = con.execute("select run_id, status from runs").fetchall()
        con.close()
        return rows, runs

    before = snapshot()
    for argv in (
        ["--method", "nope"],
        ["--method", "tpe", "--seeds", "0"],
        ["--method", "tpe", "--proxy", "nope"],
        ["--method", "tpe", "--set", "x"],
    ):
        code, _, _ = harness(capsys, "run", *argv, "--storage", store_url, "--quiet")
        assert code == 2
    assert snapshot() == before


def test_wrong_schema_storage_is_rejected_untouched(capsys, tmp_path):
    path = tmp_path / "notes.db"
    con = sqlite3.connect(path)
    con.execute("create table notes (t text)")
    con.commit()
    con.close()
    before = path.read_bytes()
    code, _, err = harness(
        capsys,
        "run",
        "--method",
        "tpe",
        "--seeds",
        "1",
        "--trials",
        "2",
        "--storage",
        f"sqlite:///{path}",
        "--quiet",
    )
    assert code == 2 and "harness schema" in err
    assert path.read_bytes() == before


def test_rerun_reports_completed_runs_and_adds_nothing(capsys, store_url):
    argv = ["run", "--method", "rea", "--seeds", "2", "--trials", "5", "--storage", store_url]
    assert harness(capsys, *argv, "--quiet")[0] == 0
    code, _out, err = harness(capsys, *argv)
    assert code == 0 and "0 of 2 runs executed here, 2 already complete" in err
    code, out, _ = harness(capsys, "export", "--storage", store_url)
    assert len(pd.read_csv(io.StringIO(out))) == 10


def test_cli_format_names_match_the_renderers():
    from harness.cli.report import FORMATS as CLI_FORMATS
    from harness.report.tables import FORMATS

    assert CLI_FORMATS == FORMATS
