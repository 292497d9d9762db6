"""The SQLAlchemy store: SQLite (embedded, the default) or PostgreSQL (psycopg 3).

Every trial is committed as it finishes (trials ending within a fifth of a second of each other
together: the runner's `_Writes`), which is what makes a killed run resumable. Inserts
are idempotent (`ON CONFLICT DO NOTHING`, so a conflict never aborts a PostgreSQL
transaction), and runs carry leases so that several processes, hosts or `harness run`
commands can share one store without running a run twice. The store never holds search logic.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from harness.store.base import Holder, redact
from harness.store.schema import (
    DERIVED_RUN_COLUMNS,
    TABLES,
    cell_evaluations_table,
    evaluations_table,
    runs_table,
    trials_table,
)

SUPPORTED = ("sqlite", "postgresql")


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _idempotent_insert(dialect: str, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the dialect's own words."""
    if dialect == "postgresql":  # imported where used: the PostgreSQL dialect costs start-up
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


class _TrialWriter:
    """The per-trial write path on a DBAPI connection kept open per thread, with the SQL
    written once: a trial costs one commit, not a round of SQL construction (see `harness
    bench`). Guarded by the lease in the trial's own transaction, ON CONFLICT DO NOTHING.

    On PostgreSQL the guard is an UPDATE of the run's row (it row-locks the run, so a take-over
    waits for this commit, or this write sees the take-over). On SQLite the lease is checked
    inside the INSERT itself (`INSERT ... SELECT ... WHERE EXISTS (lease held)`): SQLite has one
    writer at a time, so the check and the insert see the same committed lease, and the run's
    row (which holds its manifest, kilobytes) is not rewritten on every trial; that UPDATE was
    most of a trial's commit (`harness bench grid`'s breakdown). The `heartbeat` column is then
    refreshed by the lease's own renewals (every third of the lease), not by each trial."""

    COLUMNS = tuple(c.name for c in trials_table.columns)

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.local = threading.local()
        self.all: list[Any] = []
        self.lock = threading.Lock()
        cols = ", ".join(self.COLUMNS)
        if engine.dialect.name == "postgresql":
            marks = ", ".join(f"%({c})s" for c in self.COLUMNS)
            self.guard = (
                "UPDATE runs SET heartbeat = %(now)s "
                "WHERE run_id = %(run)s AND lease_owner = %(owner)s"
            )
            self.named = True
            self.guarded_insert = ""
        else:
            marks = ", ".join("?" for _ in self.COLUMNS)
            self.guard = ""
            self.named = False
            held = "SELECT 1 FROM runs WHERE run_id = ? AND lease_owner = ?"
            self.holds = held
            self.guarded_insert = (
                f"INSERT INTO trials ({cols}) SELECT {marks} WHERE EXISTS ({held}) "
                "ON CONFLICT DO NOTHING"
            )
        self.insert = f"INSERT INTO trials ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING"

    def _conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.engine.raw_connection()
            with self.lock:
                self.all.append(conn)
        return conn

    def write(self, rows: list[dict[str, Any]], owner: str | None, now: float) -> bool:
        conn = self._conn()
        cur = conn.cursor()
        try:
            if self.named:
                held = self._postgres(cur, rows, owner, now)
            else:
                held = self._sqlite(cur, rows, owner)
            if not held:
                conn.rollback()
                return False
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            cur.close()
        return True

    def _postgres(
        self, cur: Any, rows: list[dict[str, Any]], owner: str | None, now: float
    ) -> bool:
        if owner is not None:  # in the same transaction: only the lease holder writes
            cur.execute(self.guard, {"now": now, "run": rows[0]["run_id"], "owner": owner})
            if cur.rowcount != 1:
                return False
        cur.executemany(self.insert, rows)
        return True

    def _sqlite(self, cur: Any, rows: list[dict[str, Any]], owner: str | None) -> bool:
        values = [tuple(r[c] for c in self.COLUMNS) for r in rows]
        if owner is None:
            cur.executemany(self.insert, values)
            return True
        run = rows[0]["run_id"]
        cur.executemany(self.guarded_insert, [(*v, run, owner) for v in values])
        if cur.rowcount == len(rows):
            return True
        # fewer rows than given: trials stored before (a replayed write: nothing to add) or the
        # lease is not ours; the insert holds the write lock, so this reads the same lease
        cur.execute(self.holds, (run, owner))
        return cur.fetchone() is not None

    def close(self) -> None:
        with self.lock:
            for conn in self.all:
                conn.close()
            self.all.clear()
        self.local = threading.local()


class SqlStore:
    """A handle on one database. Cheap to open; open one per process and close it."""

    def __init__(self, url: str, engine: sa.Engine) -> None:
        self.url = redact(url)
        self._engine = engine
        dialect = engine.dialect.name
        self._insert_run = _idempotent_insert(dialect, runs_table)
        self._insert_evaluation = _idempotent_insert(dialect, evaluations_table)
        self._insert_cell = _idempotent_insert(dialect, cell_evaluations_table)
        self._writer = _TrialWriter(engine)

    def close(self) -> None:
        self._writer.close()
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs and leases -------------------------------------------------------------------
    def run_status(self, run_id: str) -> str | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(runs_table.c.status).where(runs_table.c.run_id == run_id)
            ).first()
        return None if row is None else str(row[0])

    def start_run(self, run_id: str, fields: dict[str, Any], manifest: dict[str, Any]) -> None:
        from harness.store.frames import report_head

        row = dict(
            run_id=run_id,
            status="running",
            created=time.time(),
            manifest=json.dumps(manifest, sort_keys=True),
            report_head=report_head(manifest),
            **fields,
        )
        with self._engine.begin() as conn:
            conn.execute(self._insert_run, row)

    def claim_run(self, run_id: str, owner: str, seconds: float) -> Holder | None:
        now = time.time()
        c = runs_table.c
        free = sa.or_(c.lease_owner.is_(None), c.lease_owner == owner, c.lease_expires < now)
        query = (
            runs_table.update()
            .where(c.run_id == run_id, c.status != "done", free)
            .values(lease_owner=owner, heartbeat=now, lease_expires=now + seconds)
        )
        with self._engine.begin() as conn:
            if conn.execute(query).rowcount == 1:
                return None
            row = conn.execute(
                sa.select(c.status, c.lease_owner, c.lease_expires).where(c.run_id == run_id)
            ).first()
        if row is None:
            return Holder("absent", None, None)
        return Holder(str(row[0]), row[1], row[2])

    def take_over(self, run_id: str, owner: str, dead_owner: str, seconds: float) -> bool:
        now = time.time()
        c = runs_table.c
        query = (
            runs_table.update()
            .where(c.run_id == run_id, c.status != "done", c.lease_owner == dead_owner)
            .values(lease_owner=owner, heartbeat=now, lease_expires=now + seconds)
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(query).rowcount == 1)

    def renew_lease(self, run_id: str, owner: str, seconds: float) -> bool:
        now = time.time()
        c = runs_table.c
        query = (
            runs_table.update()
            .where(c.run_id == run_id, c.lease_owner == owner)
            .values(heartbeat=now, lease_expires=now + seconds)
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(query).rowcount == 1)

    def release_run(self, run_id: str, owner: str) -> None:
        c = runs_table.c
        with self._engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(c.run_id == run_id, c.lease_owner == owner)
                .values(lease_owner=None, lease_expires=None)
            )

    def finish_run(self, run_id: str, owner: str | None = None) -> None:
        c = runs_table.c
        query = runs_table.update().where(c.run_id == run_id)
        if owner is not None:
            query = query.where(sa.or_(c.lease_owner == owner, c.lease_owner.is_(None)))
        from harness.store.frames import summaries

        with self._engine.begin() as conn:  # its trials are final: a report reads the summary
            summary = summaries(conn, [run_id]).get(run_id)
            conn.execute(
                query.values(
                    status="done",
                    finished=time.time(),
                    lease_owner=None,
                    lease_expires=None,
                    summary=summary,
                )
            )

    def runs(self, run_ids: list[str] | None = None) -> list[dict[str, Any]]:
        shown = [c for c in runs_table.c if c.name not in DERIVED_RUN_COLUMNS]
        query = sa.select(*shown).order_by(runs_table.c.created, runs_table.c.run_id)
        if run_ids is not None:
            query = query.where(runs_table.c.run_id.in_(run_ids))
        with self._engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for r in rows:
            r["manifest"] = json.loads(r["manifest"])
        return rows

    # -- trials ----------------------------------------------------------------------------
    @staticmethod
    def _trial_row(row: dict[str, Any], now: float) -> dict[str, Any]:
        row = dict(row)
        row["params"] = json.dumps(row["params"], sort_keys=True)
        for key in ("score", "best_score", "best_truth", "regret"):
            row[key] = _finite(row.get(key))
        row["created"] = now
        return row

    def add_trial(self, row: dict[str, Any], owner: str | None = None) -> bool:
        return self.add_trials([row], owner)

    def add_trials(self, rows: list[dict[str, Any]], owner: str | None = None) -> bool:
        if not rows:
            return True
        now = time.time()
        return self._writer.write([self._trial_row(r, now) for r in rows], owner, now)

    def trials(self, run_id: str) -> list[dict[str, Any]]:
        query = (
            sa.select(trials_table)
            .where(trials_table.c.run_id == run_id)
            .order_by(trials_table.c.number)
        )
        with self._engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for r in rows:
            r["params"] = json.loads(r["params"])
        return rows

    def count_trials(self, run_ids: list[str]) -> int:
        total = 0
        with self._engine.connect() as conn:
            for i in range(0, len(run_ids), 500):  # keep the IN list within driver limits
                total += int(
                    conn.execute(
                        sa.select(sa.func.count())
                        .select_from(trials_table)
                        .where(trials_table.c.run_id.in_(run_ids[i : i + 500]))
                    ).scalar_one()
                )
        return total

    def trials_frame(self, run_ids: list[str] | None = None, *, incumbents: bool = False) -> Any:
        """Long format: one row per (run, trial), run fields joined in; with `incumbents`,
        only the rows where each run's incumbent changes, plus its aggregates (the report's
        input: harness.store.frames)."""
        from harness.store import frames

        return frames.trials_frame(self._engine, run_ids, incumbents=incumbents)

    def iter_trials_frames(
        self, run_ids: list[str] | None = None, *, incumbents: bool = False
    ) -> Iterator[Any]:
        """`trials_frame` a batch of runs at a time, in report order (exports stream these)."""
        from harness.store import frames

        return frames.iter_trials_frames(self._engine, run_ids, incumbents=incumbents)

    def iter_runs(
        self, run_ids: list[str] | None = None, keys: tuple[str, ...] | None = None
    ) -> Iterator[dict[str, Any]]:
        """`runs` one at a time (manifests parsed a batch at a time), by creation time; with
        `keys`, each manifest holds only those sections (read by the database)."""
        from harness.store import frames

        return frames.iter_runs(self._engine, run_ids, keys=keys)

    # -- evaluation cache ------------------------------------------------------------------
    def cached_evaluation(self, cache_key: str) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(evaluations_table.c.evaluation).where(
                    evaluations_table.c.cache_key == cache_key
                )
            ).first()
        return None if row is None else json.loads(row[0])

    def cache_evaluation(
        self,
        cache_key: str,
        proxy: str,
        settings: str,
        arch_key: str,
        seed: int,
        ev: dict,
        version: str | None = None,
    ) -> None:
        """First writer wins: a second worker caching the same evaluation changes nothing."""
        values = dict(
            cache_key=cache_key,
            proxy=proxy,
            settings=settings,
            arch_key=arch_key,
            seed=seed,
            evaluation=json.dumps(ev, sort_keys=True),
            created=time.time(),
            proxy_version=version,
        )
        with self._engine.begin() as conn:
            conn.execute(self._insert_evaluation, values)

    # -- returned cells trained from scratch -------------------------------------------------
    def start_cell_evaluation(self, row: dict[str, Any]) -> None:
        """Insert a `running` cell evaluation unless its eval_id exists (a rerun resumes it)."""
        row = {**row, "status": "running", "created": time.time()}
        row["settings"] = json.dumps(row["settings"], sort_keys=True)
        row["manifest"] = json.dumps(row["manifest"], sort_keys=True)
        with self._engine.begin() as conn:
            conn.execute(self._insert_cell, row)

    def finish_cell_evaluation(self, eval_id: str, status: str, **fields: Any) -> None:
        if "curve" in fields:
            fields["curve"] = json.dumps(fields["curve"])
        if "manifest" in fields:
            fields["manifest"] = json.dumps(fields["manifest"], sort_keys=True)
        with self._engine.begin() as conn:
            conn.execute(
                cell_evaluations_table.update()
                .where(cell_evaluations_table.c.eval_id == eval_id)
                .values(status=status, finished=time.time(), **fields)
            )

    def cell_evaluations(self, run_ids: list[str] | None = None) -> list[dict[str, Any]]:
        query = sa.select(cell_evaluations_table).order_by(cell_evaluations_table.c.created)
        if run_ids is not None:
            query = query.where(cell_evaluations_table.c.run_id.in_(run_ids))
        with self._engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for r in rows:
            for key in ("settings", "manifest", "curve"):
                r[key] = json.loads(r[key]) if r[key] else None
        return rows

    def evaluated_truth(self, run_ids: list[str]) -> dict[str, tuple[float, str]]:
        """run_id -> (test accuracy, protocol) of its returned cell's latest finished training."""
        out: dict[str, tuple[float, str]] = {}
        for r in self.cell_evaluations(run_ids):
            if r["status"] == "done" and r["test_acc"] is not None:
                out[r["run_id"]] = (float(r["test_acc"]), str(r["protocol"]))
        return out

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in TABLES
            }
