"""Seed discipline: one master seed -> an independent seed per named stream.

A derived seed depends only on the master seed and the stream's names (method, benchmark,
repetition, ...), never on execution order or on which other runs exist.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _word(name: str | int) -> int:
    digest = hashlib.sha256(repr(name).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def derive_seed(master_seed: int, *names: str | int) -> int:
    """A 31-bit seed for the stream `names` under `master_seed` (numpy SeedSequence spawn keys)."""
    seq = np.random.SeedSequence(entropy=int(master_seed), spawn_key=tuple(_word(n) for n in names))
    return int(seq.generate_state(1, dtype=np.uint32)[0] & 0x7FFFFFFF)
