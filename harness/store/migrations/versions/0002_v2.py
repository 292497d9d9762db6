"""Schema 2: trials.truth nullable (open spaces have no table); cell_evaluations.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.alter_column("truth", existing_type=sa.Float, nullable=True)
    op.create_table(
        "cell_evaluations",
        sa.Column("eval_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64)),
        sa.Column("benchmark", sa.String(64), nullable=False),
        sa.Column("arch", sa.Text, nullable=False),
        sa.Column("arch_key", sa.Text, nullable=False),
        sa.Column("protocol", sa.String(64), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("test_acc", sa.Float),
        sa.Column("params", sa.BigInteger),
        sa.Column("wall_s", sa.Float),
        sa.Column("device", sa.Text),
        sa.Column("curve", sa.Text),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("finished", sa.Float),
    )
    op.execute("UPDATE harness_meta SET value = '2' WHERE key = 'schema_version'")
