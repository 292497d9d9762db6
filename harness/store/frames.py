"""Trials as DataFrames, read in batches of runs: memory follows the batch, not the store.

A report needs, per run, its last trial (the search's answer), a few aggregates (trials,
labels, cache hits) and its incumbent curve, which is a step function: it changes only where
the incumbent does. `incumbents=True` reads exactly those rows (the first, the last, every
row whose incumbent columns differ from the row before, and the first with a positive
cumulative cost of each kind), with the run's aggregates as columns, in SQL: a lookup run of
100 trials keeps about 7 rows, and every table and anytime curve computed from them equals the
one computed from all rows (`harness.report.frame` and tests/test_report_scale.py). A
finished run's trials never change, so which rows those are is stored with the run when it
finishes (`runs.summary`) and read by primary key; a run without one (still going, failed,
from an older store) is read with one window query over its trials. The manifest sections a
report reads are stored with each run too (`runs.report_head`).
"""

from __future__ import annotations

import functools
import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from harness.store.base import RUN_AGGREGATES
from harness.store.schema import (
    DERIVED_RUN_COLUMNS,
    HEAD_SECTIONS,
    cell_evaluations_table,
    runs_table,
    trials_table,
)

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


def _kept_query(batch: list[str]) -> sa.Select[Any]:
    """(run id, trial number, the run's aggregates) of every row an incumbent frame keeps of
    `batch`'s runs, from one scan of their trials: one window sorts them, the rest are
    aggregates over each run (finished runs keep the answer: `summaries`)."""
    return _kept_select(trials_table.c.run_id.in_(batch))


@functools.cache
def _kept_one() -> sa.Select[Any]:
    """`_kept_query` of the one run bound as `run_id`: built once, so a finishing run pays
    for executing it only (SQLAlchemy caches its compiled form)."""
    return _kept_select(trials_table.c.run_id == sa.bindparam("run_id"))


def _kept_select(runs: Any) -> sa.Select[Any]:
    t = trials_table.c
    ordered: dict[str, Any] = {"partition_by": t.run_id, "order_by": t.number}
    whole: dict[str, Any] = {"partition_by": t.run_id}
    changed = sa.or_(
        *(sa.func.lag(t[c]).over(**ordered).is_distinct_from(t[c]) for c in INCUMBENT_COLUMNS)
    )
    cached_share = sa.func.avg(sa.cast(t.cached, sa.Integer)).over(**whole)
    rows = (
        sa.select(
            t.run_id,
            t.number,
            changed.label("changed"),
            sa.func.count().over(**whole).label("run_trials"),
            sa.func.max(t.labels_used).over(**whole).label("run_labels_used"),
            sa.cast(cached_share, sa.Float).label("run_cached_share"),
            sa.func.min(t.number).over(**whole).label("first"),
            sa.func.max(t.number).over(**whole).label("last"),
            sa.func.min(sa.case((t.cum_simulated_s > 0, t.number))).over(**whole).label("pos_sim"),
            sa.func.min(sa.case((t.cum_wall_s > 0, t.number))).over(**whole).label("pos_wall"),
        )
        .where(runs)
        .subquery()
    )
    k = rows.c
    marks = (k.first, k.last, k.pos_sim, k.pos_wall)
    return sa.select(k.run_id, k.number, *(k[c] for c in RUN_AGGREGATES)).where(
        sa.or_(k.changed, *(k.number == m for m in marks))
    )


def _incumbent_query(batch: list[str]) -> sa.Select[Any]:
    """The rows of `batch`'s runs an incumbent frame keeps, with the run aggregates."""
    t = trials_table.c
    kept = _kept_query(batch).subquery()
    return (
        sa.select(
            trials_table,
            *(runs_table.c[c] for c in RUN_COLUMNS),
            *(kept.c[c] for c in RUN_AGGREGATES),
        )
        .join(kept, sa.and_(kept.c.run_id == t.run_id, kept.c.number == t.number))
        .join(runs_table, runs_table.c.run_id == t.run_id)
    )


def summaries(conn: sa.Connection, run_ids: list[str]) -> dict[str, str]:
    """run id -> its summary (JSON: the kept trial numbers and the aggregates), for the runs
    that have trials; written when a run finishes, after which its trials never change."""
    found: dict[str, dict[str, Any]] = {}
    if len(run_ids) == 1:
        rows = conn.execute(_kept_one(), {"run_id": run_ids[0]}).all()
    else:
        rows = [r for batch in _batches(run_ids) for r in conn.execute(_kept_query(batch))]
    for run_id, number, *aggregates in rows:
        entry = found.setdefault(str(run_id), {"kept": []})
        entry.update(zip(RUN_AGGREGATES, aggregates))
        entry["kept"].append(int(number))
    for entry in found.values():
        entry["kept"].sort()
    return {r: json.dumps(entry, sort_keys=True) for r, entry in found.items()}


def report_head(manifest: dict[str, Any]) -> str:
    """The manifest sections a report reads of every run, as JSON (`runs.report_head`)."""
    return json.dumps({k: manifest[k] for k in HEAD_SECTIONS if k in manifest}, sort_keys=True)


#: (run, number) pairs per query of summarized rows: within SQLite's 32,766 bound parameters
PAIRS = 5_000


def _by_key(conn: sa.Connection, pairs: list[tuple[str, int]]) -> Any:
    """Trial rows by primary key, as a frame. PostgreSQL joins two unnested arrays (a long IN
    list of row values is planned as thousands of index scans); SQLite joins a VALUES list,
    sent as driver SQL (compiling thousands of bound values costs more than the lookups)."""
    t = trials_table.c
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        runs = sa.bindparam("runs", [r for r, _ in pairs], type_=postgresql.ARRAY(sa.Text))
        numbers = sa.bindparam("numbers", [n for _, n in pairs], type_=postgresql.ARRAY(sa.Integer))
        keys = (
            sa.func.unnest(runs, numbers)
            .table_valued(sa.column("run_id", sa.Text), sa.column("number", sa.Integer))
            .render_derived(name="k")
        )
        on = sa.and_(keys.c.run_id == t.run_id, keys.c.number == t.number)
        return _fetch(conn, sa.select(trials_table).join(keys, on))

    columns = [c.name for c in trials_table.c]
    listed = ", ".join(f"trials.{c}" for c in columns)
    sql = (
        f"WITH k(run_id, number) AS (VALUES {', '.join('(?, ?)' for _ in pairs)}) "
        f"SELECT {listed} FROM k CROSS JOIN trials "
        "ON trials.run_id = k.run_id AND trials.number = k.number"
    )
    rows = conn.exec_driver_sql(sql, tuple(x for pair in pairs for x in pair)).fetchall()
    floats = [c.name for c in trials_table.c if isinstance(c.type, sa.Float)]
    return _frame(rows, columns, floats).astype({"cached": bool})


def _summarized_frames(
    conn: sa.Connection, runs: dict[str, dict[str, Any]], summary: dict[str, dict[str, Any]]
) -> Iterator[Any]:
    """The kept rows of summarized runs, read by primary key, with their run columns and
    stored aggregates."""
    pairs = [(r, n) for r, s in summary.items() for n in s["kept"]]
    for i in range(0, len(pairs), PAIRS):
        df = _by_key(conn, pairs[i : i + PAIRS])
        ids = df["run_id"].astype(str).tolist()  # a list: iterating a Series is slow
        for c in RUN_COLUMNS:
            df[c] = [runs[r][c] for r in ids]
        for c in RUN_AGGREGATES:
            df[c] = [summary[r][c] for r in ids]
        yield df


def _derived(
    conn: sa.Connection, batch: list[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(run id -> parsed report head, -> parsed summary, -> run columns) for `batch`'s runs;
    heads and summaries only where the store keeps them."""
    r = runs_table.c
    heads, summary, runs = {}, {}, {}
    query = sa.select(r.report_head, r.summary, *(r[c] for c in ("run_id", *RUN_COLUMNS)))
    for row in conn.execute(query.where(r.run_id.in_(batch))):
        run_id = str(row.run_id)
        runs[run_id] = {c: row._mapping[c] for c in RUN_COLUMNS}
        if row.report_head is not None:
            heads[run_id] = json.loads(row.report_head)
        if row.summary is not None:
            summary[run_id] = json.loads(row.summary)
    return heads, summary, runs


def _read_incumbents(conn: sa.Connection, batch: list[str]) -> Any:
    """A batch's incumbent frame: finished runs from their summaries, others by their trials."""
    import pandas as pd

    heads, summary, runs = _derived(conn, batch)
    frames = list(_summarized_frames(conn, runs, summary)) if summary else []
    rest = [r for r in batch if r not in summary]
    if rest or not frames:
        frames.append(_fetch(conn, _incumbent_query(rest)))
    frames = [f for f in frames if len(f)] or frames[:1]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _finish(conn, df, batch, heads)


def _full_query(batch: list[str]) -> sa.Select[Any]:
    t = trials_table.c
    return (
        sa.select(trials_table, *(runs_table.c[c] for c in RUN_COLUMNS))
        .join(runs_table, runs_table.c.run_id == t.run_id)
        .where(t.run_id.in_(batch))
    )


def _frame(rows: Any, columns: list[str], floats: list[str]) -> Any:
    """Fetched rows as a frame: plain tuples (pandas asks every record for `_fields`, which a
    Row answers slowly), and a float column of NULLs only (no truth table) as float64, not
    objects."""
    import pandas as pd

    df = pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)
    return df.astype({c: "float64" for c in floats if c in df and df[c].dtype == object})


def _fetch(conn: sa.Connection, query: sa.Select[Any]) -> Any:
    """The query's rows as a DataFrame, fetched in chunks of plain tuples (no per-row dicts)."""
    import pandas as pd

    result = conn.execute(query)
    columns = list(result.keys())
    floats = [c.name for c in query.selected_columns if isinstance(c.type, sa.Float)]
    chunks = []
    while rows := result.fetchmany(FETCH_ROWS):
        chunks.append(_frame(rows, columns, floats))
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


def _benchmark_fields(
    conn: sa.Connection, batch: list[str], heads: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """run id -> the metric fields of its manifest's benchmark section (from its report head
    where the store keeps one, else from the manifest)."""
    sections = {r: h["benchmark"] for r, h in heads.items() if "benchmark" in h}
    missing = [r for r in batch if r not in sections]
    if missing:
        query = sa.select(runs_table.c.run_id, _manifest_part(conn, "benchmark")).where(
            runs_table.c.run_id.in_(missing)
        )
        sections.update((str(r), _parsed(part)) for r, part in conn.execute(query))
    out = {}
    for run_id, b in sections.items():
        out[run_id] = {
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


def _finish(
    conn: sa.Connection, df: Any, batch: list[str], heads: dict[str, Any] | None = None
) -> Any:
    """Run-level columns from the manifests and trained cells; report order; no timestamps."""
    if df.empty:
        return df
    fields = _benchmark_fields(conn, batch, heads or {})
    runs = df["run_id"].astype(str).tolist()
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
            if incumbents:
                return _read_incumbents(conn, batch)
            heads, _, _ = _derived(conn, batch)
            return _finish(conn, _fetch(conn, _full_query(batch)), batch, heads)

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
    `keys`, the manifest holds only those sections: from the run's report head where it keeps
    them all, else extracted by the database."""
    r = runs_table.c
    query = sa.select(r.run_id).order_by(r.created, r.run_id)
    from_head = keys is not None and set(keys) <= set(HEAD_SECTIONS)
    with engine.connect() as conn:
        ids = [str(x) for x in conn.execute(query).scalars()]
        if run_ids is not None:
            wanted = set(run_ids)
            ids = [i for i in ids if i in wanted]
        derived = (*DERIVED_RUN_COLUMNS, "manifest")
        columns = [c for c in runs_table.c if c.name not in derived]
        if keys is None:
            columns.append(r.manifest)
        parts = [_manifest_part(conn, k) for k in keys or ()]
        if from_head:  # the database parses a manifest only for runs without a head
            parts = [sa.case((r.report_head.is_(None), p)) for p in parts]
            columns.append(r.report_head)
        labelled = [p.label(f"part_{k}") for k, p in zip(keys or (), parts, strict=True)]
        for batch in _batches(ids, batch_runs):
            q = sa.select(*columns, *labelled).where(r.run_id.in_(batch))
            rows = {str(x.run_id): dict(x._mapping) for x in conn.execute(q)}
            for run_id in batch:
                yield _run_row(rows[run_id], keys)


def _run_row(row: dict[str, Any], keys: tuple[str, ...] | None) -> dict[str, Any]:
    """A run row as `iter_runs` yields it: the manifest, or its `keys` sections, parsed."""
    if keys is None:
        row["manifest"] = json.loads(row["manifest"])
        return row
    head = row.pop("report_head", None)
    found = {k: _parsed(row.pop(f"part_{k}")) for k in keys}
    if head is not None:
        found = {k: v for k, v in json.loads(head).items() if k in keys}
    row["manifest"] = {k: v for k, v in found.items() if v is not None}
    return row


def derive_run_columns(conn: sa.Connection) -> int:
    """Fill `report_head` of every run and `summary` of every finished run that lacks them
    (the schema-4 migration); returns the runs updated."""
    r = runs_table.c
    todo = sa.or_(r.report_head.is_(None), sa.and_(r.status == "done", r.summary.is_(None)))
    ids = [str(x) for x in conn.execute(sa.select(r.run_id).where(todo)).scalars()]
    update = (
        runs_table.update()
        .where(r.run_id == sa.bindparam("rid"))
        .values(report_head=sa.bindparam("head"), summary=sa.bindparam("summ"))
    )
    for batch in _batches(ids):
        rows = conn.execute(
            sa.select(r.run_id, r.manifest, r.status, r.summary).where(r.run_id.in_(batch))
        ).all()
        done = summaries(conn, [str(x.run_id) for x in rows if x.status == "done"])
        values = [
            {
                "rid": x.run_id,
                "head": report_head(json.loads(x.manifest)),
                "summ": x.summary or done.get(str(x.run_id)),
            }
            for x in rows
        ]
        if values:
            conn.execute(update, values)
    return len(ids)
