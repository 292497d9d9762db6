"""`harness study nb201|darts ACTION ...`: the proxy studies (harness/studies/)."""

from __future__ import annotations

import click

_PASS = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@click.group()
def study() -> None:
    """The proxy studies: `nb201` (the 200-cell NB201 study) and `darts` (the 214 trained
    DARTS cells). Each takes an action and its options; `ACTION --help` lists them."""


@study.command("nb201", context_settings=_PASS)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def nb201(args: tuple[str, ...]) -> None:
    """The NB201 proxy study: run | write | explain."""
    from harness.studies.nb201 import main

    main(list(args))


@study.command("darts", context_settings=_PASS)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def darts(args: tuple[str, ...]) -> None:
    """The DARTS-space study: run | write | explain | naslib-scores | naslib-summary |
    paper-cost | cell-costs."""
    from harness.studies.darts import main

    main(list(args))
