"""Evaluation protocols, registered by name: one module each plus a registry line."""

from __future__ import annotations

from harness.evaluate.protocols.base import PROFILES, TrainingProtocol
from harness.evaluate.protocols.darts import DARTS
from harness.evaluate.protocols.nb201 import NB201
from harness.registry import Registry

PROTOCOLS: Registry[TrainingProtocol] = Registry("evaluation protocol")
PROTOCOLS.register("darts", DARTS)
PROTOCOLS.register("nb201", NB201)


def default_protocol(space_name: str) -> TrainingProtocol:
    """The protocol whose native space this is (NB201 cells: nb201; DARTS cells: darts)."""
    for _, protocol in PROTOCOLS.items():
        if space_name in protocol.native_spaces:
            return protocol
    from harness import HarnessError

    raise HarnessError(
        f"no default evaluation protocol for space {space_name!r}: pass --protocol "
        f"({', '.join(PROTOCOLS.names())})"
    )


__all__ = ["PROFILES", "PROTOCOLS", "TrainingProtocol", "default_protocol"]
