"""The NB201 space as the harness sees it: parameters, keys, sampling, networks, drawings."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from harness import HarnessError
from harness.spaces.base import Categorical, Params, ParamSpace
from harness.spaces.nb201.cell import (
    EDGES,
    N_CELLS,
    OPS,
    CellError,
    NB201Cell,
    canonical_key,
    format_cell,
    parse_cell,
)

#: trained-proxy scale per profile: paper is the NB201 network (C=16, N=5); quick fits 2 CPU
#: cores; smoke is for tests (fixed from cost alone)
PROXY_SCALES: dict[str, dict[str, int]] = {
    "smoke": {"C": 4, "N": 1},
    "quick": {"C": 8, "N": 1},
    "paper": {"C": 16, "N": 5},
}


class NB201Space:
    """The space as strategies and the runner see it."""

    name = "nb201"
    param_space = ParamSpace(tuple(Categorical(f"edge_{dst}_{src}", OPS) for dst, src in EDGES))
    #: as in the NAS-Bench-201 code: C channels in the first stage, N cells per stage
    scale_keys: tuple[str, ...] = ("C", "N")
    #: the scale of the benchmark's own networks (the table's params column)
    reference_scale: dict[str, int] = {"C": 16, "N": 5}  # noqa: RUF012 (read-only by convention)

    def parse(self, text: str) -> NB201Cell:
        return parse_cell(text)

    def format(self, arch: NB201Cell) -> str:
        return format_cell(arch)

    def canonical_key(self, arch: NB201Cell) -> str:
        return canonical_key(arch)

    def sample(self, rng: np.random.Generator) -> NB201Cell:
        return NB201Cell(tuple(OPS[int(i)] for i in rng.integers(len(OPS), size=len(EDGES))))

    def mutate(self, arch: NB201Cell, rng: np.random.Generator) -> NB201Cell:
        return self.decode(self.param_space.mutate(self.encode(arch), rng))

    def encode(self, arch: NB201Cell) -> Params:
        return {p.name: op for p, op in zip(self.param_space.params, arch.ops)}

    def decode(self, params: Params) -> NB201Cell:
        try:
            self.param_space.validate(params)
        except ValueError as err:
            raise CellError(str(err)) from None
        return NB201Cell(tuple(params[p.name] for p in self.param_space.params))

    @cached_property
    def _index_of_code(self) -> np.ndarray:
        from harness.benchmarks.table import load_table

        ops = load_table().ops.astype(np.int64)
        codes = np.zeros(len(ops), dtype=np.int64)
        for col in range(ops.shape[1]):
            codes = codes * len(OPS) + ops[:, col]
        index = np.full(N_CELLS, -1, dtype=np.int64)
        index[codes] = np.arange(len(ops))
        return index

    def index(self, arch: NB201Cell) -> int:
        """Official NAS-Bench-201 index of a cell."""
        return int(self._index_of_code[arch.code])

    def from_index(self, index: int) -> NB201Cell:
        from harness.benchmarks.table import load_table

        ops = load_table().ops
        if not 0 <= int(index) < len(ops):
            raise CellError(f"NAS-Bench-201 index {index} is outside 0..{len(ops) - 1}")
        return NB201Cell(tuple(OPS[int(c)] for c in ops[int(index)]))

    def sample_unique(self, k: int, rng: np.random.Generator) -> list[NB201Cell]:
        """K distinct isomorphism classes drawn uniformly from the 6,466, each as its
        smallest-index representative (NATS-Bench's `unique_group`)."""
        from harness.benchmarks.table import load_table

        group = load_table()["unique_group"]
        reps = np.flatnonzero(group == np.arange(len(group)))
        if not 1 <= k <= len(reps):
            raise CellError(f"cannot draw {k} unique cells: the space has {len(reps)}")
        return [self.from_index(int(i)) for i in rng.choice(reps, size=k, replace=False)]

    def network(self, arch: NB201Cell, num_classes: int, **scale: int) -> Any:
        """The NB201 macro skeleton (stem, 3 stages of N cells, residual reductions)."""
        from harness.spaces.nb201.network import NB201Network

        unknown = set(scale) - set(self.scale_keys)
        if unknown:
            raise CellError(f"unknown scale setting(s) {sorted(unknown)} for nb201 (C, N)")
        return NB201Network(
            arch, c=scale.get("C", 16), n=scale.get("N", 5), num_classes=num_classes
        )

    def proxy_scale(self, profile: str) -> dict[str, int]:
        if profile not in PROXY_SCALES:
            raise HarnessError(f"nb201 has no proxy scale for profile {profile!r}")
        return dict(PROXY_SCALES[profile])

    def draw(self, ax: Any, arch: NB201Cell, **style: Any) -> None:
        from harness.spaces.nb201.draw import draw_cell

        draw_cell(ax, arch, **style)

    def legend_handles(self) -> list[Any]:
        from harness.spaces.nb201.draw import op_legend_handles

        return op_legend_handles()
