"""Competing strategies behind the same ask/tell protocol as TPE; importing registers them."""

from __future__ import annotations

from harness.baselines import evolution, gp, random_search

__all__ = ["evolution", "gp", "random_search"]
