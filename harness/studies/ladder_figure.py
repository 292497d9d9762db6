"""The ladder's figures: rank correlation against a proxy's training cost.

`ladder.png/.svg`: each trained proxy's score, rho with its 95% interval against image-epochs
and against seconds per cell (log axes), beside NB201's own 12-epoch training and the best
zero-cost proxy on the same cells (horizontal lines: they have no rung). `readouts.png/.svg`:
one panel per trained proxy, every readout it records against image-epochs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: the rung of the rows that have none (the references); `harness.studies.ladder` writes it
NO_RUNG = "-"

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
REFERENCE_STYLE = {"lookup-12": ("#555555", "--"), "meco": ("#999999", ":")}


def _references(ax: Any, summary: Any) -> None:
    refs = summary[summary["rung"].eq(NO_RUNG) & summary["readout"].eq("score")]
    for name, (color, style) in REFERENCE_STYLE.items():
        row = refs[refs["proxy"] == name]
        if len(row):
            rho = float(row["spearman_rho"].iloc[0])
            ax.axhline(rho, color=color, ls=style, lw=1.2, label=f"{name} ({rho:.2f})")
    ax.axhline(0.0, color="#cccccc", lw=0.8)


def _lines(ax: Any, rows: Any, x: str, label_of: Any) -> None:
    for i, (key, part) in enumerate(rows.groupby(label_of, sort=False)):
        part = part.sort_values(x)
        # a bootstrap interval of few cells need not contain the point estimate
        low = (part["spearman_rho"] - part["rho_lo"]).clip(lower=0)
        high = (part["rho_hi"] - part["spearman_rho"]).clip(lower=0)
        ax.errorbar(
            part[x], part["spearman_rho"], yerr=[low, high], marker="o", ms=4, lw=1.4,
            capsize=2, color=PALETTE[i % len(PALETTE)], label=str(key),
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_ylim(-1.0, 1.0)
    ax.set_ylabel("Spearman rho with test accuracy")
    ax.grid(True, which="major", alpha=0.3)


def draw(summary: Any, out: Path) -> list[Path]:
    """Both figures in `out` (png and svg); returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trained = summary[summary["rung"].ne(NO_RUNG)]
    scores = trained[trained["readout"].eq("score")]
    paths: list[Path] = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, x, label in (
        (axes[0], "image_epochs", "training images x epochs"),
        (axes[1], "seconds_per_cell", "seconds per cell (this machine)"),
    ):
        _lines(ax, scores.dropna(subset=[x]), x, "proxy")
        _references(ax, summary)
        ax.set_xlabel(label)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    paths += _save(fig, out, "ladder")
    proxies = list(dict.fromkeys(trained["proxy"]))
    if proxies:
        fig, axes = plt.subplots(1, len(proxies), figsize=(3.4 * len(proxies), 3.4), sharey=True)
        for ax, proxy in zip(list(getattr(axes, "flat", [axes])), proxies):
            _lines(ax, trained[trained["proxy"] == proxy], "image_epochs", "readout")
            _references(ax, summary)
            ax.set_title(proxy, fontsize=9)
            ax.set_xlabel("images x epochs")
            ax.legend(fontsize=6, loc="lower right")
        fig.tight_layout()
        paths += _save(fig, out, "readouts")
    return paths


def _save(fig: Any, out: Path, name: str) -> list[Path]:
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    fig.savefig(paths[0], dpi=120)
    fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths
