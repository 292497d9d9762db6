"""A headless Chromium for the study page: find one, and take the README's screenshot.

Needs the `playwright` package driving a system Chromium (Debian's `chromium`, or
$HARNESS_CHROMIUM); playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness import HarnessError


def find_chromium() -> str | None:
    """$HARNESS_CHROMIUM, else the first Chromium or Chrome on PATH, else None."""
    given = os.environ.get("HARNESS_CHROMIUM")
    if given:
        return given
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(page: str | Path, png: str | Path, width: int = 1280, height: int = 1600) -> Path:
    """The top `height` pixels of `page` at `width`, as a PNG (the README's picture)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise HarnessError(
            "screenshot needs the playwright package (pip install playwright)"
        ) from None
    executable = find_chromium()
    if executable is None:
        raise HarnessError("screenshot needs chromium (apt-get install chromium)")
    out = Path(png)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": width, "height": height})
            tab.goto(Path(page).resolve().as_uri(), wait_until="load")
            tab.screenshot(path=str(out))
        finally:
            browser.close()
    return out
