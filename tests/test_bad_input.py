"""Bad input, everywhere: every command with bad values (negative, zero, huge, wrong type,
unwritable or missing paths, garbage files, unreachable servers) answers with one line naming
the input and exit code 2, never shows a password, and leaves the store as it was."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from harness.cli import main

SECRET = "s3cr3t-pw"
PG = f"postgresql+psycopg://alice:{SECRET}@127.0.0.1:1/results"  # nothing listens on port 1
RO = "/proc/harness-nope"  # not creatable, even by root

RUN = ["run", "--method", "random", "--trials", "3", "--seeds", "1", "--quiet"]
CASES = [
    # run: counts, seeds, numbers, executors, storage, files
    ([*RUN, "--seeds", "99999999999999999999"], "--seeds"),
    ([*RUN, "--seeds", "0"], "--seeds"),
    ([*RUN, "--seeds", "-4"], "--seeds"),
    ([*RUN, "--seeds", "three"], "--seeds"),
    ([*RUN, "--master-seed", "-3"], "--master-seed"),
    ([*RUN, "--master-seed", str(2**64)], "--master-seed"),
    ([*RUN, "--trials", "0"], "--trials"),
    ([*RUN, "--trials", "100000000000"], "--trials"),
    ([*RUN, "--trials", "1.5"], "--trials"),
    ([*RUN, "--budget-seconds", "-1"], "--budget-seconds"),
    ([*RUN, "--budget-seconds", "nan"], "--budget-seconds"),
    ([*RUN, "--budget-seconds", "inf"], "--budget-seconds"),
    ([*RUN, "--workers", "0"], "--workers"),
    ([*RUN, "--workers", "100000"], "--workers"),
    ([*RUN, "--lease-seconds", "0"], "--lease-seconds"),
    ([*RUN, "--executor", "ray"], "--executor"),
    ([*RUN, "--executor", "process", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    ([*RUN, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"], "tcp://127.0.0.1:1"),
    ([*RUN, "--method", "nope"], "nope"),
    ([*RUN, "--benchmark", "nb201-mnist"], "nb201-mnist"),
    ([*RUN, "--set", "epochs"], "--set"),
    (["run", "--method", "csnas", "--profile", "huge", "--seeds", "1", "--quiet"], "huge"),
    ([*RUN, "--table", "{JUNK}"], "{JUNK}"),
    ([*RUN, "--table", "{MISSING}"], "{MISSING}"),
    ([*RUN, "--storage", PG], "127.0.0.1:1"),
    ([*RUN, "--storage", f"mysql://bob:{SECRET}@localhost/db"], "mysql"),
    ([*RUN, "--storage", "results.db"], "results.db"),
    ([*RUN, "--storage", "sqlite:///{JUNK}"], "{JUNK}"),
    ([*RUN, "--storage", "sqlite:///{DIR}"], "{DIR}"),
    # export, report, figures: storage, output paths, numbers
    (["export", "--out", f"{RO}/trials.csv"], "--out"),
    (["export", "--storage", "sqlite:///{MISSING}"], "{MISSING}"),
    (["export", "--storage", PG], "127.0.0.1:1"),
    (["export", "--format", "xml"], "--format"),
    (["report", "--out", f"{RO}/report.txt"], "--out"),
    (["report", "--storage", PG], "127.0.0.1:1"),
    (["report", "--versus", "nope"], "nope"),
    (["report", "--seed", "x"], "--seed"),
    (["figures", "--out", RO], "--out"),
    (["figures", "--out", "{JUNK}"], "--out"),
    (["figures", "--dpi", "0"], "--dpi"),
    (["figures", "--dpi", "-5"], "--dpi"),
    (["figures", "--correlate", "{MISSING}"], "--correlate"),
    (["figures", "--storage", PG], "127.0.0.1:1"),
    # bench grid, correlate, bench proxies, data
    (["bench", "grid", "--seeds", "0"], "--seeds"),
    (["bench", "grid", "--trials", "-1"], "--trials"),
    (["bench", "grid", "--workers", "0"], "--workers"),
    (["bench", "grid", "--executors", "ray"], "--executors"),
    (["bench", "grid", "--gp-trials", "0"], "--gp-trials"),
    (["correlate", "--sample", "0"], "--sample"),
    (["correlate", "--sample", "-3"], "--sample"),
    (["correlate", "--seeds", "0"], "--seeds"),
    (["correlate", "--steps", "x"], "--steps"),
    (["correlate", "--storage", PG, "--sample", "2"], "127.0.0.1:1"),
    (["correlate", "--out", RO, "--sample", "2"], "--out"),
    (["correlate", "--benchmark", "nope"], "nope"),
    (["bench", "proxies", "--cells", "0"], "--cells"),
    (["bench", "proxies", "--paper-epochs", "-1"], "--paper-epochs"),
    (["data", "download", "mnist", "--root", "x"], "mnist"),
    (["list", "--bogus"], "--bogus"),
]
STORE_COMMANDS = ("run", "export", "report", "figures")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad-input")
    (root / "junk.bin").write_bytes(b"not a database, not a table, not images\n" * 50)
    (root / "folder").mkdir()
    store = root / "store.db"
    main_ok(["run", "--method", "random", "--seeds", "1", "--trials", "3", "--quiet",
             "--storage", f"sqlite:///{store}"])  # fmt: skip
    return {"JUNK": root / "junk.bin", "MISSING": root / "absent.npz", "DIR": root / "folder",
            "STORE": store}  # fmt: skip


def main_ok(argv: list[str]) -> None:
    try:
        main(argv)
    except SystemExit as exc:
        assert not exc.code, exc.code


def _dump(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


@pytest.mark.parametrize(("argv", "names"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_value_is_one_line_exit_2_no_password_store_unchanged(argv, names, files, capsys):
    subst = {k: str(v) for k, v in files.items()}
    argv = [a.format(**subst) if "{" in a else a for a in argv]
    names = names.format(**subst)
    if argv[0] in STORE_COMMANDS and "--storage" not in argv:
        argv = [*argv, "--storage", f"sqlite:///{files['STORE']}"]
    before = _dump(files["STORE"])
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert exc.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert names in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert SECRET not in err + out
    assert _dump(files["STORE"]) == before
