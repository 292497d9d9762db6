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


def chromium_or_skip() -> tuple[Any, str]:
    """playwright's `sync_playwright` and the system chromium's path, or skip the test with
    one line saying which is missing (the browser tests drive Debian's chromium)."""
    import pytest

    from harness.report.browser import find_chromium

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no browser test: the playwright package is not installed")
    executable = find_chromium()
    if executable is None:
        pytest.skip("no browser test: no chromium (apt-get install chromium, or HARNESS_CHROMIUM)")
    return sync_playwright, str(executable)
