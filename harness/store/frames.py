"""Trials as DataFrames, read in batches of runs: memory follows the batch, not the store.

A report needs, per run, its last trial (the search's answer), a few aggregates (trials,
labels, cache hits) and its incumbent curve, which is a step function: it changes only where
the incumbent does. `incumbents=True` reads exactly those rows (the first, the last, every
row whose incumbent columns differ from the row before, and the first with a positive
cumulative cost of each kind), with the run's aggregates as columns, in SQL: a lookup run of
100 trials keeps about 7 rows, and every table and anytime curve computed from them equals the
one computed from all rows (`harness.report.frame` and tests/test_report_scale.py).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from harness.store.base import RUN_AGGREGATES
from harness.store.schema import cell_evaluations_table, runs_table, trials_table

#: runs per query: keeps IN lists within every driver's limit and a batch's rows small
BATCH_RUNS = 500
#: rows fetched from the cursor at a time
FETCH_ROWS = 20_000
#: the run columns joined onto each trial row (the manifest is read once per run, not per row)
RUN_COLUMNS = ("method", "benchmark", "proxy", "strategy", "repetition", "seed")
#: the trial columns whose change marks a new incumbent
INCUMBENT_COLUMNS = ("best_arch", "best_score", "best_truth", "regret")


def ordered_run_ids(engine: sa.Engine, run_ids: list[str] | None) -> list[str]:
    """The runs to read in report order (benchmark, method, repetition, run id)."""
    r = runs_table.c
    query = sa.select(r.run_id).order_by(r.benchmark, r.method, r.repetition, r.run_id)
    with engine.connect() as conn:
        ids = [str(x) for x in conn.execute(query).scalars()]
    if run_ids is None:
        return ids
    wanted = set(run_ids)
    return [i for i in ids if i in wanted]


def _batches(ids: list[str], size: int | None = None) -> Iterator[list[str]]:
    size = size or BATCH_RUNS  # read at call time: tests shrink it to cross batches
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _incumbent_query(batch: list[str]) -> sa.Select[Any]:
    """The rows of `batch`'s runs an incumbent frame keeps, with the run aggregates."""
    t = trials_table.c
    mine = t.run_id.in_(batch)
    w: dict[str, Any] = {"partition_by": t.run_id, "order_by": t.number}
    changed = sa.or_(
        *(sa.func.lag(t[c]).over(**w).is_distinct_from(t[c]) for c in INCUMBENT_COLUMNS)
    )
    flags = sa.select(t.run_id, t.number, changed.label("changed")).where(mine).subquery()
    agg = (
        sa.select(
            t.run_id,
            sa.func.count().label("run_trials"),
            sa.func.max(t.labels_used).label("run_labels_used"),
            sa.cast(sa.func.avg(sa.cast(t.cached, sa.Integer)), sa.Float).label("run_cached_share"),
            sa.func.min(t.number).label("first"),
            sa.func.max(t.number).label("last"),
            sa.func.min(sa.case((t.cum_simulated_s > 0, t.number))).label("pos_sim"),
            sa.func.min(sa.case((t.cum_wall_s > 0, t.number))).label("pos_wall"),
        )
        .where(mine)
        .group_by(t.run_id)
        .cte("agg")
    )
    a = agg.c
    kept = sa.union(
        sa.select(flags.c.run_id, flags.c.number).where(flags.c.changed),
        *(sa.select(a.run_id, a[c]).where(a[c].is_not(None)) for c in ("first", "last")),
        *(sa.select(a.run_id, a[c]).where(a[c].is_not(None)) for c in ("pos_sim", "pos_wall")),
    ).subquery()
    return (
        sa.select(
            trials_table, *(runs_table.c[c] for c in RUN_COLUMNS), *(a[c] for c in RUN_AGGREGATES)
        )
        .join(kept, sa.and_(kept.c.run_id == t.run_id, kept.c.number == t.number))
        .join(agg, a.run_id == t.run_id)
        .join(runs_table, runs_table.c.run_id == t.run_id)
    )


def _full_query(batch: list[str]) -> sa.Select[Any]:
    t = trials_table.c
    return (
        sa.select(trials_table, *(runs_table.c[c] for c in RUN_COLUMNS))
        .join(runs_table, runs_table.c.run_id == t.run_id)
        .where(t.run_id.in_(batch))
    )


def _fetch(conn: sa.Connection, query: sa.Select[Any]) -> Any:
    """The query's rows as a DataFrame, fetched in chunks of plain tuples (no per-row dicts)."""
    import pandas as pd

    result = conn.execute(query)
    columns = list(result.keys())
    chunks = []
    while rows := result.fetchmany(FETCH_ROWS):
        chunks.append(pd.DataFrame.from_records(rows, columns=columns))
    if not chunks:
        return pd.DataFrame(columns=columns)
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def _manifest_part(conn: sa.Connection, key: str) -> Any:
    """The manifest's `key` section extracted by the database (a manifest is mostly its
    environment: several KB a run that a report never reads)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return sa.cast(runs_table.c.manifest, postgresql.JSON)[key]
    return sa.func.json_extract(runs_table.c.manifest, f"$.{key}")


def _parsed(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _benchmark_fields(conn: sa.Connection, batch: list[str]) -> dict[str, dict[str, Any]]:
    """run id -> the metric fields of its manifest's benchmark section."""
    query = sa.select(runs_table.c.run_id, _manifest_part(conn, "benchmark")).where(
        runs_table.c.run_id.in_(batch)
    )
    out = {}
    for run_id, part in conn.execute(query):
        b = _parsed(part)
        out[str(run_id)] = {
            "search_metric": b["search_metric"],
            "report_metric": b["report_metric"],
            "optimum": b["optimum"],
            "space": b.get("space"),
            "truth_source": b.get("truth_source", "table"),
            "table_source": b.get("table_source"),  # e.g. a partial table
        }
    return out


def _evaluated(conn: sa.Connection, batch: list[str]) -> dict[str, tuple[float, str]]:
    """run id -> (test accuracy, protocol) of its returned cell's latest finished training."""
    e = cell_evaluations_table.c
    query = (
        sa.select(e.run_id, e.test_acc, e.protocol)
        .where(e.run_id.in_(batch), e.status == "done", e.test_acc.is_not(None))
        .order_by(e.created)
    )
    return {str(r): (float(acc), str(p)) for r, acc, p in conn.execute(query)}


def _finish(conn: sa.Connection, df: Any, batch: list[str]) -> Any:
    """Run-level columns from the manifests and trained cells; report order; no timestamps."""
    if df.empty:
        return df
    fields = _benchmark_fields(conn, batch)
    runs = df["run_id"].astype(str)
    for key in (
        "search_metric",
        "report_metric",
        "optimum",
        "space",
        "truth_source",
        "table_source",
    ):
        df[key] = [fields[r][key] for r in runs]
    evaluated = _evaluated(conn, batch)
    df["evaluated_truth"] = [evaluated.get(r, (None, None))[0] for r in runs]
    df["evaluated_protocol"] = [evaluated.get(r, (None, None))[1] for r in runs]
    df["cached"] = df["cached"].astype(bool)
    df = df.drop(columns=["created"])
    order = ["benchmark", "method", "repetition", "run_id", "number"]
    return df.sort_values(order, kind="stable").reset_index(drop=True)


#: batches read at once, each on its own connection: the database executes one while Python
#: turns another into a frame (both sqlite3 and psycopg release the GIL while they wait)
READERS = 2


def iter_trials_frames(
    engine: sa.Engine, run_ids: list[str] | None = None, *, incumbents: bool = False
) -> Iterator[Any]:
    """The trials frame in report order, one DataFrame per batch of runs (see the module);
    at most READERS + 1 batches are held at a time, whatever the store's size."""
    ids = ordered_run_ids(engine, run_ids)

    def read(batch: list[str]) -> Any:
        with engine.connect() as conn:
            query = _incumbent_query(batch) if incumbents else _full_query(batch)
            return _finish(conn, _fetch(conn, query), batch)

    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        readers = 1  # an in-memory database is private to its connection: read in this thread
    else:
        readers = READERS
    if readers == 1:
        for batch in _batches(ids):
            df = read(batch)
            if len(df):
                yield df
        return
    with ThreadPoolExecutor(readers) as pool:
        ahead: deque[Future[Any]] = deque()
        for batch in _batches(ids):
            ahead.append(pool.submit(read, batch))
            if len(ahead) > readers:
                df = ahead.popleft().result()
                if len(df):
                    yield df
        while ahead:
            df = ahead.popleft().result()
            if len(df):
                yield df


def trials_frame(
    engine: sa.Engine, run_ids: list[str] | None = None, *, incumbents: bool = False
) -> Any:
    """All batches of `iter_trials_frames` in one frame (empty if the store has no trials)."""
    import pandas as pd

    frames = list(iter_trials_frames(engine, run_ids, incumbents=incumbents))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def iter_runs(
    engine: sa.Engine,
    run_ids: list[str] | None = None,
    batch_runs: int | None = None,
    keys: tuple[str, ...] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every run row with its parsed manifest, by creation time, read a batch at a time; with
    `keys`, the manifest holds only those sections, extracted by the database."""
    r = runs_table.c
    query = sa.select(r.run_id).order_by(r.created, r.run_id)
    with engine.connect() as conn:
        ids = [str(x) for x in conn.execute(query).scalars()]
        if run_ids is not None:
            wanted = set(run_ids)
            ids = [i for i in ids if i in wanted]
        columns = [c for c in runs_table.c if keys is None or c.name != "manifest"]
        parts = [_manifest_part(conn, k).label(f"part_{k}") for k in keys or ()]
        for batch in _batches(ids, batch_runs):
            q = sa.select(*columns, *parts).where(r.run_id.in_(batch))
            rows = {str(x.run_id): dict(x._mapping) for x in conn.execute(q)}
            for run_id in batch:
                row = rows[run_id]
                if keys is None:
                    row["manifest"] = json.loads(row["manifest"])
                else:
                    found = {k: _parsed(row.pop(f"part_{k}")) for k in keys}
                    row["manifest"] = {k: v for k, v in found.items() if v is not None}
                yield row
