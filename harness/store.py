"""The store: runs, trials, cached evaluations, trained returned cells and manifests.

SQLite (embedded) by default; any SQLAlchemy URL works, so a server database can replace it.
Every trial is committed as it finishes, which is what makes a killed run resumable. The store
never holds search logic.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from harness import HarnessError

DEFAULT_URL = "sqlite:///results/harness.db"
#: 2: trials.truth nullable (open spaces have no table); cell_evaluations added
SCHEMA_VERSION = 2

metadata = sa.MetaData()
meta_table = sa.Table(
    "harness_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("method", sa.String(64), nullable=False),
    sa.Column("benchmark", sa.String(64), nullable=False),
    sa.Column("proxy", sa.String(64), nullable=False),
    sa.Column("strategy", sa.String(64), nullable=False),
    sa.Column("repetition", sa.Integer, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("finished", sa.Float),
    sa.Column("manifest", sa.Text, nullable=False),
)
trials_table = sa.Table(
    "trials",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("arch", sa.Text, nullable=False),
    sa.Column("arch_key", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("truth", sa.Float),  # NULL where the benchmark has no table
    sa.Column("best_score", sa.Float),
    sa.Column("best_arch", sa.Text),
    sa.Column("best_truth", sa.Float),
    sa.Column("regret", sa.Float),
    sa.Column("wall_s", sa.Float, nullable=False),
    sa.Column("simulated_s", sa.Float, nullable=False),
    sa.Column("cum_wall_s", sa.Float, nullable=False),
    sa.Column("cum_simulated_s", sa.Float, nullable=False),
    sa.Column("labels_used", sa.BigInteger, nullable=False),
    sa.Column("cached", sa.Boolean, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)
evaluations_table = sa.Table(
    "evaluations",
    metadata,
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("proxy", sa.String(64), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("arch_key", sa.Text, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("evaluation", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)
cell_evaluations_table = sa.Table(
    "cell_evaluations",
    metadata,
    # a cell trained from scratch under a protocol (`harness evaluate`): the report metric of
    # a run on an open space, or a check of a table entry beside (never over) the table's value
    sa.Column("eval_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64)),  # NULL for `evaluate --arch`
    sa.Column("benchmark", sa.String(64), nullable=False),
    sa.Column("arch", sa.Text, nullable=False),
    sa.Column("arch_key", sa.Text, nullable=False),
    sa.Column("protocol", sa.String(64), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running, done, failed
    sa.Column("test_acc", sa.Float),
    sa.Column("params", sa.BigInteger),
    sa.Column("wall_s", sa.Float),
    sa.Column("device", sa.Text),
    sa.Column("curve", sa.Text),  # JSON list of per-epoch records
    sa.Column("manifest", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("finished", sa.Float),
)


def evaluation_key(proxy_name: str, settings: str, arch_key: str, seed: int) -> str:
    """Cache key of one proxy evaluation: proxy, its settings (JSON), canonical arch, seed."""
    return hashlib.sha256(f"{proxy_name}\0{settings}\0{arch_key}\0{seed}".encode()).hexdigest()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 60000")  # several worker processes share one file
    cur.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across process kills
    cur.close()


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class Store:
    """A handle on one database. Cheap to open; open one per process."""

    def __init__(self, url: str, engine: sa.Engine) -> None:
        self.url = url
        self.engine = engine

    # -- runs ------------------------------------------------------------------------------
    def run_status(self, run_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(runs_table.c.status).where(runs_table.c.run_id == run_id)
            ).first()
        return None if row is None else str(row[0])

    def start_run(self, run_id: str, fields: dict[str, Any], manifest: dict[str, Any]) -> None:
        """Create the run row unless it exists (a resumed run keeps its first manifest)."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(runs_table.c.run_id).where(runs_table.c.run_id == run_id)
            ).first()
            if exists is None:
                conn.execute(
                    runs_table.insert().values(
                        run_id=run_id,
                        status="running",
                        created=time.time(),
                        manifest=json.dumps(manifest, sort_keys=True),
                        **fields,
                    )
                )

    def finish_run(self, run_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(runs_table.c.run_id == run_id)
                .values(status="done", finished=time.time())
            )

    def runs(self, run_ids: list[str] | None = None) -> list[dict[str, Any]]:
        query = sa.select(runs_table)
        if run_ids is not None:
            query = query.where(runs_table.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for r in rows:
            r["manifest"] = json.loads(r["manifest"])
        return rows

    # -- trials ----------------------------------------------------------------------------
    def add_trial(self, row: dict[str, Any]) -> None:
        row = dict(row)
        row["params"] = json.dumps(row["params"], sort_keys=True)
        for key in ("score", "best_score", "best_truth", "regret"):
            row[key] = _finite(row.get(key))
        row["created"] = time.time()
        with self.engine.begin() as conn:
            conn.execute(trials_table.insert().values(**row))

    def trials(self, run_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(trials_table)
                    .where(trials_table.c.run_id == run_id)
                    .order_by(trials_table.c.number)
                )
            ]
        for r in rows:
            r["params"] = json.loads(r["params"])
        return rows

    def count_trials(self, run_ids: list[str]) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(trials_table)
                    .where(trials_table.c.run_id.in_(run_ids))
                ).scalar_one()
            )

    def trials_frame(self, run_ids: list[str] | None = None) -> Any:
        """Long format: one row per (run, trial), run fields joined in. The report's input."""
        import pandas as pd

        query = (
            sa.select(
                trials_table,
                runs_table.c.method,
                runs_table.c.benchmark,
                runs_table.c.proxy,
                runs_table.c.strategy,
                runs_table.c.repetition,
                runs_table.c.seed,
                runs_table.c.manifest,
            )
            .join(runs_table, runs_table.c.run_id == trials_table.c.run_id)
            .order_by(runs_table.c.benchmark, runs_table.c.method, runs_table.c.repetition)
        )
        if run_ids is not None:
            query = query.where(trials_table.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            df = pd.DataFrame([dict(r._mapping) for r in conn.execute(query)])
        if df.empty:
            return df
        manifests = {m: json.loads(m) for m in df["manifest"].unique()}
        df["search_metric"] = [manifests[m]["benchmark"]["search_metric"] for m in df.manifest]
        df["report_metric"] = [manifests[m]["benchmark"]["report_metric"] for m in df.manifest]
        df["optimum"] = [manifests[m]["benchmark"]["optimum"] for m in df.manifest]
        df["space"] = [manifests[m]["benchmark"].get("space") for m in df.manifest]
        df["truth_source"] = [
            manifests[m]["benchmark"].get("truth_source", "table") for m in df.manifest
        ]
        evaluated = self.evaluated_truth(list(df["run_id"].unique()))
        df["evaluated_truth"] = df["run_id"].map(lambda r: evaluated.get(r, (None, None))[0])
        df["evaluated_protocol"] = df["run_id"].map(lambda r: evaluated.get(r, (None, None))[1])
        df = df.drop(columns=["manifest", "created"])
        df = df.sort_values(["benchmark", "method", "repetition", "number"], kind="stable")
        return df.reset_index(drop=True)

    # -- evaluation cache ------------------------------------------------------------------
    def cached_evaluation(self, cache_key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(evaluations_table.c.evaluation).where(
                    evaluations_table.c.cache_key == cache_key
                )
            ).first()
        return None if row is None else json.loads(row[0])

    def cache_evaluation(
        self, cache_key: str, proxy: str, settings: str, arch_key: str, seed: int, ev: dict
    ) -> None:
        values = dict(
            cache_key=cache_key,
            proxy=proxy,
            settings=settings,
            arch_key=arch_key,
            seed=seed,
            evaluation=json.dumps(ev, sort_keys=True),
            created=time.time(),
        )
        with self.engine.begin() as conn:
            try:
                conn.execute(evaluations_table.insert().values(**values))
            except sa_exc.IntegrityError:
                pass  # another worker cached the same evaluation first: keep theirs

    # -- returned cells trained from scratch -------------------------------------------------
    def start_cell_evaluation(self, row: dict[str, Any]) -> None:
        """Insert a `running` cell evaluation unless its eval_id exists (a rerun resumes it)."""
        row = {**row, "status": "running", "created": time.time()}
        row["settings"] = json.dumps(row["settings"], sort_keys=True)
        row["manifest"] = json.dumps(row["manifest"], sort_keys=True)
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(cell_evaluations_table.c.eval_id).where(
                    cell_evaluations_table.c.eval_id == row["eval_id"]
                )
            ).first()
            if exists is None:
                conn.execute(cell_evaluations_table.insert().values(**row))

    def finish_cell_evaluation(self, eval_id: str, status: str, **fields: Any) -> None:
        if "curve" in fields:
            fields["curve"] = json.dumps(fields["curve"])
        if "manifest" in fields:
            fields["manifest"] = json.dumps(fields["manifest"], sort_keys=True)
        with self.engine.begin() as conn:
            conn.execute(
                cell_evaluations_table.update()
                .where(cell_evaluations_table.c.eval_id == eval_id)
                .values(status=status, finished=time.time(), **fields)
            )

    def cell_evaluations(self, run_ids: list[str] | None = None) -> list[dict[str, Any]]:
        query = sa.select(cell_evaluations_table).order_by(cell_evaluations_table.c.created)
        if run_ids is not None:
            query = query.where(cell_evaluations_table.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
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


def _check_schema(engine: sa.Engine, url: str) -> bool:
    """True if the database already holds a harness store; error if it holds something else."""
    insp = sa.inspect(engine)
    names = set(insp.get_table_names())
    if not names:
        return False
    if meta_table.name not in names:
        raise HarnessError(f"storage {url} is a database without a harness schema")
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).first()
    if row is None or int(row[0]) != SCHEMA_VERSION:
        found = None if row is None else row[0]
        raise HarnessError(
            f"storage {url} has harness schema version {found}, expected {SCHEMA_VERSION}"
        )
    for table in (runs_table, trials_table, evaluations_table, cell_evaluations_table):
        cols = {c["name"] for c in insp.get_columns(table.name)} if table.name in names else set()
        missing = {c.name for c in table.columns} - cols
        if missing:
            raise HarnessError(f"storage {url}: table {table.name} lacks {sorted(missing)}")
    return True


def open_store(url: str | None = None, create: bool = True) -> Store:
    """Open (and with `create`, initialise) a store; bad URLs and foreign databases fail cleanly.

    Nothing is written before the URL and schema check pass, so a wrong file is left as it was.
    """
    url = url or DEFAULT_URL
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError:
        raise HarnessError(f"not a database URL: {url!r} (e.g. {DEFAULT_URL})") from None
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.exists():
            if not create:
                raise HarnessError(f"no store at {url} (run `harness run` first)")
            path.parent.mkdir(parents=True, exist_ok=True)
        elif path.is_dir():
            raise HarnessError(f"storage {url} points at a directory")
    try:
        engine = sa.create_engine(url)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as err:
        raise HarnessError(f"cannot use storage {url!r}: {err}") from None
    if is_sqlite:
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    try:
        exists = _check_schema(engine, url)
        if not exists:
            if not create:
                raise HarnessError(f"storage {url} holds no harness results")
            with engine.begin() as conn:
                if is_sqlite:
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                metadata.create_all(conn)
                conn.execute(
                    meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                )
    except sa_exc.DatabaseError as err:
        engine.dispose()
        reason = str(err.orig).splitlines()[0] if err.orig else str(err).splitlines()[0]
        raise HarnessError(f"cannot read storage {url}: {reason}") from None
    except HarnessError:
        engine.dispose()
        raise
    return Store(url, engine)
