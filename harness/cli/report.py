"""`harness report` and `harness figures`: read a store, print tables, draw figures.

Both only read results. The DataFrame-to-output work lives in `write_report`/`write_figures`
(plain functions, tested without a store); the commands add store access and printing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness import HarnessError
from harness.store.base import DEFAULT_URL, redact

if TYPE_CHECKING:
    import pandas as pd

# the names of harness.report.tables.FORMATS, kept here so `harness --help` stays fast
FORMATS = ("table", "md", "csv", "latex")

TABLES = ("all", "summary", "compare", "ranks", "returned")


def load_trials(storage: str) -> pd.DataFrame:
    """The store's long-format trials frame; an empty store is a user error, not a table."""
    from harness.store import open_store

    store = open_store(storage, create=False)
    try:
        frame = store.trials_frame()
    finally:
        store.close()
    if frame is None or len(frame) == 0:
        raise HarnessError(f"no trials in {redact(storage)}: run `harness run` first")
    return frame


def write_report(
    trials: pd.DataFrame,
    fmt: str = "table",
    *,
    versus: str | None = None,
    table: str = "all",
    out: str | Path | None = None,
    seed: int = 0,
) -> str:
    """Render the requested tables; write them to `out` if given. Returns the text."""
    from harness.report.tables import report_tables

    which = None if table == "all" else (table,)
    text = "\n".join(report_tables(trials, fmt, versus=versus, seed=seed, which=which).values())
    if out is not None:
        from harness.api import write_text

        write_text(out, text)
    return text


def write_figures(
    trials: pd.DataFrame,
    out: str | Path,
    *,
    correlate: str | Path | None = None,
    seed: int = 0,
    dpi: int = 150,
) -> list[Path]:
    from harness.api import writable_dir
    from harness.report.figures import make_figures

    cells = None
    if correlate is not None:
        try:
            import pandas as pd

            cells = pd.read_csv(correlate)
        except (OSError, ValueError) as err:
            raise HarnessError(f"cannot read correlate CSV {correlate}: {err}") from None
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 2400:
        raise HarnessError(f"--dpi must be between 10 and 2400, got {dpi!r}")
    writable_dir(out, "--out")
    return make_figures(trials, out, correlate_cells=cells, seed=seed, dpi=dpi)


@click.command()
@click.option("--storage", default=DEFAULT_URL, show_default=True, help="Database URL.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--versus", default=None, help="Method the paired tests compare against [csnas].")
@click.option(
    "--table",
    type=click.Choice(TABLES),
    default="all",
    show_default=True,
    help="Which table; `--table summary --format csv` is one clean CSV.",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to FILE.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
def report(
    storage: str, fmt: str, versus: str | None, table: str, out: str | None, seed: int
) -> None:
    """Summary per benchmark and method, paired Wilcoxon-Holm tests, average ranks."""
    text = write_report(load_trials(storage), fmt, versus=versus, table=table, out=out, seed=seed)
    if out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {out}", err=True)


@click.command()
@click.option("--storage", default=DEFAULT_URL, show_default=True, help="Database URL.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="results/figures",
    show_default=True,
    help="Directory for PNG and PDF files.",
)
@click.option(
    "--correlate",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Per-cell CSV from `harness correlate` (adds the proxy-vs-truth figure).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--dpi", type=int, default=150, show_default=True, help="PNG resolution.")
def figures(storage: str, out: str, correlate: str | None, seed: int, dpi: int) -> None:
    """Anytime curves, ranks vs budget, CD diagram, labels vs accuracy, found cells."""
    trials = load_trials(storage)
    for path in write_figures(trials, out, correlate=correlate, seed=seed, dpi=dpi):
        click.echo(str(path))
