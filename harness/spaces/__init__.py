"""Search spaces, registered by name."""

from __future__ import annotations

from harness.registry import Registry
from harness.spaces.base import Categorical, Params, ParamSpace, SearchSpace
from harness.spaces.darts import DartsSpace
from harness.spaces.nb201 import NB201Cell, NB201Space

SPACES: Registry[SearchSpace] = Registry("search space")
SPACES.register("nb201", NB201Space())
SPACES.register("darts", DartsSpace("node"))
SPACES.register("darts-edge", DartsSpace("edge"))

__all__ = [
    "SPACES",
    "Categorical",
    "NB201Cell",
    "NB201Space",
    "ParamSpace",
    "Params",
    "SearchSpace",
]
