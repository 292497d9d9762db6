"""`harness evaluate`: train returned cells from scratch."""

from __future__ import annotations

from typing import Any

import click

from harness import HarnessError
from harness.cli.run import parse_set
from harness.store import DEFAULT_URL


def _targets(
    run_id: str | None, method: str | None, benchmark: str | None, arch: str | None, storage: str
) -> list[Any]:
    from harness.evaluate.jobs import target_from_arch, targets_from_store
    from harness.store import open_store

    if sum(x is not None for x in (run_id, method, arch)) != 1:
        raise HarnessError("give exactly one of --run, --method (with --benchmark) or --arch")
    if arch is not None or method is not None:
        if benchmark is None:
            raise HarnessError(f"--{'arch' if arch else 'method'} needs --benchmark")
    elif benchmark is not None:
        raise HarnessError("--run takes its benchmark from the run: drop --benchmark")
    if arch is not None:
        assert benchmark is not None
        return [target_from_arch(arch, benchmark)]
    store = open_store(storage, create=False)
    try:
        return targets_from_store(store, run_id, method, benchmark)
    finally:
        store.close()


def _line(o: dict[str, Any]) -> str:
    who = f"run {o['run_id']}" if o.get("run_id") else "arch"
    if o["status"] == "failed":
        return f"{who} {o['benchmark']}: FAILED: {o.get('error')}"
    text = f"{who} {o['benchmark']}: test acc {o['test_acc']:.2f}%"
    if o.get("table_value") is not None:
        text += f" (table {o['table_value']:.2f}%)"
    text += f", {o['params']:,} params, {o['wall_s']:.1f} s on {o['device']}"
    if o.get("precision"):
        text += f" ({o['precision']})"
    if o["status"] != "done":
        text += f" [{o['status']}]"
    elif (o.get("sessions") or 1) > 1:
        text += f" [resumed, {o['sessions']} sessions]"
    return text


@click.command()
@click.option("--run", "run_id", default=None, help="Train the cell this run returned.")
@click.option("--method", default=None, help="Every finished run of this method (+ --benchmark).")
@click.option("--benchmark", default=None, help="Benchmark (with --method or --arch).")
@click.option("--arch", default=None, help="Train this architecture (in its space's text form).")
@click.option("--protocol", default=None, help="darts, nb201 [default: the space's own].")
@click.option(
    "--profile",
    type=click.Choice(["smoke", "quick", "paper"]),
    default="paper",
    show_default=True,
    help="smoke: seconds on a CPU (shipped sample); quick: short; paper: published setup.",
)
@click.option("--epochs", type=int, default=None, help="Override the profile's epochs.")
@click.option("--set", "sets", multiple=True, help="Protocol setting key=value (repeatable).")
@click.option("--storage", default=DEFAULT_URL, show_default=True, help="Database URL.")
@click.option("--checkpoint-dir", default=None, help="[checkpoints/ beside the store file]")
@click.option("--workers", type=int, default=1, show_default=True, help="Trainings in flight.")
@click.option("--devices", default="auto", show_default=True, help="e.g. cuda:0,cuda:1 or cpu.")
@click.option("--threads", type=int, default=None, help="torch CPU threads per training.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def evaluate(
    run_id: str | None,
    method: str | None,
    benchmark: str | None,
    arch: str | None,
    protocol: str | None,
    profile: str,
    epochs: int | None,
    sets: tuple[str, ...],
    storage: str,
    checkpoint_dir: str | None,
    workers: int,
    devices: str,
    threads: int | None,
    quiet: bool,
) -> None:
    """Train returned cells from scratch; store test accuracy, size, time, device and curve.

    Checkpointed every epoch: rerun the same command after a crash to continue. On a
    benchmark with a table, the table's value is kept and shown beside the trained one."""
    from harness.evaluate.jobs import checkpoint_dir as ckpt_dir
    from harness.evaluate.jobs import make_jobs, run_jobs

    overrides = parse_set(sets)
    if epochs is not None:
        overrides["epochs"] = epochs
    targets = _targets(run_id, method, benchmark, arch, storage)
    jobs = make_jobs(targets, protocol, profile, overrides, ckpt_dir(storage, checkpoint_dir))
    outcomes = run_jobs(
        jobs, storage, workers=workers, devices=devices, threads=threads, progress=not quiet
    )
    notes = sorted({o["note"] for o in outcomes if o.get("note")})
    for o in outcomes:
        click.echo(_line(o))
    for note in notes:
        click.echo(f"note: {note}")
    failed = [o for o in outcomes if o["status"] == "failed"]
    if failed:
        raise HarnessError(f"{len(failed)} of {len(outcomes)} evaluations failed (see above)")


COMMANDS = [evaluate]
