"""`harness report` and `harness figures`: read a store, print tables, draw figures.

Both only read results. The DataFrame-to-output work lives in `write_report`/`write_figures`
(plain functions, tested without a store); the commands add store access and printing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from harness import HarnessError
from harness.report.output import load_results, write_figures, write_report
from harness.store.base import DEFAULT_URL, redact

if TYPE_CHECKING:
    pass

# the names of harness.report.tables.FORMATS, kept here so `harness --help` stays fast;
# `harness report` also writes the html page
FORMATS = ("table", "md", "csv", "latex")
REPORT_FORMATS = (*FORMATS, "html")

TABLES = ("all", "summary", "context", "compare", "ranks", "returned", "evaluations")


def _split_ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [x.strip() for x in text.split(",") if x.strip()]
    if not ids:
        raise HarnessError(f"--run-ids {text!r} names no run")
    return ids


_CORRELATE = click.option(
    "--correlate",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Per-cell CSV from `harness correlate` (adds the proxy-study figures and table).",
)


@click.command()
@click.option("--storage", default=DEFAULT_URL, show_default=True, help="Database URL.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="table",
    show_default=True,
    help="table: compact, for a terminal; md, csv, latex: every column; html: one "
    "self-contained page with every table and figure (use --out).",
)
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
@click.option(
    "--run-ids",
    default=None,
    help="Comma-separated run ids to report (where a seed slot holds runs of several "
    "identities) [the newest of each].",
)
@_CORRELATE
def report(
    storage: str,
    fmt: str,
    versus: str | None,
    table: str,
    out: str | None,
    seed: int,
    run_ids: str | None,
    correlate: str | None,
) -> None:
    """Summary per benchmark and method, paired t-tests (Holm), average ranks, returned
    and trained cells; `--format html --out study.html` writes all of it as one page."""
    from harness.report.frame import one_identity

    ids = _split_ids(run_ids)
    results = load_results(storage, ids)
    if ids is not None:
        missing = sorted(set(ids) - set(results.trials.get("run_id", [])))
        if missing:
            raise HarnessError(f"--run-ids: no run {missing[0]!r} in {redact(storage)}")
    kept, note = one_identity(results.trials, ids) if len(results.trials) else (None, None)
    if fmt == "csv" and note:  # csv keeps stdout clean: notes go to stderr
        click.echo(f"note: {note}", err=True)
    text = write_report(
        results, fmt, versus=versus, table=table, out=out, seed=seed, run_ids=ids,
        correlate=correlate,
    )  # fmt: skip
    if out is None:
        click.echo(text, nl=False)
        if fmt == "table" and table in ("all", "summary"):
            from harness.report.pending import evaluate_hints

            # the runs the report shows: a left-out experiment's pending cells are not asked for
            for line in evaluate_hints(kept if kept is not None else results.trials, storage):
                click.echo(line)
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
    """Anytime curves, ranks vs budget, CD diagram, labels vs accuracy, found cells, trained
    cells' curves; each figure the data do not allow is named on stderr with the reason."""
    from harness.report.frame import one_identity

    results = load_results(storage)
    note = one_identity(results.trials)[1] if len(results.trials) else None
    if note:
        click.echo(f"note: {note}", err=True)
    skipped: list[Any] = []
    paths = write_figures(
        results.trials,
        out,
        correlate=correlate,
        seed=seed,
        dpi=dpi,
        evaluations=results.evaluations,
        skipped=skipped,
    )
    for path in paths:
        click.echo(str(path))
    for drawn in skipped:
        click.echo(f"skipped {drawn.name}: {drawn.reason}", err=True)


def export_text(storage: str, fmt: str, what: str) -> str:
    """The store's trials, cell evaluations, their per-epoch curves or the manifests as text.

    Trials carry each run's trained cell and its scale (`evaluated_*`); evaluations carry
    their profile, scale and epochs (JSON adds each one's curve and manifest); curves are one
    row per (evaluation, epoch). Produced a batch of runs at a time (harness.report.export)."""
    return "".join(_export(storage, fmt, what))


def _export(storage: str, fmt: str, what: str) -> Iterator[str]:
    from harness.report.export import export_chunks
    from harness.store import open_store

    store = open_store(storage, create=False)
    try:
        yield from export_chunks(store, fmt, what)
    finally:
        store.close()


@click.command()
@click.option("--storage", default=DEFAULT_URL, show_default=True, help="Database URL.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File [stdout].")
@click.option("--manifests", "what", flag_value="manifests", help="The run manifests (JSON).")
@click.option(
    "--evaluations",
    "what",
    flag_value="evaluations",
    help="Cells trained by `harness evaluate`: protocol, profile, scale, epochs, accuracy, "
    "params, time, device (json: with curve and manifest).",
)
@click.option(
    "--curves", "what", flag_value="curves", help="Per-epoch curves of the trained cells."
)
@click.option(
    "--trials",
    "what",
    flag_value="trials",
    default=True,
    help="One row per run x trial (the default).",
)
def export(storage: str, fmt: str, out: str | None, what: str) -> None:
    """Write the long-format trial rows (one per run x trial), the trained cells, their
    curves, or the run manifests."""
    import sys

    chunks = _export(storage, fmt, what)
    first = next(chunks)  # opens the store: a bad URL fails before anything is written
    if what == "trials" and first.strip() in ("", "[]"):
        click.echo(
            f"no trials in {redact(storage)}; cell evaluations: harness export --evaluations",
            err=True,
        )
    if out is None:
        last = ""
        for chunk in itertools.chain([first], chunks):
            sys.stdout.write(chunk)
            last = chunk or last
        if not last.endswith("\n"):
            sys.stdout.write("\n")
    else:
        from harness.files import write_chunks

        write_chunks(out, itertools.chain([first], chunks))
