"""Thin wrapper, kept for old commands: `harness reference zero-cost check|write`
(harness/reference/zero_cost.py holds the code)."""

from __future__ import annotations

import sys

from harness.cli import main

if __name__ == "__main__":
    main(["reference", "zero-cost", *sys.argv[1:]])
