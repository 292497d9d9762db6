"""Click commands for the trained-proxy half: `data download`, `correlate`, `bench-proxies`.

Module-level command objects; `harness.cli` attaches them to the main group. Errors are
raised as HarnessError (one line; the main CLI exits with code 2).
"""

from __future__ import annotations

import click
import pandas as pd

from harness import HarnessError
from harness.cli.run import parse_set


@click.group()
def data() -> None:
    """Image datasets for the trained proxies."""


@data.command("download")
@click.argument("dataset", type=click.Choice(["cifar10", "cifar100"]))
@click.option("--root", required=True, type=click.Path(file_okay=False), help="Target folder.")
@click.option("--url", default=None, help="Archive URL (default: the official one).")
@click.option("--md5", default=None, help="Expected md5 (default: the official archive's).")
@click.option("--force", is_flag=True, help="Download again even if the folder exists.")
def download_cmd(dataset: str, root: str, url: str | None, md5: str | None, force: bool) -> None:
    """Fetch, verify (md5) and extract an official CIFAR archive into ROOT."""
    from harness.data.download import download
    from harness.files import writable_dir

    writable_dir(root, "--root")
    path = download(dataset, root, url=url, md5=md5, force=force)
    click.echo(f"{dataset}: {path}")
    click.echo(f"train returned cells on it: harness evaluate ... --set data={path}")


def _print_summary(summary: pd.DataFrame, proxies: list[str]) -> None:
    """The proxies asked for, then, apart and labelled, the reference rows (the benchmark's
    own signals, the truth's agreement with itself); the budget column only where a proxy
    trains (it is empty otherwise)."""
    from harness.correlate import asked_rows

    def table(rows: pd.DataFrame) -> str:
        if rows["budget"].isna().all():
            rows = rows.drop(columns=["budget"])
        return rows.to_string(index=False, float_format=lambda v: f"{v:.3f}")

    asked = asked_rows(summary, proxies)
    click.echo(table(summary[asked]))
    reference = summary[~asked].rename(columns={"proxy": "reference"})
    if len(reference):
        click.echo(
            "\nreference rows, not proxies asked for (the benchmark's own table signals; "
            "the truth's agreement with itself):"
        )
        click.echo(table(reference))


def _parse_steps(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        steps = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise HarnessError(f"--steps {text!r} must be comma-separated epoch counts") from None
    if not steps:
        raise HarnessError(f"--steps {text!r} names no budget")
    return steps


@click.command()
@click.option(
    "--proxy",
    default="contrastive",
    show_default=True,
    help="Computed proxies, comma-separated (NAME or NAME/VARIANT, e.g. contrastive/simclr).",
)
@click.option("--benchmark", default="nb201-cifar10", show_default=True)
@click.option("--sample", "k", type=int, default=20, show_default=True, help="Unique cells.")
@click.option("--steps", default=None, help="Budgets in training epochs, e.g. 1,3,10.")
@click.option("--profile", default="quick", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--set", "pairs", multiple=True, help="Proxy setting KEY=VALUE (repeatable).")
@click.option(
    "--threads",
    type=int,
    default=None,
    help="CPU threads per evaluation (the proxies' `threads` setting)  [default: theirs, 1]",
)
@click.option("--resamples", type=int, default=1000, show_default=True, help="Bootstrap draws.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Proxy seeds per cell.")
@click.option(
    "--storage", default=None, help="Cache evaluations in this store (a killed study resumes)."
)
def correlate(
    proxy: str,
    benchmark: str,
    k: int,
    steps: str | None,
    profile: str,
    seed: int,
    out: str | None,
    pairs: tuple[str, ...],
    threads: int | None,
    resamples: int,
    seeds: int,
    storage: str | None,
) -> None:
    """Rank correlation of computed proxies with the benchmark's ground truth on K cells.

    Budgets are training epochs. Writes cells.csv, summary.csv and scatter.png to --out;
    positive rho/tau always means 'better proxy score -> better truth'."""
    from harness.correlate import correlate as run

    settings = parse_set(pairs)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)  # for a plugin proxy without the setting
        settings.setdefault("threads", threads)
    if out is not None:
        from harness.files import writable_dir

        writable_dir(out, "--out")  # before any training, not after it
    _, summary = run(
        [p.strip() for p in proxy.split(",") if p.strip()],
        benchmark,
        k,
        budgets=_parse_steps(steps),
        profile=profile,
        seed=seed,
        out=out,
        settings=settings,
        n_resamples=resamples,
        progress=lambda msg: click.echo(msg, err=True),
        seeds=seeds,
        storage=storage,
    )
    _print_summary(summary, [p.strip() for p in proxy.split(",") if p.strip()])
    if out:
        click.echo(f"wrote {out}/cells.csv, summary.csv, scatter.png")
