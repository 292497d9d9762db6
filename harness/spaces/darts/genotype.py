"""DARTS genotypes: two cells of 4 intermediate nodes, each node the sum of two (op, input) pairs.

Written as DARTS writes them (`cnn/genotypes.py`):
`Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...],
reduce_concat=[2, 3, 4, 5])`, node i's pairs at positions 2i and 2i+1, inputs 0 and 1 the two
previous cells' outputs (c_{k-2}, c_{k-1}) and input j >= 2 intermediate node j - 2. The space
is the DARTS paper's: 7 ops (`none` is only a search-time candidate), two distinct inputs per
node, and the cell output is the concatenation of all 4 nodes.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

from harness import HarnessError

#: DARTS's PRIMITIVES, in its order (the edge encoding's choices, `none` first)
PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
#: ops a genotype may hold: everything but `none`
OPS: tuple[str, ...] = PRIMITIVES[1:]
N_NODES = 4
CONCAT: tuple[int, ...] = tuple(range(2, 2 + N_NODES))
CELLS: tuple[str, ...] = ("normal", "reduce")

Pair = tuple[str, int]


class GenotypeError(HarnessError, ValueError):
    """A genotype (text, JSON or pairs) that is not in the DARTS cell space."""


def _check_cell(pairs: tuple[Pair, ...], cell: str) -> None:
    if len(pairs) != 2 * N_NODES:
        raise GenotypeError(
            f"a DARTS {cell} cell has {2 * N_NODES} (op, input) pairs, got {len(pairs)}: {pairs}"
        )
    for i in range(N_NODES):
        (op_a, in_a), (op_b, in_b) = pairs[2 * i], pairs[2 * i + 1]
        for op, src in ((op_a, in_a), (op_b, in_b)):
            if op not in OPS:
                hint = " (`none` is a search-time op, never in a genotype)" if op == "none" else ""
                raise GenotypeError(
                    f"unknown op {op!r} in {cell} node {i}{hint} (ops: {', '.join(OPS)})"
                )
            if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < i + 2:
                raise GenotypeError(
                    f"{cell} node {i} reads input {src!r}; it may read 0..{i + 1} "
                    "(0, 1: the previous cells; j >= 2: node j-2)"
                )
        if in_a == in_b:
            raise GenotypeError(
                f"{cell} node {i} reads input {in_a} twice; DARTS nodes read two distinct inputs"
            )


@dataclass(frozen=True)
class Genotype:
    """Both cells' (op, input) pairs in DARTS order; the concat is always nodes 2..5."""

    normal: tuple[Pair, ...]
    reduce: tuple[Pair, ...]

    def __post_init__(self) -> None:
        _check_cell(self.normal, "normal")
        _check_cell(self.reduce, "reduce")

    def cell(self, name: str) -> tuple[Pair, ...]:
        return self.normal if name == "normal" else self.reduce

    def node(self, cell: str, i: int) -> tuple[Pair, Pair]:
        pairs = self.cell(cell)
        return pairs[2 * i], pairs[2 * i + 1]

    def normalized(self) -> Genotype:
        """Each node's two pairs ordered by input (the node encoding's order)."""
        return Genotype(_sort_pairs(self.normal), _sort_pairs(self.reduce))

    def to_json(self) -> str:
        return json.dumps(
            {
                "normal": [list(p) for p in self.normal],
                "normal_concat": list(CONCAT),
                "reduce": [list(p) for p in self.reduce],
                "reduce_concat": list(CONCAT),
            }
        )

    def __str__(self) -> str:
        return format_genotype(self)


def _sort_pairs(pairs: tuple[Pair, ...]) -> tuple[Pair, ...]:
    out: list[Pair] = []
    for i in range(N_NODES):
        out.extend(sorted(pairs[2 * i : 2 * i + 2], key=lambda p: (p[1], p[0])))
    return tuple(out)


def format_genotype(g: Genotype) -> str:
    """The DARTS text form, as `genotype()` prints it (concat written as a list)."""
    concat = list(CONCAT)
    return (
        f"Genotype(normal={list(g.normal)}, normal_concat={concat}, "
        f"reduce={list(g.reduce)}, reduce_concat={concat})"
    )


DARTS_V1 = Genotype(
    normal=(
        ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
        ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2),
    ),
    reduce=(
        ("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
        ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0),
    ),
)  # fmt: skip
DARTS_V2 = Genotype(
    normal=(
        ("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2),
    ),
    reduce=(
        ("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
        ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1),
    ),
)  # fmt: skip
#: reference genotypes usable wherever a genotype string is accepted (DARTS = DARTS_V2 there)
NAMED: dict[str, Genotype] = {"DARTS_V1": DARTS_V1, "DARTS_V2": DARTS_V2, "DARTS": DARTS_V2}


def _pairs(value: Any, cell: str, text: str) -> tuple[Pair, ...]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(p, (list, tuple)) and len(p) == 2 for p in value
    ):
        raise GenotypeError(f"{cell} of {text!r} must be a list of (op, input) pairs")
    return tuple((p[0], p[1]) for p in value)


def _concat(value: Any, cell: str, text: str) -> None:
    if value is not None and (not isinstance(value, (list, tuple)) or list(value) != list(CONCAT)):
        raise GenotypeError(
            f"{cell}_concat of {text!r} is {list(value)}; the DARTS space concatenates all "
            f"four nodes {list(CONCAT)}"
        )


def _from_fields(fields: dict[str, Any], text: str) -> Genotype:
    unknown = set(fields) - {"normal", "normal_concat", "reduce", "reduce_concat"}
    if unknown or "normal" not in fields or "reduce" not in fields:
        raise GenotypeError(
            f"a genotype has fields normal, reduce (and optional *_concat), got {sorted(fields)} "
            f"in {text!r}"
        )
    for cell in CELLS:
        _concat(fields.get(f"{cell}_concat"), cell, text)
    try:
        return Genotype(
            _pairs(fields["normal"], "normal", text), _pairs(fields["reduce"], "reduce", text)
        )
    except GenotypeError as err:
        raise GenotypeError(f"{err} (in {text!r})") from None


def _literal(node: ast.expr, text: str) -> Any:
    """A literal list/tuple, or `range(a, b)` as DARTS's search writes concats."""
    try:
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "range":
            bounds = range(*[ast.literal_eval(a) for a in node.args])
            if len(bounds) > 2 * N_NODES:
                raise ValueError
            return list(bounds)
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        raise GenotypeError(f"not a DARTS genotype: {text!r}") from None


def _parse_text(text: str) -> Genotype:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise GenotypeError(f"not a DARTS genotype: {text!r}") from None
    if not (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Name)
        and tree.func.id == "Genotype"
    ):
        raise GenotypeError(f"not a DARTS genotype (want Genotype(normal=..., ...)): {text!r}")
    names = ("normal", "normal_concat", "reduce", "reduce_concat")
    fields = {names[i]: _literal(a, text) for i, a in enumerate(tree.args[: len(names)])}
    if len(tree.args) > len(names) or any(k.arg is None for k in tree.keywords):
        raise GenotypeError(f"not a DARTS genotype: {text!r}")
    for k in tree.keywords:
        if k.arg in fields:
            raise GenotypeError(f"field {k.arg} given twice in {text!r}")
        fields[str(k.arg)] = _literal(k.value, text)
    return _from_fields(fields, text)


def parse_genotype(text: str) -> Genotype:
    """A genotype from its DARTS text form, its JSON form, or a reference name (DARTS_V2).

    Every malformed input raises one GenotypeError line that quotes it.
    """
    if not isinstance(text, str):
        raise GenotypeError(f"not a DARTS genotype string: {text!r}")
    stripped = text.strip()
    if stripped.upper() in NAMED:
        return NAMED[stripped.upper()]
    if stripped.startswith("{"):
        try:
            fields = json.loads(stripped)
        except json.JSONDecodeError:
            raise GenotypeError(f"not a DARTS genotype (bad JSON): {text!r}") from None
        if not isinstance(fields, dict):
            raise GenotypeError(f"not a DARTS genotype: {text!r}")
        return _from_fields(fields, text)
    if not stripped.startswith("Genotype("):
        known = ", ".join(NAMED)
        raise GenotypeError(
            f"not a DARTS genotype (text form Genotype(...), JSON, or one of {known}): {text!r}"
        )
    return _parse_text(stripped)
