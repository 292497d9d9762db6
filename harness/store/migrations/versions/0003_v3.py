"""Schema 3: run leases (owner, heartbeat, expiry); the proxy code version of cached evaluations.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200)))
        batch.add_column(sa.Column("heartbeat", sa.Float))
        batch.add_column(sa.Column("lease_expires", sa.Float))
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("proxy_version", sa.String(64)))
    op.execute("UPDATE harness_meta SET value = '3' WHERE key = 'schema_version'")
