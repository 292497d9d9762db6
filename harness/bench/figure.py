"""The cost-growth figure (`harness bench figure`): from the JSON of `bench store` and
`bench dask`, how seconds, peak memory and file sizes grow with a store's trials, and how a
local Dask cluster's throughput grows with its workers. Log axes: each step's slope is its
growth (1: linear in the trials, 0: bounded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STEP_COLORS = {"run": "#0072B2", "report": "#D55E00", "page": "#009E73", "export": "#CC79A7"}
BACKEND_MARKERS = {"sqlite": "o", "postgres": "s"}


def _series(rows: list[dict[str, Any]], key: str, ax: Any, steps: tuple[str, ...]) -> None:
    for step in steps:
        for backend, marker in BACKEND_MARKERS.items():
            pts = sorted(
                (r["trials"], r[key])
                for r in rows
                if r["step"] == step and r["backend"] == backend and r.get(key) is not None
            )
            if not pts:
                continue
            xs, ys = zip(*pts)
            line = "-" if backend == "sqlite" else "none"
            label = f"{step} ({backend})"
            ax.plot(xs, ys, marker=marker, color=STEP_COLORS[step], lw=1.4, ls=line, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("trials in the store")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)


def draw(store: list[dict[str, Any]], dask: list[dict[str, Any]], out: Path) -> list[Path]:
    """cost-growth.png and .svg in `out`."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 8), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    _series(store, "seconds", axes[0], ("run", "report", "page", "export"))
    axes[0].set_ylabel("wall seconds (one process)")
    _series(store, "peak_mb", axes[1], ("run", "report", "page", "export"))
    axes[1].set_ylabel("peak resident memory (MB)")
    _series(store, "output_mb", axes[2], ("page", "export"))
    axes[2].set_ylabel("file written (MB)")
    ax = axes[3]
    for name, color in (("lookup", "#0072B2"), ("naswot", "#D55E00")):
        pts = sorted((r["workers"], r["trials_per_s"]) for r in dask if r["workload"] == name)
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", color=color, label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("local Dask workers (2 cores)")
    ax.set_ylabel("trials per second (start-up included)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle(
        "How cost grows: run, report, page and export against trials; Dask against workers"
    )
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "cost-growth.png", out / "cost-growth.svg"]
    fig.savefig(paths[0], dpi=120)
    fig.savefig(paths[1], metadata={"Date": None})
    return paths


def draw_files(store_json: str, dask_json: str | None, out: str) -> list[Path]:
    store = json.loads(Path(store_json).read_text())
    dask = json.loads(Path(dask_json).read_text()) if dask_json else []
    return draw(store, dask, Path(out))
