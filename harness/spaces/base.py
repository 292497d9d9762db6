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
    """One strategy-visible parameter.

    Attributes:
        name: The parameter's key in a `Params` dict (e.g. "edge_1_0").
        choices: Its values, in a fixed order (strategies may index them).
    """

    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class ParamSpace:
    """What a strategy searches: named categorical parameters, in a fixed order.

    Attributes:
        params: The parameters; `Params` dicts hold one choice for each.
    """

    params: tuple[Categorical, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in order."""
        return tuple(p.name for p in self.params)

    @property
    def size(self) -> int:
        """How many parameter assignments exist (the product of the choice counts)."""
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
        """One assignment, each parameter uniform and independent, drawn from `rng` only."""
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

    What the harness relies on (`harness.testing.SpaceConformance` checks each point):
    `parse(format(a))` equals `a`; `decode(encode(a))` equals `a` and `encode` gives valid
    `Params`; `canonical_key` is equal for isomorphic architectures (trials are cached and
    counted by it); `sample`, `sample_unique` and `mutate` draw from the given generator
    only (same seed, same architectures); `mutate` returns a valid architecture;
    `network(arch, num_classes, **scale)` builds and runs at a tiny scale on CPU. A space is
    part of every run's identity through its module's code.

    Attributes:
        name: The registered name.
        param_space: The parameters strategies search; `encode`/`decode` map to and from it.
        scale_keys: Names of the scale settings `network` takes (e.g. ("C", "N") for NB201).
        reference_scale: The scale the space's reference code reports (NB201 C=16 N=5;
            DARTS C=36 layers=20): `harness describe` counts parameters there by default.
    """

    name: str
    param_space: ParamSpace
    scale_keys: tuple[str, ...]
    reference_scale: dict[str, int]

    def parse(self, text: str) -> Any:
        """The architecture written as `text` (the space's string form); raises on bad text."""
        ...

    def format(self, arch: Any) -> str:
        """The string form of `arch` (stored with every trial; `parse` reads it back)."""
        ...

    def canonical_key(self, arch: Any) -> str:
        """A string equal for isomorphic architectures and different otherwise, where the
        space knows its isomorphisms (else the architecture's own string)."""
        ...

    def sample(self, rng: np.random.Generator) -> Any:
        """One architecture drawn from `rng` only."""
        ...

    def sample_unique(self, k: int, rng: np.random.Generator) -> list[Any]:
        """K architectures from distinct isomorphism classes, uniformly over classes where the
        classes are known (else uniformly over architectures, distinct canonical keys)."""
        ...

    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        """A valid neighbour of `arch` (one change), drawn from `rng` only."""
        ...

    def encode(self, arch: Any) -> Params:
        """`arch` as strategy parameters (valid for `param_space`)."""
        ...

    def decode(self, params: Params) -> Any:
        """The architecture a strategy's `params` stand for; raises on invalid params."""
        ...

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
