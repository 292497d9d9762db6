"""Schema 1: runs, trials (truth required), cached evaluations and the meta table.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harness_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "runs",
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
    op.create_table(
        "trials",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("arch", sa.Text, nullable=False),
        sa.Column("arch_key", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("truth", sa.Float, nullable=False),
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
    op.create_table(
        "evaluations",
        sa.Column("cache_key", sa.String(64), primary_key=True),
        sa.Column("proxy", sa.String(64), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("arch_key", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("evaluation", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.execute("INSERT INTO harness_meta (key, value) VALUES ('schema_version', '1')")
