"""The compact NAS-Bench-201 table (package data), loaded once per process.

Derived from the offline NB201 tables by `scripts/derive_nb201_table.py`; a different file can
be given with the `HARNESS_NB201_TABLE` environment variable or `load_table(path)`.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness import HarnessError
from harness.assets import NB201_TABLE

REQUIRED = (
    "ops",
    "unique_group",
    "c10valid_valid_acc_12",
    "c10valid_valid_acc_200",
    "c10_test_acc_200",
    "c100_valid_acc_12",
    "c100_valid_acc_200",
    "c100_test_acc_200",
    "img16_valid_acc_12",
    "img16_valid_acc_200",
    "img16_test_acc_200",
    "params_c10_M",
    "flops_c10_M",
    "nats_c10valid_train_time_per_epoch_s_200",
)


@dataclass(frozen=True)
class NB201Table:
    path: Path
    sha256: str
    columns: dict[str, np.ndarray]
    meta: dict

    @property
    def ops(self) -> np.ndarray:
        return self.columns["ops"]

    def __getitem__(self, column: str) -> np.ndarray:
        try:
            return self.columns[column]
        except KeyError:
            raise HarnessError(f"NB201 table {self.path} has no column {column!r}") from None

    def __len__(self) -> int:
        return len(self.ops)


def table_path(path: str | Path | None = None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get("HARNESS_NB201_TABLE")
    return Path(env) if env else NB201_TABLE


def load_table(path: str | Path | None = None) -> NB201Table:
    """Load and check the table; a missing, unreadable or wrong-schema file is a HarnessError."""
    return _load_named(str(table_path(path)))


_STAMPS: dict[str, tuple[int, int]] = {}


def reload_if_changed(path: str | Path) -> NB201Table:
    """The table at `path`, read again if the file changed since it was loaded (a long-lived
    process, e.g. a notebook, must not keep serving an old file's values). Lookups keep using
    `load_table`, which does not stat the file on every call."""
    name = str(table_path(path))
    try:
        st = Path(name).stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (0, 0)
    if _STAMPS.get(name) not in (None, stamp):
        _load_named.cache_clear()
        _load.cache_clear()
    _STAMPS[name] = stamp
    return load_table(name)


@lru_cache(maxsize=8)
def _load_named(name: str) -> NB201Table:
    # lookups call this several times per trial: keep the path resolution off that hot path
    return _load(Path(name).resolve())


@lru_cache(maxsize=4)
def _load(path: Path) -> NB201Table:
    try:
        raw = path.read_bytes()
        with np.load(path, allow_pickle=False) as npz:
            columns = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise HarnessError(f"cannot read NB201 table {path}: {err}") from None
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise HarnessError(f"NB201 table {path} lacks columns: {', '.join(missing)}")
    n = len(columns["ops"])
    if columns["ops"].shape != (15625, 6) or any(
        len(columns[k]) != n for k in REQUIRED if k != "ops"
    ):
        raise HarnessError(f"NB201 table {path} does not hold 15,625 rows of 6 edges")
    meta = json.loads(str(columns.pop("meta_json"))) if "meta_json" in columns else {}
    for arr in columns.values():
        arr.setflags(write=False)
    return NB201Table(path, hashlib.sha256(raw).hexdigest(), columns, meta)
