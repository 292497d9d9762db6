"""What a strategy sees of a search space: named categorical parameters.

Strategies know nothing of cells or networks; a space encodes its architectures as a dict
`{param name: choice}` over a `ParamSpace` and decodes them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

Params = dict[str, str]


@dataclass(frozen=True)
class Categorical:
    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class ParamSpace:
    params: tuple[Categorical, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def size(self) -> int:
        n = 1
        for p in self.params:
            n *= len(p.choices)
        return n

    def validate(self, params: Params) -> None:
        """Raise ValueError naming the first parameter that is missing or out of range."""
        if set(params) != set(self.names):
            raise ValueError(f"parameters {sorted(params)} do not match {sorted(self.names)}")
        for p in self.params:
            if params[p.name] not in p.choices:
                raise ValueError(f"parameter {p.name}={params[p.name]!r} not in {p.choices}")

    def sample(self, rng: np.random.Generator) -> Params:
        return {p.name: p.choices[int(rng.integers(len(p.choices)))] for p in self.params}

    def mutate(self, params: Params, rng: np.random.Generator) -> Params:
        """Change one parameter to a different choice (NATS-Bench's single-edge mutation)."""
        mutable = [p for p in self.params if len(p.choices) > 1]
        p = mutable[int(rng.integers(len(mutable)))]
        others = [c for c in p.choices if c != params[p.name]]
        child = dict(params)
        child[p.name] = others[int(rng.integers(len(others)))]
        return child


class SearchSpace(Protocol):
    """Architectures of one space: parse/format, canonical key, sample, mutate, encode/decode."""

    name: str
    param_space: ParamSpace

    def parse(self, text: str) -> Any: ...

    def format(self, arch: Any) -> str: ...

    def canonical_key(self, arch: Any) -> str: ...

    def sample(self, rng: np.random.Generator) -> Any: ...

    def mutate(self, arch: Any, rng: np.random.Generator) -> Any: ...

    def encode(self, arch: Any) -> Params: ...

    def decode(self, params: Params) -> Any: ...
