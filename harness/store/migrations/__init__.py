"""Alembic migrations of the store schema, one revision per schema version (see schema.py)."""
