"""Package data: the compact NAS-Bench-201 table and a small real-image sample."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
NB201_TABLE = ASSETS / "nb201.npz"
