"""The DARTS cell space (one folder: genotypes, keys, encodings, ops, networks, drawing)."""

from __future__ import annotations

from harness.spaces.darts.genotype import (
    DARTS_V1,
    DARTS_V2,
    NAMED,
    OPS,
    PRIMITIVES,
    Genotype,
    GenotypeError,
    format_genotype,
    parse_genotype,
)
from harness.spaces.darts.key import canonical_key
from harness.spaces.darts.space import PROXY_SCALES, DartsSpace

__all__ = [
    "DARTS_V1",
    "DARTS_V2",
    "NAMED",
    "OPS",
    "PRIMITIVES",
    "PROXY_SCALES",
    "DartsSpace",
    "Genotype",
    "GenotypeError",
    "canonical_key",
    "format_genotype",
    "parse_genotype",
]
