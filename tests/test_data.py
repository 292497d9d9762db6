"""Image data: loaders for every layout, the shipped sample, augmentation, safe download."""

from __future__ import annotations

import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from harness import HarnessError
from harness.data import load_images, locate_cifar10, sample_path
from harness.data.augment import Augment, hflip, random_grayscale, random_resized_crop
from harness.data.download import download

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10" / "cifar10-subset.npz"


def _fake_batch(n: int, seed: int, key: bytes = b"labels", classes: int = 10) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        key: rng.integers(0, classes, size=n).tolist(),
    }


def _write_cifar10(root: Path) -> dict[str, dict]:
    root.mkdir(parents=True)
    batches = {f"data_batch_{i}": _fake_batch(4, i) for i in range(1, 6)}
    batches["test_batch"] = _fake_batch(3, 9)
    for name, b in batches.items():
        (root / name).write_bytes(pickle.dumps(b))
    return batches


def test_loads_official_cifar10_layout(tmp_path: Path) -> None:
    batches = _write_cifar10(tmp_path / "cifar-10-batches-py")
    data = load_images(tmp_path)  # the root holding the folder works too
    assert data.x_train.shape == (20, 32, 32, 3) and data.x_test.shape == (3, 32, 32, 3)
    first = batches["data_batch_1"][b"data"][0]
    # row layout is 1024 R, then G, then B values in row-major order
    assert data.x_train[0, 0, 1, 0] == first[1]
    assert data.x_train[0, 0, 0, 2] == first[2048]
    assert data.x_train[0, 31, 31, 1] == first[2047]
    assert data.y_train.dtype == np.int64
    assert data.y_train[4:8].tolist() == batches["data_batch_2"][b"labels"]


def test_loads_official_cifar100_layout(tmp_path: Path) -> None:
    root = tmp_path / "cifar-100-python"
    root.mkdir()
    for name, n in (("train", 6), ("test", 2)):
        (root / name).write_bytes(pickle.dumps(_fake_batch(n, n, b"fine_labels", 100)))
    data = load_images(root)
    assert data.num_classes == 100 and data.x_train.shape == (6, 32, 32, 3)
    assert data.mean != load_images().mean


def test_npz_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.zeros((2, 32, 32, 3), np.uint8))
    with pytest.raises(HarnessError, match="lacks array"):
        load_images(bad)
    with pytest.raises(HarnessError, match="does not exist"):
        load_images(tmp_path / "nope.npz")


def test_shipped_sample_is_balanced_real_cifar10() -> None:
    data = load_images(sample_path())
    assert data.x_train.shape == (800, 32, 32, 3) and data.x_test.shape == (250, 32, 32, 3)
    assert np.bincount(data.y_train).tolist() == [80] * 10
    assert np.bincount(data.y_test).tolist() == [25] * 10
    assert sample_path().stat().st_size < 3e6
    digest = hashlib.sha256(data.x_train.tobytes()).hexdigest()
    assert digest == "caa139e8ca32f3d5293ad79609af0959bdab95e1999438d6fa51f963d4c7cec8"


def test_locate_prefers_explicit_then_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HARNESS_CIFAR10", raising=False)
    assert locate_cifar10() == sample_path()
    monkeypatch.setenv("HARNESS_CIFAR10", str(tmp_path / "env.npz"))
    assert locate_cifar10() == tmp_path / "env.npz"
    assert locate_cifar10(tmp_path / "x.npz") == tmp_path / "x.npz"
    assert locate_cifar10("sample") == sample_path()


def test_shared_subset_if_present(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    path = os.environ.get("HARNESS_CIFAR10") or (str(SHARED) if SHARED.exists() else None)
    if path is None:
        pytest.skip("no CIFAR-10 data (set HARNESS_CIFAR10)")
    data = load_images(path)
    assert data.x_train.shape[1:] == (32, 32, 3) and data.num_classes == 10
    if Path(path).resolve() == SHARED.resolve():
        assert np.bincount(data.y_train).tolist() == [1000] * 10
        mean = (data.x_train / 255.0).mean((0, 1, 2))
        np.testing.assert_allclose(mean, [0.4913, 0.4827, 0.4464], atol=1e-3)


# --- augmentation -------------------------------------------------------------------------


def _images(n: int = 16) -> torch.Tensor:
    x = torch.from_numpy(load_images(sample_path()).x_train[:n])
    return x.permute(0, 3, 1, 2).contiguous()


@pytest.mark.parametrize("kind", ["strong", "weak"])
def test_augment_is_seeded_and_shaped(kind: str) -> None:
    aug = Augment(kind, 24, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    x = _images()
    a = aug(x, torch.Generator().manual_seed(3))
    b = aug(x, torch.Generator().manual_seed(3))
    c = aug(x, torch.Generator().manual_seed(4))
    assert a.shape == (16, 3, 24, 24) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= -2.0 - 1e-6 and a.max() <= 2.0 + 1e-6  # [0,1] normalised by 0.5/0.25


def test_flip_and_grayscale_per_image() -> None:
    x = _images().float() / 255
    y = hflip(x, torch.Generator().manual_seed(0), p=0.5)
    flipped = [torch.equal(y[i], x[i].flip(2)) for i in range(len(x))]
    kept = [torch.equal(y[i], x[i]) for i in range(len(x))]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    g = random_grayscale(x, torch.Generator().manual_seed(0), p=1.0)
    assert torch.allclose(g[:, 0], g[:, 1]) and torch.allclose(g[:, 1], g[:, 2])
    expected = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    assert torch.allclose(g[:, 0], expected, atol=1e-6)


def test_resized_crop_geometry() -> None:
    x = _images(4).float() / 255
    gen = torch.Generator().manual_seed(0)
    full = random_resized_crop(x, 32, gen, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert torch.allclose(full, x, atol=1e-6)  # the whole image, unresized, is the identity
    mirrored = random_resized_crop(x, 32, gen, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_p=1.0)
    assert torch.allclose(mirrored, x.flip(3), atol=1e-6)
    # a quarter-area crop of a left/right split image sees a single half most of the time
    half = torch.zeros(64, 3, 32, 32)
    half[..., 16:] = 1.0
    crops = random_resized_crop(half, 8, gen, scale=(0.04, 0.04), ratio=(1.0, 1.0))
    means = crops.mean((1, 2, 3))
    assert ((means < 0.05) | (means > 0.95)).float().mean() > 0.5


# --- download -----------------------------------------------------------------------------


def _archive(tmp_path: Path, evil: bool = False) -> bytes:
    src = tmp_path / "src"
    _write_cifar10(src / "cifar-10-batches-py")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        if evil:
            info = tarfile.TarInfo("cifar-10-batches-py/../../escape.txt")
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    return buf.getvalue()


@pytest.fixture
def server() -> Iterator[dict]:
    """Serve `files[path] = bytes` on 127.0.0.1; a path in `truncate` sends half and hangs up."""
    state: dict = {"files": {}, "truncate": set()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state["files"].get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in state["truncate"]:
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state["base"] = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    httpd.shutdown()
    httpd.server_close()


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_download_verifies_and_extracts(server: dict, tmp_path: Path) -> None:
    body = _archive(tmp_path)
    server["files"]["/c10.tar.gz"] = body
    root = tmp_path / "data"
    md5 = hashlib.md5(body).hexdigest()
    out = download("cifar10", root, url=server["base"] + "/c10.tar.gz", md5=md5)
    assert out == root / "cifar-10-batches-py"
    assert _leftovers(root) == ["cifar-10-batches-py"]
    assert load_images(root).x_train.shape == (20, 32, 32, 3)


def test_download_checksum_mismatch_leaves_nothing(server: dict, tmp_path: Path) -> None:
    body = bytearray(_archive(tmp_path))
    body[len(body) // 2] ^= 0xFF  # corrupted in transit
    server["files"]["/c10.tar.gz"] = bytes(body)
    root = tmp_path / "data"
    good = hashlib.md5(_archive(tmp_path / "again")).hexdigest()
    with pytest.raises(HarnessError, match=r"checksum mismatch for c10\.tar\.gz"):
        download("cifar10", root, url=server["base"] + "/c10.tar.gz", md5=good)
    assert _leftovers(root) == []
    # and the default (official) md5 applies when none is given
    with pytest.raises(HarnessError, match="c58f30108f718f92721af3b95e74349a"):
        download("cifar10", root, url=server["base"] + "/c10.tar.gz")


def test_download_broken_connection_and_404(server: dict, tmp_path: Path) -> None:
    body = _archive(tmp_path)
    server["files"]["/cut.tar.gz"] = body
    server["truncate"].add("/cut.tar.gz")
    root = tmp_path / "data"
    with pytest.raises(HarnessError, match=r"cut\.tar\.gz"):
        download("cifar10", root, url=server["base"] + "/cut.tar.gz", md5="0" * 32)
    with pytest.raises(HarnessError, match=r"missing\.tar\.gz"):
        download("cifar10", root, url=server["base"] + "/missing.tar.gz")
    assert _leftovers(root) == []


def test_download_refuses_path_traversal(server: dict, tmp_path: Path) -> None:
    body = _archive(tmp_path, evil=True)
    server["files"]["/evil.tar.gz"] = body
    root = tmp_path / "data"
    with pytest.raises(HarnessError, match=r"escape\.txt"):
        download(
            "cifar10", root, url=server["base"] + "/evil.tar.gz", md5=hashlib.md5(body).hexdigest()
        )
    assert _leftovers(root) == [] and not (tmp_path / "escape.txt").exists()


def test_download_unknown_dataset(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="unknown dataset 'mnist'"):
        download("mnist", tmp_path)


def test_download_cli(server: dict, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harness.cli.data import data as data_cmd

    body = _archive(tmp_path)
    server["files"]["/c10.tar.gz"] = body
    url = server["base"] + "/c10.tar.gz"
    root = tmp_path / "root"
    runner = CliRunner()
    args = ["download", "cifar10", "--root", str(root), "--url", url]
    result = runner.invoke(data_cmd, [*args, "--md5", hashlib.md5(body).hexdigest()])
    assert result.exit_code == 0, result.output
    assert "cifar-10-batches-py" in result.output
    bad = runner.invoke(data_cmd, [*args, "--md5", "0" * 32, "--force"])
    assert isinstance(bad.exception, HarnessError) and "checksum mismatch" in str(bad.exception)
    assert _leftovers(root) == ["cifar-10-batches-py"]  # the good copy survives a bad retry
