"""Draw a NAS-Bench-201 cell: 4 nodes on a line, 6 edges labelled with their op.

Adjacent edges run straight along the line, the two skip-one edges arc above it, the input ->
output edge arcs below, so no two labels collide. `none` edges are drawn dashed and unlabelled:
they are absent from the network but their absence is part of the cell.
"""

from __future__ import annotations

from typing import Any

from harness.spaces.nb201.cell import EDGES, NB201Cell, parse_cell

#: op -> (short label, colour); colours distinct from the method palette's role (they label ops)
OP_STYLE: dict[str, tuple[str, str]] = {
    "skip_connect": ("skip", "#555555"),
    "nor_conv_1x1": ("conv1x1", "#1b7837"),
    "nor_conv_3x3": ("conv3x3", "#762a83"),
    "avg_pool_3x3": ("avgpool", "#b35806"),
}
NONE_COLOR = "#c8c8c8"
# (to, from) -> arc3 rad; negative bends above the line for left-to-right edges
_RAD = {(1, 0): 0.0, (2, 1): 0.0, (3, 2): 0.0, (2, 0): -0.5, (3, 1): -0.5, (3, 0): 0.38}
NODE_NAMES = ("in", "1", "2", "out")
SPACING = 1.5  # node distance; labels need more room than the node circles


def _label_xy(src: int, dst: int, rad: float) -> tuple[float, float]:
    # arc3's control point sits rad * |p1 - p0| off the chord (matplotlib's convention); the
    # quadratic Bezier's midpoint lies halfway between the chord midpoint and that point
    x0, x1 = SPACING * src, SPACING * dst
    dx = x1 - x0
    return (x0 + x1) / 2.0, -0.5 * rad * dx


def draw_cell(
    ax: Any,
    cell: NB201Cell | str,
    *,
    title: str | None = None,
    title_color: Any = "black",
    subtitle: str | None = None,
    fontsize: float = 7.0,
) -> None:
    """Draw one cell on `ax` (axis turned off, equal aspect so arcs and labels line up)."""
    from matplotlib.patches import Circle, FancyArrowPatch

    arch = parse_cell(cell) if isinstance(cell, str) else cell
    ax.set_aspect("equal")
    ax.set_xlim(-0.3, 3 * SPACING + 0.3)
    ax.set_ylim(-1.2, 0.95)
    ax.axis("off")
    for op, (dst, src) in zip(arch.ops, EDGES):
        rad = _RAD[(dst, src)]
        dashed = op == "none"
        color = NONE_COLOR if dashed else OP_STYLE[op][1]
        ax.add_patch(
            FancyArrowPatch(
                (SPACING * src, 0.0),
                (SPACING * dst, 0.0),
                connectionstyle=f"arc3,rad={rad}",
                arrowstyle="-|>",
                mutation_scale=7,
                shrinkA=7,
                shrinkB=7,
                lw=0.9 if dashed else 1.3,
                ls=(0, (3, 2)) if dashed else "-",
                color=color,
                zorder=1,
            )
        )
        if not dashed:
            x, y = _label_xy(src, dst, rad)
            ax.text(
                x,
                y,
                OP_STYLE[op][0],
                ha="center",
                va="center",
                fontsize=fontsize,
                color=color,
                zorder=3,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9},
            )
    for i, name in enumerate(NODE_NAMES):
        x = SPACING * i
        ax.add_patch(Circle((x, 0.0), 0.16, fc="white", ec="black", lw=0.9, zorder=4))
        ax.text(x, 0.0, name, ha="center", va="center", fontsize=fontsize - 1, zorder=5)
    if title:
        ax.set_title(title, fontsize=fontsize + 1.5, color=title_color, pad=2)
    if subtitle:
        ax.text(1.5 * SPACING, -1.18, subtitle, ha="center", va="bottom", fontsize=fontsize - 0.5)


def op_legend_handles() -> list[Any]:
    """Legend entries for the op colours and the dashed `none` edge."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=c, lw=1.5, label=f"{label} ({op})")
        for op, (label, c) in OP_STYLE.items()
    ]
    handles.append(Line2D([], [], color=NONE_COLOR, lw=1.0, ls=(0, (3, 2)), label="none (no edge)"))
    return handles
