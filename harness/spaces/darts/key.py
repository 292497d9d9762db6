"""Canonical keys: genotypes that build the same network (up to renaming its weights) share one.

Per cell, two things do not change the network: the order of a node's two (op, input) pairs
(their sum commutes) and the numbering of the intermediate nodes, as long as every node still
reads only lower-numbered nodes. Renumbering nodes permutes the channel blocks of the cell's
concatenated output, and everything that reads that output starts with a layer that mixes all
its channels (the next cells' 1x1 ReLUConvBN or FactorizedReduce, the auxiliary head's 1x1
conv, global pooling + the classifier), so the permutation is absorbed by that layer's weights.
The key is the smallest relabelled cell over the (at most 4! = 24) valid numberings.

Not merged (each gives a distinct key): algebraic coincidences between different ops (e.g. a
skip_connect chain vs a direct edge, pools of pools), anything across the two cells, and cells
that compute the same function only for particular weights. Networks with equal keys still
initialise differently under one seed: equal keys mean the same architecture, not the same
trained model.
"""

from __future__ import annotations

from itertools import permutations

from harness.spaces.darts.genotype import CELLS, N_NODES, Genotype, Pair

Node = tuple[tuple[int, str], tuple[int, str]]


def _relabel(pairs: tuple[Pair, ...], order: tuple[int, ...]) -> tuple[Node, ...] | None:
    """The cell with old node order[k] as new node k; None if some node would read a later one."""
    new_of = {old + 2: new + 2 for new, old in enumerate(order)}
    nodes: list[Node] = []
    for new, old in enumerate(order):
        terms = []
        for op, src in pairs[2 * old : 2 * old + 2]:
            mapped = new_of.get(src, src)
            if mapped >= new + 2:
                return None
            terms.append((mapped, op))
        a, b = sorted(terms)
        nodes.append((a, b))
    return tuple(nodes)


def cell_key(pairs: tuple[Pair, ...]) -> str:
    """The cell's canonical form, written `op~input+op~input` per node, nodes joined by `/`."""
    forms = (_relabel(pairs, order) for order in permutations(range(N_NODES)))
    best = min(f for f in forms if f is not None)
    return "/".join("+".join(f"{op}~{src}" for src, op in node) for node in best)


def canonical_key(g: Genotype) -> str:
    return ";".join(f"{cell}={cell_key(g.cell(cell))}" for cell in CELLS)
