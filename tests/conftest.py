"""Shared fixtures: local data only (the CIFAR subset beside the repo), temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def cifar10_subset() -> Path | None:
    """The shared CIFAR-10 subset: $HARNESS_CIFAR10, else ../shared beside the checkout."""
    env = os.environ.get("HARNESS_CIFAR10")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "cifar10" / "cifar10-subset.npz")
    return next((p for p in candidates if p.is_file()), None)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'harness.db'}"
