"""Thin wrapper, kept for old commands: `harness study nb201 ACTION` (harness/studies/nb201.py)."""

from __future__ import annotations

import sys

from harness.cli import main

if __name__ == "__main__":
    main(["study", "nb201", *sys.argv[1:]])
