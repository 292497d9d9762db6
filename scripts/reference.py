"""Thin wrapper, kept for old commands: `harness reference check|write|proxy-track`
(harness/reference/lookup.py holds the code)."""

from __future__ import annotations

import sys

from harness.cli import main

if __name__ == "__main__":
    main(["reference", *sys.argv[1:]])
