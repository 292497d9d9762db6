"""`harness describe`: one architecture of a registered space, its key and its size.

Goes through the SearchSpace protocol only: parse, format, canonical key, and the parameter
count of `space.network` at a scale, built on the meta device (nothing allocated). The default
scale is the one the space's reference figures use (`reference_scale`: DARTS's evaluation
network C=36, layers=20; NB201's network defaults C=16, N=5, the table's `params` column).
"""

from __future__ import annotations

import json
from typing import Any

import click

from harness import HarnessError
from harness.cli.run import parse_set


def _scale(space: Any, settings: dict[str, Any]) -> tuple[dict[str, int], int]:
    """(scale settings, num_classes) from `--set` over the space's reference scale."""
    allowed = (*space.scale_keys, "num_classes")
    unknown = set(settings) - set(allowed)
    if unknown:
        raise HarnessError(
            f"--set {sorted(unknown)} not a setting of space {space.name} "
            f"(settings: {', '.join(allowed)})"
        )
    for key, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise HarnessError(f"--set {key}={value!r}: must be a positive integer")
    scale = {**getattr(space, "reference_scale", {}), **settings}
    num_classes = scale.pop("num_classes", 10)
    return scale, num_classes


def describe_arch(space_name: str, arch: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Parsed architecture, canonical key and parameter count at the given scale."""
    import torch

    from harness.spaces import SPACES

    space = SPACES.get(space_name)
    scale, num_classes = _scale(space, settings)
    try:
        parsed = space.parse(arch)
        with torch.device("meta"):
            network = space.network(parsed, num_classes, **scale)
    except ValueError as err:  # spaces' own errors (e.g. NB201's CellError)
        raise HarnessError(str(err)) from None
    return {
        "space": space.name,
        "arch": space.format(parsed),
        "key": space.canonical_key(parsed),
        "params": int(sum(p.numel() for p in network.parameters())),
        "scale": scale,
        "num_classes": num_classes,
    }


@click.command()
@click.option("--space", "space_name", required=True, help="Registered space, e.g. nb201, darts.")
@click.option("--arch", required=True, help="Architecture string (or a name, e.g. DARTS_V2).")
@click.option("--set", "sets", multiple=True, help="Scale setting key=value (or num_classes).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def describe(space_name: str, arch: str, sets: tuple[str, ...], fmt: str) -> None:
    """Print an architecture as parsed, its canonical key and its parameter count."""
    info = describe_arch(space_name, arch, parse_set(sets))
    if fmt == "json":
        click.echo(json.dumps(info))
        return
    scale = " ".join(
        f"{k}={v}" for k, v in {**info["scale"], "num_classes": info["num_classes"]}.items()
    )
    for label in ("space", "arch", "key", "params"):
        click.echo(f"{label + ':':8}{info[label]}")
    click.echo(f"{'scale:':8}{scale}")
