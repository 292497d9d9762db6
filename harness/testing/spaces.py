"""Conformance checks for a search space (`harness.contracts.SearchSpace`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from harness.testing._common import resolve

PROFILES = ("smoke", "quick", "paper")


@dataclass(frozen=True)
class SpaceCase:
    """One space to check.

    Attributes:
        space: A registered name, or "package.module:attribute" of a space object.
        scale: A tiny network scale for the forward pass (the space's `proxy_scale("smoke")`
            when empty).
        samples: How many seeded samples the round trips and mutations run on.
        isomorphic: Pairs of architecture texts that must share a canonical key.
        distinct: Pairs of architecture texts that must not.
        num_classes: Output width the network is built with.
        image_size: Side of the random images of the forward pass.
        plugins: Plugin modules to load first.
    """

    space: str
    scale: dict[str, int] = field(default_factory=dict)
    samples: int = 20
    isomorphic: tuple[tuple[str, str], ...] = ()
    distinct: tuple[tuple[str, str], ...] = ()
    num_classes: int = 10
    image_size: int = 32
    plugins: tuple[str, ...] = ()

    def get(self) -> Any:
        from harness.spaces import SPACES

        return resolve(self.space, SPACES, self.plugins)

    def draw(self, seed: int = 0) -> list[Any]:
        rng = np.random.default_rng(seed)
        space = self.get()
        return [space.sample(rng) for _ in range(self.samples)]


class SpaceConformance:
    """Checks every space must pass. Subclass it and set `case` (or override the
    `space_case` fixture)."""

    case: SpaceCase | None = None

    @pytest.fixture
    def space_case(self) -> SpaceCase:
        if self.case is None:
            raise NotImplementedError("set `case = SpaceCase(...)` or override space_case")
        return self.case

    def test_parse_format_round_trip(self, space_case: SpaceCase) -> None:
        space = space_case.get()
        for arch in space_case.draw():
            text = space.format(arch)
            assert isinstance(text, str)
            back = space.parse(text)
            assert back == arch and space.format(back) == text

    def test_canonical_key_stable(self, space_case: SpaceCase) -> None:
        """The key survives a round trip; given isomorphic pairs share it, distinct don't."""
        space = space_case.get()
        for arch in space_case.draw():
            key = space.canonical_key(arch)
            assert isinstance(key, str) and key
            assert space.canonical_key(space.parse(space.format(arch))) == key
            assert space.canonical_key(space.decode(space.encode(arch))) == key
        for a, b in space_case.isomorphic:
            assert space.canonical_key(space.parse(a)) == space.canonical_key(space.parse(b))
        for a, b in space_case.distinct:
            assert space.canonical_key(space.parse(a)) != space.canonical_key(space.parse(b))

    def test_seeded_sampling(self, space_case: SpaceCase) -> None:
        """Same generator seed, same architectures (sample and sample_unique); another seed
        differs; sample_unique gives distinct keys."""
        space = space_case.get()
        fmt = space.format
        assert [fmt(a) for a in space_case.draw(0)] == [fmt(a) for a in space_case.draw(0)]
        assert [fmt(a) for a in space_case.draw(0)] != [fmt(a) for a in space_case.draw(1)]
        k = min(space_case.samples, 10)
        unique = space.sample_unique(k, np.random.default_rng(0))
        again = space.sample_unique(k, np.random.default_rng(0))
        assert [fmt(a) for a in unique] == [fmt(a) for a in again]
        assert len({space.canonical_key(a) for a in unique}) == k

    def test_mutation_stays_valid(self, space_case: SpaceCase) -> None:
        space = space_case.get()
        rng = np.random.default_rng(1)
        for arch in space_case.draw():
            child = space.mutate(arch, rng)
            params = space.encode(child)
            space.param_space.validate(params)
            assert space.decode(params) == child
            assert space.parse(space.format(child)) == child

    def test_encode_decode_round_trip(self, space_case: SpaceCase) -> None:
        space = space_case.get()
        for arch in space_case.draw():
            params = space.encode(arch)
            space.param_space.validate(params)
            assert space.decode(params) == arch
        rng = np.random.default_rng(2)
        for _ in range(space_case.samples):  # what strategies send: any valid Params
            params = space.param_space.sample(rng)
            space.format(space.decode(params))

    def test_network_forward_at_a_tiny_scale(self, space_case: SpaceCase) -> None:
        """`network(arch, num_classes, **scale)`: (batch, num_classes) finite logits,
        `features(x)` of width `feature_dim`; `proxy_scale` names every scale key."""
        import torch

        space = space_case.get()
        for profile in PROFILES:
            assert set(space.proxy_scale(profile)) == set(space.scale_keys)
        assert set(space.reference_scale) == set(space.scale_keys)
        scale = space_case.scale or space.proxy_scale("smoke")
        gen = torch.Generator().manual_seed(0)
        side = space_case.image_size
        x = torch.randn(2, 3, side, side, generator=gen)
        for arch in space_case.draw()[:2]:
            net = space.network(arch, space_case.num_classes, **scale).eval()
            with torch.no_grad():
                out = net(x)
                features = net.features(x)
            assert tuple(out.shape) == (2, space_case.num_classes)
            assert all(math.isfinite(v) for v in out.flatten().tolist())
            assert tuple(features.shape) == (2, net.feature_dim)
