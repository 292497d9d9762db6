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
    """Architectures of one space: everything the rest of the harness may ask of them.

    Nothing outside a space's folder (and its benchmarks) imports the space's types: the
    runner, proxies, reports and figures hold architectures as opaque objects and go through
    these methods. `network` builds a torch module for trained and zero-cost proxies; its
    scale settings are named by `scale_keys` (as in the space's reference code) and its
    forward returns (batch, num_classes) logits, with `features(x)` the pooled embedding of
    width `feature_dim` and `classifier` the final Linear.
    """

    name: str
    param_space: ParamSpace
    #: names of the scale settings `network` takes (e.g. ("C", "N") for NB201)
    scale_keys: tuple[str, ...]
    #: the scale the space's reference code reports (NB201 C=16 N=5; DARTS C=36 layers=20):
    #: `harness describe` counts parameters there by default
    reference_scale: dict[str, int]

    def parse(self, text: str) -> Any: ...

    def format(self, arch: Any) -> str: ...

    def canonical_key(self, arch: Any) -> str: ...

    def sample(self, rng: np.random.Generator) -> Any: ...

    def sample_unique(self, k: int, rng: np.random.Generator) -> list[Any]:
        """K architectures from distinct isomorphism classes, uniformly over classes where the
        classes are known (else uniformly over architectures, distinct canonical keys)."""
        ...

    def mutate(self, arch: Any, rng: np.random.Generator) -> Any: ...

    def encode(self, arch: Any) -> Params: ...

    def decode(self, params: Params) -> Any: ...

    def network(self, arch: Any, num_classes: int, **scale: int) -> Any:
        """A torch module for the architecture at the given scale (keys from `scale_keys`)."""
        ...

    def proxy_scale(self, profile: str) -> dict[str, int]:
        """The network scale trained proxies use at a profile ('smoke', 'quick', 'paper'):
        a value for every key in `scale_keys`; explicit proxy settings override it."""
        ...

    def draw(self, ax: Any, arch: Any, **style: Any) -> None:
        """Draw the architecture on a matplotlib axis (figures of found cells)."""
        ...
