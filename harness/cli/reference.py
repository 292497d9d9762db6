"""`harness reference ...`: write or check the committed reference experiments.

`check` and `write` rerun the lookup-track experiment (results/reference/); `proxy-track` runs
or resumes the label-free proxy track; `zero-cost check|write` the zero-cost reference scores.
A failed check exits 1 (a regression), bad input 2.

They work on a checkout of the repository (its committed `results/reference/`): `--checkout
DIR`, default the current directory (or `$HARNESS_REFERENCE_DIR`, the reference folder
itself). Without one they say so in one line (exit 2) before doing any work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from harness import HarnessError

F = TypeVar("F", bound=Callable[..., Any])


def checkout_option(f: F) -> F:
    return click.option(
        "--checkout",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="A checkout of the csnas-harness repository (default: the current directory; "
        "$HARNESS_REFERENCE_DIR names its results/reference/ instead).",
    )(f)


@click.group()
def reference() -> None:
    """The committed reference experiments: rerun and compare, or rewrite them."""


@reference.command()
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes.")
@checkout_option
def check(workers: int, checkout: Path | None) -> None:
    """Rerun the lookup-track reference and compare: identical where the environment is the
    recorded one, else within the stated tolerance (results/reference/README.md)."""
    from harness.reference import require_checkout

    ref = require_checkout("harness reference check", checkout, "trials.csv.gz")
    from harness.reference import lookup

    sys.exit(lookup.check(lookup.run_experiment(workers), out=ref))


@reference.command()
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes.")
@checkout_option
def write(workers: int, checkout: Path | None) -> None:
    """Rerun the lookup-track reference and rewrite its files, tables, figures and page (set
    PYTHONHASHSEED=0 for byte-identical figures, as `nox -s figures` does)."""
    from harness.reference import require_checkout

    ref = require_checkout("harness reference write", checkout)
    from harness.reference import lookup

    lookup.write(lookup.run_experiment(workers), ref)
    _write_rows(ref, checkout)


def _write_rows(ref: Path, checkout: Path | None) -> None:
    """The reference rows summaries show (package data) from the committed summaries, where
    the checkout has the package's folder."""
    from harness.reference import checkout_root
    from harness.report.context import REFERENCE_ROWS_IN_CHECKOUT, write_reference_rows

    out = checkout_root(checkout) / REFERENCE_ROWS_IN_CHECKOUT
    if out.parent.is_dir() and (ref / "proxy-track" / "summary.csv").exists():
        print(f"wrote {write_reference_rows(ref, out)}")


@reference.command("rows")
@click.option("--check", "check_only", is_flag=True, help="Compare only; exit 1 if they differ.")
@checkout_option
def rows(check_only: bool, checkout: Path | None) -> None:
    """Rewrite (or --check) harness/assets/reference_rows.csv, the committed tracks' summary
    rows every summary shows beside a store's own, from results/reference/summary.csv and
    proxy-track/summary.csv (nothing is rerun)."""
    from harness.reference import checkout_root, require_checkout

    ref = require_checkout("harness reference rows", checkout, "proxy-track/summary.csv")
    from harness.report.context import REFERENCE_ROWS_IN_CHECKOUT, reference_rows_text

    out = checkout_root(checkout) / REFERENCE_ROWS_IN_CHECKOUT
    text = reference_rows_text(ref)
    if check_only:
        same = out.exists() and out.read_text() == text
        print(f"{out}: {'equal to' if same else 'DIFFERS from'} the committed summaries")
        sys.exit(0 if same else 1)
    out.write_text(text)
    print(f"wrote {out} ({text.count(chr(10)) - 1} rows)")


@reference.command("proxy-track")
@click.option("--storage", default=None, help="Keep the runs here (resume).")
@click.option("--methods", default=None, help="A comma-separated subset of the track's methods.")
@click.option(
    "--benchmarks", default=None, help="A comma-separated subset of the track's benchmarks."
)
@checkout_option
def proxy_track(
    storage: str | None, methods: str | None, benchmarks: str | None, checkout: Path | None
) -> None:
    """Run (or resume) the label-free proxy track, then write whatever runs are complete;
    with --methods/--benchmarks, only those (method, benchmark) pairs are run and the
    committed trials of the others are kept."""
    from harness.reference import require_checkout

    ref = require_checkout("harness reference proxy-track", checkout)
    from harness.reference import proxy_track

    proxy_track.run(
        storage,
        methods.split(",") if methods else None,
        benchmarks.split(",") if benchmarks else None,
        ref / proxy_track.FOLDER,
    )
    _write_rows(ref, checkout)


@reference.group("optimizers")
def optimizers() -> None:
    """The optimizer track (results/reference/optimizers/): every strategy with the lookup."""


@optimizers.command("run")
@click.option("--storage", default=None, help="Keep the runs here (resume).")
@click.option("--methods", default=None, help="A comma-separated subset of the track's methods.")
@click.option("--workers", type=int, default=None, help="Worker processes [one per core].")
@checkout_option
def optimizers_run(
    storage: str | None, methods: str | None, workers: int | None, checkout: Path | None
) -> None:
    """Run (or resume) the track, then write whatever runs are complete; with --methods only
    those are run and the committed trials of the others are kept."""
    from harness.reference import require_checkout

    ref = require_checkout("harness reference optimizers run", checkout)
    from harness.reference import optimizers as track

    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    track.run(storage, chosen, workers, ref / track.FOLDER)


@optimizers.command("parallel")
@click.option("--storage", default=None, help="Keep the runs here (resume).")
@click.option("--workers", type=int, default=None, help="Worker processes [one per core].")
@checkout_option
def optimizers_parallel(storage: str | None, workers: int | None, checkout: Path | None) -> None:
    """The same lookup searches with 1, 4 and 8 candidates in flight: how the returned cell
    changes with k (parallel.csv, parallel.md)."""
    from harness.reference import optimizers as track
    from harness.reference import require_checkout

    ref = require_checkout("harness reference optimizers parallel", checkout)
    track.parallel_run(storage, workers, ref / track.FOLDER)


@optimizers.command("label-free")
@click.option("--storage", default=None, help="Keep the runs here (resume).")
@click.option("--workers", type=int, default=None, help="Worker processes [one per core].")
@checkout_option
def optimizers_label_free(storage: str | None, workers: int | None, checkout: Path | None) -> None:
    """The track's best strategy with the strongest label-free proxy (gp-optuna + MeCo, 0
    labels, CIFAR-10, 10 seeds) against the label-free track's rows (label-free.md)."""
    from harness.reference import optimizers as track
    from harness.reference import require_checkout

    ref = require_checkout(
        "harness reference optimizers label-free", checkout, "proxy-track/trials.csv.gz"
    )
    track.label_free_run(storage, workers, ref / track.FOLDER)


@optimizers.command("check")
@click.option(
    "--seeds", type=int, default=1, show_default=True, help="Repetitions of each to rerun."
)
@click.option("--workers", type=int, default=None, help="Worker processes [one per core].")
@checkout_option
def optimizers_check(seeds: int, workers: int | None, checkout: Path | None) -> None:
    """Rerun the first --seeds repetitions of every strategy of the track and compare each
    trial with the committed ones (exit 1 when one differs)."""
    from harness.reference import optimizers as track
    from harness.reference import require_checkout

    ref = require_checkout(
        "harness reference optimizers check", checkout, f"{track.FOLDER}/trials.csv.gz"
    )
    if not 1 <= seeds <= track.SEEDS:
        raise HarnessError(f"--seeds must be between 1 and {track.SEEDS}, got {seeds}")
    sys.exit(track.check(seeds, workers, ref / track.FOLDER))


@reference.group("zero-cost")
def zero_cost() -> None:
    """The zero-cost reference scores (results/reference/zero_cost/)."""


@zero_cost.command("check")
@click.option("--cells", type=int, default=None, help="Check only the first N cells.")
@click.option("--rtol", type=float, default=None, help="One tolerance for all proxies.")
@click.option("--atol", type=float, default=1e-9, show_default=True)
@click.option("--proxy", "proxies", default=None, help="Check only these (comma-separated).")
@checkout_option
def zero_cost_check(
    cells: int | None,
    rtol: float | None,
    atol: float,
    proxies: str | None,
    checkout: Path | None,
) -> None:
    """Recompute every committed score; each proxy within its stated tolerance."""
    from harness.reference import ZERO_COST_SCORES, require_checkout

    ref = require_checkout("harness reference zero-cost check", checkout, str(ZERO_COST_SCORES))
    from harness.reference import zero_cost as zc

    chosen = [p.strip() for p in proxies.split(",") if p.strip()] if proxies else None
    sys.exit(zc.check(ref / ZERO_COST_SCORES, cells, rtol, atol, chosen))


@zero_cost.command("write")
@checkout_option
def zero_cost_write(checkout: Path | None) -> None:
    """Recompute and rewrite the zero-cost reference scores and their environment."""
    from harness.reference import ZERO_COST_SCORES, require_checkout

    ref = require_checkout("harness reference zero-cost write", checkout)
    from harness.reference import zero_cost as zc

    zc.write(ref / ZERO_COST_SCORES)
