"""`harness study nb201|darts ACTION [OPTIONS]`: the proxy studies (harness/studies/).

They merge, explain or check the repository's committed study results, so every action
needs a checkout (`--checkout DIR`, default the current directory), checked before any work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from harness.cli.reference import F, checkout_option
from harness.studies import DARTS_ACTIONS, LADDER_ACTIONS, NB201_ACTIONS
from harness.studies.ladder import PLANS as LADDER_PLANS


def _root(default: str) -> Callable[[F], F]:
    """`--root`: where the study's correlate outputs are (each study has its own default)."""
    return click.option(
        "--root",
        default=None,
        metavar="DIR",
        help=f"The correlate outputs to merge (default: CHECKOUT/{default}).",
    )


@click.group()
def study() -> None:
    """The proxy studies: `nb201` (the 200-cell NB201 study), `darts` (the 214 trained
    DARTS cells) and `ladder` (trained proxies against their training budget), on a checkout
    of the repository."""


@study.command("nb201")
@click.argument("action", type=click.Choice(NB201_ACTIONS))
@checkout_option
@_root("results/study")
def nb201(action: str, checkout: Path | None, root: str | None) -> None:
    """The NB201 proxy study. ACTION: `run` prints the correlate commands (each resumable
    via --storage); `write` merges their outputs into results/reference/study/; `explain`
    prints the figures on what the contrastive score measures."""
    from harness.studies import nb201 as module

    module.act(action, checkout, root)


@study.command("darts")
@click.argument("action", type=click.Choice(DARTS_ACTIONS))
@checkout_option
@_root("results/darts-study")
@click.option(
    "--naslib",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="NASLib's NB301 zero-cost table, naslib_nb301_zc.csv.gz (naslib-scores, naslib-summary).",
)
@click.option(
    "--cells",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="naslib-scores: NASLib subset size (0 = all); paper-cost, cell-costs: cells timed.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Proxy seed (naslib-scores).")
@click.option(
    "--proxies",
    default=None,
    help="naslib-scores, cell-costs: a comma-separated subset of proxies.",
)
def darts(
    action: str,
    checkout: Path | None,
    root: str | None,
    naslib: Path | None,
    cells: int,
    seed: int,
    proxies: str | None,
) -> None:
    """The DARTS-space study. ACTION: `run` prints the correlate commands; `write` merges
    their outputs into results/reference/darts/; `explain` prints its figures;
    `naslib-scores` and `naslib-summary` score NASLib's NB301 cells and compare;
    `paper-cost` and `cell-costs` time the proxies on the study's cells."""
    from harness.studies import darts as module

    module.act(action, checkout, root, naslib, cells, seed, proxies)


@study.command("ladder")
@click.argument("action", type=click.Choice(LADDER_ACTIONS))
@checkout_option
@_root("results/ladder/PLAN")
@click.option(
    "--plan",
    type=click.Choice(list(LADDER_PLANS)),
    default="cpu",
    show_default=True,
    help="cpu: about 8 core-hours here; gpu: the full ladder for a lent GPU; smoke: tests.",
)
@click.option(
    "--data",
    default=None,
    metavar="FILE",
    help="CIFAR-10 images (.npz or the python-version folder): cost, run.",
)
@click.option(
    "--storage",
    default=None,
    metavar="URL",
    help="run: the store the commands cache in (default CHECKOUT/results/ladder-cache.db).",
)
def ladder(
    action: str,
    checkout: Path | None,
    root: str | None,
    plan: str,
    data: str | None,
    storage: str | None,
) -> None:
    """The proxy-budget ladder. ACTION: `cost` times one cell of every proxy at every rung
    and prints the plan's core-hours; `run` prints the correlate commands, cheapest rungs
    first, each resumable (run them in parallel, e.g. `... | xargs -P 2 -I{} sh -c {}`);
    `write` merges their outputs into results/reference/ladder/PLAN/."""
    from harness.studies import ladder as module

    module.act(action, checkout, root, plan, data, storage)
