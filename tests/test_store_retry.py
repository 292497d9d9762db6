"""Opening a SQLite store retries "database is locked" (seen once when two commands created
one store under load) and nothing else."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from harness import HarnessError
from harness.store import connect, open_store


def _failing(times: int, message: str):
    real = connect._prepare
    calls = []

    def prepare(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise sa_exc.OperationalError("PRAGMA", {}, sqlite3.OperationalError(message))
        return real(*args, **kwargs)

    return prepare, calls


def test_locked_is_retried_until_the_store_opens(tmp_path, monkeypatch) -> None:
    prepare, calls = _failing(2, "database is locked")
    monkeypatch.setattr(connect, "_prepare", prepare)
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    store.close()
    assert len(calls) == 3


def test_other_errors_and_a_lock_past_the_deadline_are_not(tmp_path, monkeypatch) -> None:
    prepare, calls = _failing(5, "disk I/O error")
    monkeypatch.setattr(connect, "_prepare", prepare)
    with pytest.raises(HarnessError, match="disk I/O error"):
        open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert len(calls) == 1
    prepare, calls = _failing(10**6, "database is locked")
    monkeypatch.setattr(connect, "_prepare", prepare)
    monkeypatch.setattr(connect, "LOCKED_RETRY_SECONDS", 0.2)
    with pytest.raises(HarnessError, match="database is locked"):
        open_store(f"sqlite:///{tmp_path / 'b.db'}")
    assert 3 <= len(calls) < 30
