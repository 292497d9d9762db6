"""Writing result files: one clear error line naming the option, never a traceback."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from harness import HarnessError


def writable_dir(path: str | Path, flag: str) -> Path:
    """`path` as a folder that exists (created) and can be written, or one clear error."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / f".harness-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise HarnessError(f"cannot write {flag} {p}: {err.strerror or err}") from None
    return p


def write_text(path: str | Path, text: str, flag: str = "--out") -> Path:
    """Write a result file, or fail with one line naming the option and the reason."""
    p = Path(path)
    try:
        if p.parent != Path():
            p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    except OSError as err:
        raise HarnessError(f"cannot write {flag} {p}: {err.strerror or err}") from None
    return p


def write_chunks(path: str | Path, chunks: Iterable[str], flag: str = "--out") -> Path:
    """`write_text` for text produced a piece at a time (an export of millions of rows):
    nothing whole is held in memory."""
    p = Path(path)
    try:
        if p.parent != Path():
            p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("w") as f:
            for chunk in chunks:
                f.write(chunk)
    except OSError as err:
        raise HarnessError(f"cannot write {flag} {p}: {err.strerror or err}") from None
    return p
