"""The environment record: the installed packages read from metadata headers only."""

from __future__ import annotations

from importlib import metadata

from harness.environment import packages


def test_packages_equal_the_full_metadata_parse() -> None:
    """Reading only each metadata file's header block gives every distribution's name and
    version exactly as the email parser of the whole file does."""
    full: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            full.setdefault(name.lower(), dist.version)
    assert packages() == dict(sorted(full.items()))
    assert "numpy" in packages() and "torch" in packages()
