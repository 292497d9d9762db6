"""The NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 ops per edge, 15,625 cells.

A cell is written `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`: node j's inputs from nodes 0..j-1.
The official index (0..15624) is not a product order; it comes from the shipped table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (to_node, from_node) in arch-string order
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
N_CELLS = len(OPS) ** len(EDGES)
_NODE_RE = re.compile(r"^\|(?:[a-z0-9_]+~\d\|)+$")


class CellError(ValueError):
    """A cell string or op list that is not a NAS-Bench-201 cell."""


@dataclass(frozen=True)
class NB201Cell:
    """One NAS-Bench-201 cell: the op on each of the six edges, in arch-string order."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.ops) != len(EDGES):
            raise CellError(f"a NAS-Bench-201 cell has 6 edges, got {len(self.ops)}: {self.ops}")
        for op in self.ops:
            if op not in OPS:
                raise CellError(f"unknown op {op!r} in cell {self.ops} (ops: {', '.join(OPS)})")

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(OPS.index(op) for op in self.ops)

    @property
    def code(self) -> int:
        """Base-5 number of the op codes: a dense id in product order (not the NB201 index)."""
        value = 0
        for c in self.codes:
            value = value * len(OPS) + c
        return value

    def node_inputs(self, node: int) -> list[tuple[str, int]]:
        return [(op, src) for op, (dst, src) in zip(self.ops, EDGES) if dst == node]

    def __str__(self) -> str:
        return format_cell(self)


def parse_cell(text: str) -> NB201Cell:
    """Parse an arch string; every malformed string raises a CellError that quotes it."""
    if not isinstance(text, str):
        raise CellError(f"not a NAS-Bench-201 cell string: {text!r}")
    nodes = text.strip().split("+")
    if len(nodes) != 3 or not all(_NODE_RE.match(n) for n in nodes):
        raise CellError(f"not a NAS-Bench-201 cell string: {text!r}")
    ops: list[str] = []
    for j, node in enumerate(nodes, start=1):
        items = node.strip("|").split("|")
        if len(items) != j:
            raise CellError(f"node {j} of {text!r} must have {j} inputs, has {len(items)}")
        for i, item in enumerate(items):
            op, _, src = item.partition("~")
            if int(src) != i:
                raise CellError(f"node {j} of {text!r}: input {i} is written as ~{src}")
            if op not in OPS:
                raise CellError(f"unknown op {op!r} in {text!r} (ops: {', '.join(OPS)})")
            ops.append(op)
    return NB201Cell(tuple(ops))


def format_cell(cell: NB201Cell) -> str:
    parts = []
    for node in (1, 2, 3):
        parts.append("|" + "|".join(f"{op}~{src}" for op, src in cell.node_inputs(node)) + "|")
    return "+".join(parts)


def canonical_key(cell: NB201Cell) -> str:
    """Isomorphism key, the same partition as NATS-Bench's `get_unique_str` (6,466 classes).

    Each node is the sorted sum of its input terms; a skip connection passes its input term
    through, `none` (or an input that is exactly zero) contributes `#`. Kept identical to the
    benchmark's own key so that cache hits and 'unique cells' counts agree with the table.
    """
    nodes = {0: "0"}
    for node in (1, 2, 3):
        terms = []
        for op, src in cell.node_inputs(node):
            x = nodes[src]
            if op == "none" or x == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(x)
            else:
                terms.append(f"({x})@{op}")
        nodes[node] = "+".join(sorted(terms))
    return nodes[3]


def is_connected(cell: NB201Cell) -> bool:
    """Whether some path of non-`none` edges leads from the input (node 0) to the output."""
    reach = {0}
    for node in (1, 2, 3):
        if any(op != "none" and src in reach for op, src in cell.node_inputs(node)):
            reach.add(node)
    return 3 in reach
