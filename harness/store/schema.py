"""The store's tables (schema version 4). Changes go through a migration in migrations/."""

from __future__ import annotations

import sqlalchemy as sa

#: 1: runs, trials, evaluations; 2: trials.truth nullable, cell_evaluations;
#: 3: run leases (owner, heartbeat, expiry), the proxy code version of cached evaluations;
#: 4: what a report reads of each run, kept beside it (`DERIVED_RUN_COLUMNS`)
SCHEMA_VERSION = 4
#: the alembic revision of each schema version (migrations/versions/)
REVISIONS = {1: "0001", 2: "0002", 3: "0003", 4: "0004"}
HEAD = REVISIONS[SCHEMA_VERSION]

#: run columns the store derives for reports: never part of a run row handed to callers
DERIVED_RUN_COLUMNS = ("report_head", "summary")
#: the manifest sections `report_head` keeps
HEAD_SECTIONS = ("benchmark", "config")

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
    # the lease: who executes the run now, their last sign of life, and when it lapses
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("heartbeat", sa.Float),
    sa.Column("lease_expires", sa.Float),
    # derived, so a report of a million-trial store need not parse every manifest or scan
    # every trial (harness.store.frames): the manifest's benchmark and config sections as
    # JSON, written with the run; a finished run's incumbent-row numbers and aggregates
    sa.Column("report_head", sa.Text),
    sa.Column("summary", sa.Text),
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
    sa.Column("proxy_version", sa.String(64)),  # part of the cache key; NULL before schema 3
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
TABLES = (runs_table, trials_table, evaluations_table, cell_evaluations_table)
