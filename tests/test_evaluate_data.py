"""Data for `harness evaluate`: CIFAR-100 from a checksummed archive to a trained cell; the
class count checked against the benchmark; the shipped sample refused outside smoke runs."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import harness

from harness.data.cifar import sample_path
from harness.store import open_store

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
TINY = ["--set", "C=4", "--set", "N=1", "--set", "batch_size=16", "--threads", "1", "--quiet"]


def _cifar100_archive(path: Path, n_train: int = 40, n_test: int = 20) -> Path:
    """An archive in the official cifar-100-python layout (pickled dicts, fine labels)."""
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, n in (("train", n_train), ("test", n_test)):
            blob = pickle.dumps(
                {
                    b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                    b"fine_labels": [int(i % 100) for i in range(n)],
                }
            )
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    path.write_bytes(buf.getvalue())
    return path


def test_cifar100_download_then_evaluate(capsys, tmp_path: Path) -> None:
    archive = _cifar100_archive(tmp_path / "c100.tar.gz")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    url = archive.as_uri()
    root = tmp_path / "data"
    code, _, err = harness(capsys, "data", "download", "cifar100", "--root", str(root),
                           "--url", url)  # fmt: skip
    assert code == 2 and "eb9058c3a382ffc7106e4002c42a8d85" in err  # the official md5 by default
    code, out, _ = harness(capsys, "data", "download", "cifar100", "--root", str(root),
                           "--url", url, "--md5", md5)  # fmt: skip
    folder = root / "cifar-100-python"
    assert code == 0 and f"--set data={folder}" in out
    store = f"sqlite:///{tmp_path / 'h.db'}"
    code, out, err = harness(
        capsys, "evaluate", "--arch", ARCH, "--benchmark", "nb201-cifar100", "--profile",
        "quick", "--epochs", "1", "--set", f"data={root}", "--storage", store, *TINY,
    )  # fmt: skip
    assert code == 0, err
    assert "note: 40 train / 20 test images: not the full CIFAR splits" in out
    s = open_store(store, create=False)
    [row] = s.cell_evaluations()
    s.close()
    assert row["settings"]["data"] == str(root.resolve()) and row["manifest"]["test_images"] == 20
    assert row["manifest"]["train_images"] == 40


def test_class_count_must_match_the_benchmark(capsys, tmp_path: Path) -> None:
    npz = tmp_path / "c10.npz"
    rng = np.random.default_rng(0)
    np.savez(
        npz,
        x_train=rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8),
        y_train=np.arange(20) % 10,
        x_test=rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8),
        y_test=np.arange(10) % 10,
    )
    store = f"sqlite:///{tmp_path / 'h.db'}"
    code, _, err = harness(
        capsys, "evaluate", "--arch", ARCH, "--benchmark", "nb201-cifar100", "--profile",
        "quick", "--epochs", "1", "--set", f"data={npz}", "--storage", store, *TINY,
    )  # fmt: skip
    assert code == 2 and "holds 10 classes, the benchmark 100" in err


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_the_sample_by_its_path_is_still_smoke_only(capsys, tmp_path: Path, profile) -> None:
    store = f"sqlite:///{tmp_path / 'h.db'}"
    code, _, err = harness(
        capsys, "evaluate", "--arch", ARCH, "--benchmark", "nb201-cifar10", "--profile",
        profile, "--set", f"data={sample_path()}", "--storage", store, *TINY,
    )  # fmt: skip
    assert code == 2 and f"for --profile smoke only, not {profile}" in err
