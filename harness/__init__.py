"""csnas-harness: a reproducible benchmark harness for label-free neural architecture search."""

from __future__ import annotations

__version__ = "0.1.0"


class HarnessError(Exception):
    """A user-facing error: the CLI prints its message as one line and exits with code 2."""
