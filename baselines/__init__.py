"""Competing strategies behind the same ask/tell protocol as TPE; importing registers them."""

from __future__ import annotations

from harness.baselines import evolution, gp, local_search, random_search, reinforce, smac_bo

__all__ = ["evolution", "gp", "local_search", "random_search", "reinforce", "smac_bo"]
