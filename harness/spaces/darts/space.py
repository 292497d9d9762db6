"""The DARTS space as the harness sees it, in either encoding (`darts`: node, `darts-edge`: edge).

Both spaces hold the same genotypes, keys and networks; only the parameters a strategy
searches over differ. Sampling and mutation go through the node encoding (uniform over
genotypes; a mutation changes one node's inputs or one op), whatever the strategy's encoding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness import HarnessError
from harness.spaces.base import Params, ParamSpace
from harness.spaces.darts.encodings import (
    ENCODINGS,
    edge_decode,
    edge_encode,
    edge_param_space,
    node_decode,
    node_encode,
    node_param_space,
)
from harness.spaces.darts.genotype import Genotype, format_genotype, parse_genotype
from harness.spaces.darts.key import canonical_key

#: network scale per trained-proxy profile; `paper` is the CSNAS authors' candidate network
PROXY_SCALES: dict[str, dict[str, int]] = {
    "smoke": {"C": 4, "layers": 2},
    "quick": {"C": 8, "layers": 3},
    "paper": {"C": 32, "layers": 8},
}
#: the scale DARTS reports its figures at (evaluation network, 3.3 M params for DARTS_V2)
REFERENCE_SCALE: dict[str, int] = {"C": 36, "layers": 20}


class DartsSpace:
    """The DARTS cell space (4 nodes, 8 candidate ops, normal + reduction cell)."""

    scale_keys: tuple[str, ...] = ("C", "layers")
    reference_scale = REFERENCE_SCALE

    def __init__(self, encoding: str = "node") -> None:
        if encoding not in ENCODINGS:
            raise HarnessError(f"unknown DARTS encoding {encoding!r} (encodings: node, edge)")
        self.encoding = encoding
        self.name = "darts" if encoding == "node" else "darts-edge"
        self._node_space = node_param_space()
        self.param_space: ParamSpace = (
            self._node_space if encoding == "node" else edge_param_space()
        )

    def parse(self, text: str) -> Genotype:
        return parse_genotype(text)

    def format(self, arch: Genotype) -> str:
        return format_genotype(arch)

    def canonical_key(self, arch: Genotype) -> str:
        return canonical_key(arch)

    def sample(self, rng: np.random.Generator) -> Genotype:
        """Uniform over genotypes (the node encoding's parameters are one per genotype)."""
        return node_decode(self._node_space.sample(rng), self._node_space)

    def sample_unique(self, k: int, rng: np.random.Generator) -> list[Genotype]:
        """K genotypes drawn uniformly, skipping repeats of a canonical key (classes are too many
        to enumerate, so this is uniform over genotypes, not over classes)."""
        if k < 1:
            raise HarnessError(f"cannot draw {k} unique genotypes: k must be positive")
        seen: set[str] = set()
        out: list[Genotype] = []
        while len(out) < k:
            g = self.sample(rng)
            key = canonical_key(g)
            if key not in seen:
                seen.add(key)
                out.append(g)
        return out

    def mutate(self, arch: Genotype, rng: np.random.Generator) -> Genotype:
        params = self._node_space.mutate(node_encode(arch), rng)
        return node_decode(params, self._node_space)

    def encode(self, arch: Genotype) -> Params:
        return node_encode(arch) if self.encoding == "node" else edge_encode(arch)

    def decode(self, params: Params) -> Genotype:
        if self.encoding == "node":
            return node_decode(params, self.param_space)
        return edge_decode(params, self.param_space)

    def network(self, arch: Genotype, num_classes: int, **scale: int) -> Any:
        """NetworkCIFAR without auxiliary head or drop-path; default scale C=32, layers=8 (the
        CSNAS authors' candidate network)."""
        from harness.spaces.darts.network import DartsNetwork

        unknown = set(scale) - set(self.scale_keys)
        if unknown:
            raise HarnessError(
                f"unknown scale setting(s) {sorted(unknown)} for {self.name} (C, layers)"
            )
        try:
            return DartsNetwork(
                arch, c=scale.get("C", 32), layers=scale.get("layers", 8), num_classes=num_classes
            )
        except ValueError as err:
            raise HarnessError(f"{self.name} network: {err}") from None

    def evaluation_network(self, arch: Genotype, num_classes: int, **scale: int) -> Any:
        """The hook `harness evaluate` trains through: DARTS's evaluation network (auxiliary
        head, drop-path; forward gives (logits, aux)) at C=36, 20 cells unless scaled."""
        from harness.spaces.darts.network import evaluation_network

        unknown = set(scale) - set(self.scale_keys)
        if unknown:
            raise HarnessError(
                f"unknown scale setting(s) {sorted(unknown)} for {self.name} (C, layers)"
            )
        try:
            scale = {**REFERENCE_SCALE, **scale}
            return evaluation_network(arch, num_classes, C=scale["C"], layers=scale["layers"])
        except ValueError as err:
            raise HarnessError(f"{self.name} evaluation network: {err}") from None

    def proxy_scale(self, profile: str) -> dict[str, int]:
        """Network scale for a trained-proxy profile (smoke, quick, paper)."""
        if profile not in PROXY_SCALES:
            raise HarnessError(
                f"unknown profile {profile!r} for {self.name} (profiles: {', '.join(PROXY_SCALES)})"
            )
        return dict(PROXY_SCALES[profile])

    def draw(self, ax: Any, arch: Genotype, **style: Any) -> None:
        from harness.spaces.darts.draw import draw_genotype

        draw_genotype(ax, arch, **style)
