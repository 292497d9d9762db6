"""Thin wrapper, kept for old commands: `harness study darts ACTION` (harness/studies/darts.py)."""

from __future__ import annotations

import sys

from harness.cli import main

if __name__ == "__main__":
    main(["study", "darts", *sys.argv[1:]])
