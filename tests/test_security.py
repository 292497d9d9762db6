"""Files a user points the harness at cannot run code; passwords never leave the process."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import HarnessError
from harness.data.cifar import load_images


def _batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"training batch",
        b"labels": [int(x) for x in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img{i}.png".encode() for i in range(n)],
    }


def _write(root: Path, protocol: int, first: bytes | None = None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        (root / f"data_batch_{i}").write_bytes(pickle.dumps(_batch(4, i), protocol=protocol))
    (root / "test_batch").write_bytes(pickle.dumps(_batch(3, 9), protocol=protocol))
    if first is not None:
        (root / "data_batch_1").write_bytes(first)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_official_layout_loads_through_the_restricted_unpickler(tmp_path, protocol):
    _write(tmp_path / "cifar-10-batches-py", protocol)
    data = load_images(tmp_path)
    assert data.x_train.shape == (20, 32, 32, 3)
    assert data.x_train[0, 0, 1, 0] == _batch(4, 1)[b"data"][0][1]


class _Payload:
    """What an attacker plants: unpickling it would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({b"data": _Payload(marker), b"labels": []}, protocol=2)
    _write(tmp_path / "cifar-10-batches-py", 2, first=evil)
    with pytest.raises(HarnessError) as err:
        load_images(tmp_path)
    message = str(err.value)
    assert "refusing to read CIFAR batch" in message and "system" in message
    assert "data_batch_1" in message and "\n" not in message
    assert not marker.exists()
    # and through the command line: one line, exit 2, nothing ran
    code = (
        "import sys; from harness.cli import main; "
        f"main(['correlate', '--proxy', 'supervised', '--set', 'data={tmp_path}', "
        "'--sample', '2', '--profile', 'smoke'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "refusing to read CIFAR batch" in out.stderr
    assert not marker.exists()


def test_passwords_stay_out_of_errors_and_manifests(postgres_server, tmp_path):
    """Trust authentication on the test server ignores the password, so a URL with one works
    end to end: neither the summary, the manifests nor any error shows it."""
    import sqlalchemy as sa

    admin = sa.create_engine(
        postgres_server.get_uri(driver="psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE secret_test")
    admin.dispose()
    url = str(
        sa.engine.make_url(postgres_server.get_uri(database="secret_test", driver="psycopg")).set(
            password="hunter2-secret"
        )
    ).replace("***", "hunter2-secret")
    assert "hunter2-secret" in url
    cli = [sys.executable, "-m", "harness.cli"]
    run = subprocess.run(
        [*cli, "run", "--method", "random", "--seeds", "1", "--trials", "3", "--storage", url],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    exported = subprocess.run(
        [*cli, "export", "--manifests", "--storage", url], capture_output=True, text=True
    )
    assert exported.returncode == 0 and "--storage" in exported.stdout
    for text in (run.stdout, run.stderr, exported.stdout):
        assert "hunter2-secret" not in text
    assert "***" in exported.stdout  # the argv in the manifest, redacted
    bad = url.replace("/secret_test", "/no_such_db")
    failed = subprocess.run([*cli, "report", "--storage", bad], capture_output=True, text=True)
    assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1
    assert "hunter2-secret" not in failed.stderr and "***" in failed.stderr
