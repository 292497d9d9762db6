"""Per-epoch checkpoints that survive kill -9: written to a temp file, fsynced, then renamed.

A checkpoint holds everything the next epoch depends on: model, optimiser, scheduler and
loss-scaler states, torch's global RNG (drop-path draws) on CPU and the device, and the
data-order and augmentation generators; plus the curve so far and the seconds spent. The
rename is atomic on one filesystem, so a reader sees the previous checkpoint or the new one,
never half of one. Loading uses `weights_only=True`: a checkpoint file cannot run code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from harness import HarnessError


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """torch.save to `path` atomically (temp file in the same folder + fsync + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def load(path: Path) -> dict[str, Any] | None:
    """The checkpoint at `path`, or None if there is none. Temp files of a save that was
    killed midway are left-overs: they are removed, never read."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a foreign or damaged file: say which, never guess
        raise HarnessError(
            f"checkpoint {path} is unreadable ({type(err).__name__}); delete it to start over"
        ) from None


def rng_state(device: torch.device, generators: dict[str, torch.Generator]) -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch_cpu": torch.get_rng_state(),
        "generators": {name: g.get_state() for name, g in generators.items()},
    }
    if device.type == "cuda":
        state["torch_cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(
    state: dict[str, Any], device: torch.device, generators: dict[str, torch.Generator]
) -> None:
    torch.set_rng_state(state["torch_cpu"])
    for name, g in generators.items():
        g.set_state(state["generators"][name])
    if device.type == "cuda" and "torch_cuda" in state:
        torch.cuda.set_rng_state(state["torch_cuda"], device)
