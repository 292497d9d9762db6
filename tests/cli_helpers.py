"""Test helper: run the `harness` command in-process as a user would, exit code and output."""

from __future__ import annotations

from typing import Any

from harness.cli import main


def harness(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `harness ARGV...`; errors exit 2 with one stderr line."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
