"""Two ways a strategy sees the DARTS space: per node (unbiased) or per edge (the CSNAS authors').

`node` (the NAS-Bench-301 convention): for each cell and node, which two distinct inputs it
reads (one categorical over the pairs; node 0 can only read 0 and 1, so it has none) and the op
on the lower and on the higher input (7 ops each). One assignment per genotype (pairs in input
order), so uniform parameters are uniform genotypes.

`edge` (CSNAS `search/search.py` + `model_generator.py`): one categorical over the 8 DARTS
primitives per candidate edge, 14 per cell (`normal_ops_00`..`13`, `reduced_ops_00`..`13`,
node i's edges from inputs 0..i+1 in order). Their `str2mat` makes one-hot logits (100 on the
chosen op) and `Network.genotype()` keeps each node's two edges with the highest non-`none`
softmax weight, with the best non-`none` op on each. With one-hot logits every non-`none` edge
weighs exactly 1.0 and every `none` edge exp(-100) on all its non-`none` ops, so the stable sort
keeps the lowest-index non-`none` edges; a node with fewer than two fills up with its
lowest-index `none` edges, which then carry `max_pool_3x3` (the first non-`none` primitive, as
all tie). Most nodes therefore read inputs 0 and 1 only.
"""

from __future__ import annotations

from itertools import combinations

from harness.spaces.base import Categorical, Params, ParamSpace
from harness.spaces.darts.genotype import (
    CELLS,
    N_NODES,
    OPS,
    PRIMITIVES,
    Genotype,
    GenotypeError,
    Pair,
)

ENCODINGS: tuple[str, ...] = ("node", "edge")
#: the authors' parameter-name prefixes per cell
_EDGE_PREFIX = {"normal": "normal_ops", "reduce": "reduced_ops"}
N_EDGES = sum(i + 2 for i in range(N_NODES))  # 14


def _input_choices(i: int) -> tuple[str, ...]:
    return tuple(f"{a}_{b}" for a, b in combinations(range(i + 2), 2))


def node_param_space() -> ParamSpace:
    params: list[Categorical] = []
    for cell in CELLS:
        for i in range(N_NODES):
            if i > 0:
                params.append(Categorical(f"{cell}_node{i}_inputs", _input_choices(i)))
            params.append(Categorical(f"{cell}_node{i}_op_a", OPS))
            params.append(Categorical(f"{cell}_node{i}_op_b", OPS))
    return ParamSpace(tuple(params))


def edge_param_space() -> ParamSpace:
    return ParamSpace(
        tuple(
            Categorical(f"{_EDGE_PREFIX[cell]}_{e:02d}", PRIMITIVES)
            for cell in CELLS
            for e in range(N_EDGES)
        )
    )


def _validated(space: ParamSpace, params: Params) -> None:
    try:
        space.validate(params)
    except ValueError as err:
        raise GenotypeError(str(err)) from None


def node_encode(g: Genotype) -> Params:
    out: Params = {}
    for cell in CELLS:
        for i in range(N_NODES):
            (op_a, in_a), (op_b, in_b) = sorted(g.node(cell, i), key=lambda p: p[1])
            if i > 0:
                out[f"{cell}_node{i}_inputs"] = f"{in_a}_{in_b}"
            out[f"{cell}_node{i}_op_a"] = op_a
            out[f"{cell}_node{i}_op_b"] = op_b
    return out


def node_decode(params: Params, space: ParamSpace) -> Genotype:
    _validated(space, params)
    cells: dict[str, list[Pair]] = {}
    for cell in CELLS:
        pairs: list[Pair] = []
        for i in range(N_NODES):
            inputs = params[f"{cell}_node{i}_inputs"] if i > 0 else "0_1"
            in_a, in_b = (int(x) for x in inputs.split("_"))
            pairs += [
                (params[f"{cell}_node{i}_op_a"], in_a),
                (params[f"{cell}_node{i}_op_b"], in_b),
            ]
        cells[cell] = pairs
    return Genotype(tuple(cells["normal"]), tuple(cells["reduce"]))


def _parse_cell_edges(ops: list[str]) -> tuple[Pair, ...]:
    """`Network.genotype()._parse` on one-hot weights, node by node."""
    pairs: list[Pair] = []
    start = 0
    for i in range(N_NODES):
        edge_ops = ops[start : start + i + 2]
        live = [j for j, op in enumerate(edge_ops) if op != "none"]
        dead = [j for j, op in enumerate(edge_ops) if op == "none"]
        for j in (live + dead)[:2]:
            pairs.append((edge_ops[j] if edge_ops[j] != "none" else PRIMITIVES[1], j))
        start += i + 2
    return tuple(pairs)


def edge_decode(params: Params, space: ParamSpace) -> Genotype:
    _validated(space, params)
    cells = {
        cell: _parse_cell_edges([params[f"{_EDGE_PREFIX[cell]}_{e:02d}"] for e in range(N_EDGES)])
        for cell in CELLS
    }
    return Genotype(cells["normal"], cells["reduce"])


def edge_encode(g: Genotype) -> Params:
    """An edge assignment that decodes to `g`: its 8 edges carry their ops, the rest `none`.

    Every genotype of the space has one (each node then has exactly its two edges non-`none`,
    which `genotype()` keeps, lower input first), so this never fails for a valid genotype.
    """
    out: Params = {}
    for cell in CELLS:
        start = 0
        for i in range(N_NODES):
            chosen = {src: op for op, src in g.node(cell, i)}
            for j in range(i + 2):
                out[f"{_EDGE_PREFIX[cell]}_{start + j:02d}"] = chosen.get(j, "none")
            start += i + 2
    return out
