"""The store: runs (with leases), trials, cached evaluations, trained returned cells, manifests.

`Store` is the protocol callers use; `open_store(url)` gives the SQLAlchemy implementation on
SQLite (default) or PostgreSQL. See base.py (protocol), sql.py (implementation), connect.py
(opening, creation, migrations) and schema.py (tables).
"""

from __future__ import annotations

from harness.store.base import DEFAULT_URL, Holder, Store, evaluation_key, redact
from harness.store.connect import open_store, schema_version
from harness.store.schema import SCHEMA_VERSION
from harness.store.sql import SqlStore

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "Holder",
    "SqlStore",
    "Store",
    "evaluation_key",
    "open_store",
    "redact",
    "schema_version",
]
