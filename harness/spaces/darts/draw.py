"""Draw a DARTS genotype: the normal cell above the reduction cell, on one axis.

Each cell is a row of nodes c_{k-2}, c_{k-1}, 0..3, c_{k}, input j at x = j * SPACING. Edges
from c_{k-2} and from intermediate nodes arc above the row, edges from c_{k-1} below it, each
labelled at its apex with a short op name (an arc's height grows with its span, so labels do
not collide); the concatenation into c_{k} is drawn as thin grey arcs below the row.
"""

from __future__ import annotations

from typing import Any

from harness.spaces.darts.genotype import CELLS, CONCAT, N_NODES, Genotype, parse_genotype

#: op -> (short label, colour)
OP_STYLE: dict[str, tuple[str, str]] = {
    "max_pool_3x3": ("max", "#b35806"),
    "avg_pool_3x3": ("avg", "#e08214"),
    "skip_connect": ("skip", "#555555"),
    "sep_conv_3x3": ("sep3", "#762a83"),
    "sep_conv_5x5": ("sep5", "#9970ab"),
    "dil_conv_3x3": ("dil3", "#1b7837"),
    "dil_conv_5x5": ("dil5", "#5aae61"),
}
CONCAT_COLOR = "#bdbdbd"
SPACING = 1.25
OUT_X = (N_NODES + 2.2) * SPACING  # c_{k}: a little beyond the last node
RAD = 0.5  # arc bend; negative rad bends a left-to-right arc upwards (matplotlib's arc3)
RAD_INNER = 0.35  # flatter arcs between intermediate nodes, below the c_{k-2} arcs' labels
# an arc's apex lies rad/2 * chord length off the chord; the longest arcs span 5 and 4 nodes
ABOVE, BELOW = 0.5 * RAD * 5 * SPACING + 0.15, 0.5 * RAD * 4 * SPACING + 0.15
ROW = ABOVE + BELOW + 0.25  # vertical distance between the two cells
NODE_LABELS = ("$c_{k-2}$", "$c_{k-1}$", *(str(i) for i in range(N_NODES)), "$c_{k}$")


def _arc(ax: Any, x0: float, x1: float, y: float, rad: float, color: str, lw: float) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            (x0, y),
            (x1, y),
            connectionstyle=f"arc3,rad={rad}",
            arrowstyle="-|>",
            mutation_scale=6,
            shrinkA=5,
            shrinkB=6,
            lw=lw,
            color=color,
            zorder=1,
        )
    )


def _draw_cell(ax: Any, g: Genotype, cell: str, y: float, fontsize: float) -> None:
    box = {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.9}
    for node in range(N_NODES):
        x1 = (node + 2) * SPACING
        for op, src in g.node(cell, node):
            label, color = OP_STYLE[op]
            x0 = src * SPACING
            rad = RAD if src == 1 else -RAD if src == 0 else -RAD_INNER
            _arc(ax, x0, x1, y, rad, color, 1.1)
            # the arc's midpoint lies rad/2 * chord length off the chord
            ax.text(
                (x0 + x1) / 2,
                y - 0.5 * rad * (x1 - x0),
                label,
                ha="center",
                va="center",
                fontsize=fontsize - 1.5,
                color=color,
                zorder=3,
                bbox=box,
            )
    for j in CONCAT:
        _arc(ax, j * SPACING, OUT_X, y, 0.25, CONCAT_COLOR, 0.6)
    for x, name in zip((*(j * SPACING for j in range(N_NODES + 2)), OUT_X), NODE_LABELS):
        face = "#e8e8e8" if name.startswith("$") else "white"
        node_box = {"boxstyle": "round,pad=0.2", "fc": face, "ec": "black", "lw": 0.7}
        ax.text(
            x, y, name, ha="center", va="center", fontsize=fontsize - 1, zorder=5, bbox=node_box
        )
    name = "normal" if cell == "normal" else "reduction"
    ax.text(OUT_X + 0.3, y - 0.35, name, ha="right", va="top", fontsize=fontsize, style="italic")


def draw_genotype(
    ax: Any,
    genotype: Genotype | str,
    *,
    title: str | None = None,
    title_color: Any = "black",
    subtitle: str | None = None,
    fontsize: float = 7.0,
) -> None:
    """Draw both cells on `ax` (axis off, equal aspect so arcs and labels line up)."""
    g = parse_genotype(genotype) if isinstance(genotype, str) else genotype
    ax.set_aspect("equal")
    ax.set_xlim(-0.6, OUT_X + 0.4)
    ax.set_ylim(-ROW - BELOW - (0.4 if subtitle else 0.0), ABOVE)
    ax.axis("off")
    for row, cell in enumerate(CELLS):
        _draw_cell(ax, g, cell, -row * ROW, fontsize)
    if title:
        ax.set_title(title, fontsize=fontsize + 1.5, color=title_color, pad=2)
    if subtitle:
        ax.text(
            OUT_X / 2,
            -ROW - BELOW - 0.4,
            subtitle,
            ha="center",
            va="bottom",
            fontsize=fontsize - 0.5,
        )


def op_legend_handles() -> list[Any]:
    """Legend entries for the op colours."""
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], color=c, lw=1.5, label=f"{label} ({op})")
        for op, (label, c) in OP_STYLE.items()
    ]
