"""Schema 4: what a report reads of each run, kept beside it: the manifest's benchmark and
config sections (`report_head`) and a finished run's incumbent-row numbers and aggregates
(`summary`), so a report of millions of trials neither parses every manifest nor scans every
trial. Existing runs get both here, computed by the code that computes them for new runs.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("report_head", sa.Text))
        batch.add_column(sa.Column("summary", sa.Text))
    from harness.store.frames import derive_run_columns

    derive_run_columns(op.get_bind())
    op.execute("UPDATE harness_meta SET value = '4' WHERE key = 'schema_version'")
