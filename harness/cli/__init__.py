"""The `harness` command line: thin click commands that parse, call and print.

Every user error becomes one line on stderr and exit code 2 (`main` below), including
click's own usage errors, so scripts and people get the same short answer.
"""

from __future__ import annotations

import sys

import click

from harness import HarnessError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="csnas-harness", prog_name="harness")
@click.option(
    "--plugin",
    "plugin_modules",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE (a module name or a .py file) that registers proxies, strategies, "
    "methods, spaces or benchmarks; repeatable. Also $HARNESS_PLUGINS=mod1,mod2.",
)
def cli(plugin_modules: tuple[str, ...]) -> None:
    """Label-free NAS benchmark harness: CSNAS vs TPE, random, BO, evolution and zero-cost
    proxies on NAS-Bench-201 and the DARTS space; reports, figures and one HTML study page."""
    from harness import plugins

    plugins.load([*plugins.from_environment(), *plugin_modules])


def _attach() -> None:
    from harness.cli import bench as bench_cmds
    from harness.cli import data as data_cmds
    from harness.cli import describe as describe_cmds
    from harness.cli import evaluate as evaluate_cmds
    from harness.cli import reference as reference_cmds
    from harness.cli import report as report_cmds
    from harness.cli import run as run_cmds
    from harness.cli import study as study_cmds

    for cmd in (
        *run_cmds.COMMANDS,
        report_cmds.report,
        report_cmds.figures,
        report_cmds.export,
        data_cmds.data,
        data_cmds.correlate,
        describe_cmds.describe,
        *evaluate_cmds.COMMANDS,
        bench_cmds.bench,
        reference_cmds.reference,
        study_cmds.study,
    ):
        cli.add_command(cmd)


_attach()


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="harness", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        name = exc.ctx.command_path if exc.ctx else "harness"
        click.echo(f"{name}: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except HarnessError as exc:
        click.echo(f"harness: error: {exc}", err=True)
        sys.exit(2)
    except click.Abort:
        click.echo("harness: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("harness: interrupted; run the same command again to resume", err=True)
        sys.exit(130)
