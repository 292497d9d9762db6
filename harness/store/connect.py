"""Open a store: check the URL, create a new schema, upgrade an old one, refuse a foreign one.

Nothing is written before the URL and schema checks pass, so a wrong file is left as it was.
Schema creation and upgrades run under the database's own write lock (SQLite `BEGIN
IMMEDIATE`, a PostgreSQL advisory lock), so several processes opening one new or old store
at once do it exactly once. Upgrades are alembic migrations (migrations/versions/); a SQLite
file is copied beside itself (`NAME.v<old>.bak`) before it is upgraded.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from harness import HarnessError
from harness.store.base import DEFAULT_URL, redact
from harness.store.schema import (
    HEAD,
    REVISIONS,
    SCHEMA_VERSION,
    TABLES,
    meta_table,
    metadata,
)
from harness.store.sql import SUPPORTED, SqlStore

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger("harness.store")
_ADVISORY_KEY = 0x4E41_5348  # "NASH": one lock id for schema work on a PostgreSQL database


#: WAL pages between automatic checkpoints (SQLite's default is 1,000): see _sqlite_pragmas
WAL_AUTOCHECKPOINT = 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL + synchronous=NORMAL: a commit is durable once it returns against the harness
    being killed (the OS holds the write), and the file is never corrupted; after a power
    loss or an OS crash the commits since the last checkpoint (the only fsync) may roll back,
    as a consistent prefix, which a resumed run recomputes. Checkpoints come every
    WAL_AUTOCHECKPOINT pages instead of SQLite's 1,000: each costs an fsync and a copy of the
    pages the trials rewrote, which halved a trial's write in `harness bench grid`, and widens
    what a power loss can roll back from about 4 MB of WAL to about 40 MB (see the store's
    reference page)."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 60000")  # several worker processes share one file
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
    cur.close()


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # the same promise as SQLite's WAL + synchronous=NORMAL: a commit survives the process
    # that made it being killed; a crash of the database server itself may lose the last
    # fraction of a second of commits (never corrupts), which a resumed run recomputes
    cur = dbapi_conn.cursor()
    cur.execute("SET synchronous_commit TO OFF")
    cur.close()
    dbapi_conn.commit()


def _parse(url: str) -> sa.engine.URL:
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError:
        raise HarnessError(f"not a database URL: {redact(url)!r} (e.g. {DEFAULT_URL})") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise HarnessError(
            f"cannot use storage {redact(url)!r}: backend {backend!r} is not supported "
            "(sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)"
        )
    return parsed


def _engine(url: str, parsed: sa.engine.URL) -> sa.Engine:
    is_sqlite = parsed.get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {}
    if not is_sqlite:
        kwargs["connect_args"] = {"connect_timeout": 10}
        kwargs["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as err:
        reason = redact(str(err).splitlines()[0])
        raise HarnessError(f"cannot use storage {redact(url)!r}: {reason}") from None
    sa.event.listen(engine, "connect", _sqlite_pragmas if is_sqlite else _postgres_session)
    return engine


def schema_version(conn: sa.Connection, url: str) -> int | None:
    """The store's schema version; None for an empty database; error for a foreign one."""
    names = set(sa.inspect(conn).get_table_names())
    if not names:
        return None
    if meta_table.name not in names:
        raise HarnessError(f"storage {redact(url)} is a database without a harness schema")
    if "alembic_version" in names:
        rev = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        by_rev = {r: v for v, r in REVISIONS.items()}
        if rev not in by_rev:
            raise HarnessError(
                f"storage {redact(url)} has schema revision {rev!r}, unknown to this harness "
                f"(schema {SCHEMA_VERSION}): written by a newer version? upgrade the harness"
            )
        return by_rev[rev]
    value = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).scalar()
    try:
        return int(str(value))
    except ValueError:
        raise HarnessError(f"storage {redact(url)} has no readable schema version") from None


@contextmanager
def _schema_lock(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection holding the database's write lock for schema work, committed on exit."""
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
            yield conn


def _create(conn: sa.Connection) -> None:
    metadata.create_all(conn)
    conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
    conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{HEAD}')")


def _alembic_config(conn: sa.Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: sa.Connection, version: int) -> None:
    """Migrate a store of schema `version` to the current schema (alembic)."""
    from alembic import command

    cfg = _alembic_config(conn)
    names = set(sa.inspect(conn).get_table_names())
    if "alembic_version" not in names:  # stores from before migrations: mark where they are
        command.stamp(cfg, REVISIONS[version])
    command.upgrade(cfg, HEAD)


def _backup_sqlite(path: Path, version: int) -> None:
    backup = path.with_name(f"{path.name}.v{version}.bak")
    src, dst = sqlite3.connect(path), sqlite3.connect(backup)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _check_tables(conn: sa.Connection, url: str) -> None:
    insp = sa.inspect(conn)
    names = set(insp.get_table_names())
    for table in TABLES:
        cols = {c["name"] for c in insp.get_columns(table.name)} if table.name in names else set()
        missing = {c.name for c in table.columns} - cols
        if missing:
            raise HarnessError(f"storage {redact(url)}: table {table.name} lacks {sorted(missing)}")


def _prepare(engine: sa.Engine, url: str, create: bool, path: Path | None) -> None:
    with engine.connect() as conn:
        version = schema_version(conn, url)
    if version == SCHEMA_VERSION:
        with engine.connect() as conn:
            _check_tables(conn, url)
        return
    if version is None and not create:
        raise HarnessError(f"storage {redact(url)} holds no harness results")
    if version is not None and version > SCHEMA_VERSION:
        raise HarnessError(
            f"storage {redact(url)} has harness schema version {version}, newer than this "
            f"harness's {SCHEMA_VERSION}: upgrade the harness"
        )
    if path is not None and version is None:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    with _schema_lock(engine) as conn:
        version = schema_version(conn, url)  # another process may have done it meanwhile
        if version is None:
            _create(conn)
        elif version < SCHEMA_VERSION:
            if version not in REVISIONS:
                raise HarnessError(f"storage {redact(url)} has unknown schema version {version}")
            if path is not None:
                _backup_sqlite(path, version)
            upgrade(conn, version)
    with engine.connect() as conn:
        _check_tables(conn, url)


#: how long SQLite preparation retries "database is locked" (the busy timeout's length)
LOCKED_RETRY_SECONDS = 60.0


def _prepare_retrying(engine: sa.Engine, url: str, create: bool, path: Path | None) -> None:
    """`_prepare`, retried while a SQLite file reports "database is locked". Seen once: two
    `harness run` commands creating one store at a load average of about 4 got the error at
    once, busy timeout notwithstanding (SQLite returns it without waiting where waiting could
    deadlock; which statement hit it was not isolated). Preparing is idempotent (the schema
    lock re-reads the version), so trying again is safe."""
    deadline = time.monotonic() + LOCKED_RETRY_SECONDS
    pause = 0.01
    while True:
        try:
            _prepare(engine, url, create, path)
            return
        except sa_exc.OperationalError as err:
            locked = path is not None and "database is locked" in str(err)
            if not locked or time.monotonic() + pause > deadline:
                raise
            log.info("storage %s is locked while opening: trying again", redact(url))
            time.sleep(pause)
            pause = min(2 * pause, 1.0)


def open_store(url: str | None = None, create: bool = True, check: bool = True) -> SqlStore:
    """Open (and with `create`, initialise; an old store: upgrade) a store.

    An existing SQLite file is first checked (`PRAGMA integrity_check`, about 0.1 s for 100k
    trials): a damaged one is refused in one line before anything reads or writes it
    (`check=False` skips this, for worker processes whose parent checked). A new store is
    named on the `harness.store` logger (INFO), with any folder made for it."""
    url = url or DEFAULT_URL
    parsed = _parse(url)
    path: Path | None = None
    created: str | None = None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.exists():
            if not create:
                raise HarnessError(f"no store at {redact(url)} (run `harness run` first)")
            folders = [p for p in reversed(path.parents) if not p.exists()]
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise HarnessError(f"cannot create storage {redact(url)}: {err.strerror}") from None
            created = f"new store {path}"
            if folders:
                made = ", ".join(f"{p}{os.sep}" for p in folders)
                created += f" (created folder{'s' if len(folders) > 1 else ''} {made})"
        elif path.is_dir():
            raise HarnessError(f"storage {redact(url)} points at a directory")
        elif check:
            check_sqlite_file(path, url)
    engine = _engine(url, parsed)
    try:
        _prepare_retrying(engine, url, create, path)
    except sa_exc.DBAPIError as err:
        engine.dispose()
        raise HarnessError(f"cannot read storage {redact(url)}: {_reason(err)}") from None
    except BaseException:
        engine.dispose()
        raise
    store = SqlStore(url, engine)
    if created:
        log.info(created)
    return store


def check_sqlite_file(path: Path, url: str) -> None:
    """Refuse, in one line, a SQLite file that SQLite itself reports as damaged anywhere (file
    header, an index or a data page), before any query of the harness reads it. Only reads:
    the file's bytes are left as they were. A file that is not a database at all is left to
    the schema check (its own line)."""
    try:
        conn = sqlite3.connect(path, timeout=60)
    except sqlite3.Error:
        return  # unreadable: the engine's own open says why, in one line
    try:
        conn.execute("PRAGMA query_only = ON")
        problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as err:
        if "malformed" not in str(err) and "corrupt" not in str(err):
            return  # "file is not a database", "locked": the schema check reports those
        problems = [str(err)]
    finally:
        conn.close()
    if problems == ["ok"]:
        return
    detail = "; ".join(
        ln.strip() for p in problems[:3] for ln in p.splitlines() if ln.strip() and "***" not in ln
    )
    if len(detail) > 160:
        detail = detail[:157] + "..."
    raise HarnessError(
        f"storage {redact(url)} is damaged (SQLite integrity_check: {detail}): left as it is; "
        "restore it from a backup or use another --storage"
    )


def _reason(err: sa_exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return redact(lines[0] if lines else type(err).__name__)
