"""The NAS-Bench-201 cell space (one folder: cells, space, network, drawing)."""

from __future__ import annotations

from harness.spaces.nb201.cell import (
    EDGES,
    N_CELLS,
    OPS,
    CellError,
    NB201Cell,
    canonical_key,
    format_cell,
    is_connected,
    parse_cell,
)
from harness.spaces.nb201.space import NB201Space

__all__ = [
    "EDGES",
    "N_CELLS",
    "OPS",
    "CellError",
    "NB201Cell",
    "NB201Space",
    "canonical_key",
    "format_cell",
    "is_connected",
    "parse_cell",
]
