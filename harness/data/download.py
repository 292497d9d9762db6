"""Fetch an official CIFAR archive: stream, verify md5, extract safely, move into place.

Nothing half-written is left behind: the archive streams to a temp file in the root and is
extracted into a temp folder there; only a verified, fully extracted folder is renamed to its
final name (an atomic rename on one filesystem).
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness import HarnessError


@dataclass(frozen=True)
class Archive:
    url: str
    md5: str
    folder: str  # the top-level folder inside the archive


ARCHIVES: dict[str, Archive] = {
    "cifar10": Archive(
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "c58f30108f718f92721af3b95e74349a",
        "cifar-10-batches-py",
    ),
    "cifar100": Archive(
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "eb9058c3a382ffc7106e4002c42a8d85",
        "cifar-100-python",
    ),
}
CHUNK = 1 << 20


def _stream(url: str, dest: Path, timeout: float) -> str:
    """Write the body of `url` to `dest`; return its md5. Raises HarnessError on any failure."""
    md5 = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
            expected = resp.headers.get("Content-Length")
            size = 0
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                md5.update(chunk)
                size += len(chunk)
            if expected is not None and size != int(expected):
                raise HarnessError(f"download of {url} stopped at {size} of {expected} bytes")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        raise HarnessError(f"download of {url} failed: {err}") from None
    return md5.hexdigest()


def _safe_members(tar: tarfile.TarFile, folder: str) -> list[tarfile.TarInfo]:
    members = []
    for m in tar.getmembers():
        parts = PurePosixPath(m.name).parts
        if m.name.startswith("/") or ".." in parts or not parts or parts[0] != folder:
            raise HarnessError(f"archive member {m.name!r} is outside {folder}/: refusing it")
        if not (m.isfile() or m.isdir()):
            raise HarnessError(f"archive member {m.name!r} is a link or device: refusing it")
        members.append(m)
    return members


def download(
    dataset: str,
    root: str | Path,
    url: str | None = None,
    md5: str | None = None,
    timeout: float = 60.0,
    force: bool = False,
) -> Path:
    """Download and extract `dataset` under `root`; return the extracted folder."""
    if dataset not in ARCHIVES:
        raise HarnessError(f"unknown dataset {dataset!r} (known: {', '.join(ARCHIVES)})")
    spec = ARCHIVES[dataset]
    url, md5 = url or spec.url, (md5 or spec.md5).lower()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / spec.folder
    if final.exists() and not force:
        return final
    name = PurePosixPath(url).name or f"{dataset}.tar.gz"
    part = Path(tempfile.mkstemp(dir=root, prefix=f".{name}.", suffix=".part")[1])
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{spec.folder}."))
    try:
        got = _stream(url, part, timeout)
        if got != md5:
            raise HarnessError(f"checksum mismatch for {name}: md5 {got}, expected {md5}")
        try:
            with tarfile.open(part, "r:gz") as tar:
                members = _safe_members(tar, spec.folder)
                tar.extractall(staging, members=members, filter="data")
        except (tarfile.TarError, OSError, EOFError) as err:
            raise HarnessError(f"cannot extract {name}: {err}") from None
        if not (staging / spec.folder).is_dir():
            raise HarnessError(f"archive {name} holds no {spec.folder}/ folder")
        if final.exists():
            shutil.rmtree(final)
        (staging / spec.folder).replace(final)
    finally:
        part.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return final
