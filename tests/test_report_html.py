"""The HTML study page: self-contained, every table and figure in it, and opened in a real
headless Chromium (no console error, no request, tables and images rendered, screenshot).

The browser test needs the `playwright` package and a Chromium (Debian's `chromium`, or
$HARNESS_CHROMIUM); without them it is skipped with one line saying what is missing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cli_helpers import chromium_or_skip

from harness.report.results import load
from harness.report.sections import report_sections

NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A lookup study (3 methods x 2 benchmarks x 2 seeds) plus one cell trained at smoke
    scale, written as one page by `harness report --format html`."""
    from harness.cli import main

    root = tmp_path_factory.mktemp("page")
    url = f"sqlite:///{root / 'study.db'}"
    main(["run", "--method", "random,rea,tpe", "--benchmark", "nb201-cifar10",
          "--benchmark", "nb201-cifar100", "--seeds", "2", "--trials", "6", "--storage", url,
          "--quiet"])  # fmt: skip
    main(["evaluate", "--arch", NB201_ARCH, "--benchmark", "nb201-cifar10", "--storage", url,
          "--profile", "smoke", "--set", "train_images=64", "--set", "test_images=64",
          "--threads", "1", "--quiet"])  # fmt: skip
    out = root / "study.html"
    main(["report", "--storage", url, "--format", "html", "--out", str(out)])
    return out, url


def _expected_rows(url: str) -> dict[str, int]:
    report = report_sections(load(url), "html")
    return {f"T_{s.name}": len(s.frame) for s in report.sections if s.frame is not None}


class _Tables(HTMLParser):
    """Rows in each <table>'s <tbody>, and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, int] = {}
        self.urls: list[str] = []
        self.table: str | None = None
        self.body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls += [str(a[k]) for k in ("src", "href", "action") if a.get(k)]
        if tag == "table":
            self.table = a.get("id") or "?"
            self.rows[self.table] = 0
        elif tag == "tbody":
            self.body = True
        elif tag == "tr" and self.body and self.table:
            self.rows[self.table] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.body = False


def test_page_is_one_self_contained_file(page: tuple[Path, str]) -> None:
    path, url = page
    html = path.read_text()
    parser = _Tables()
    parser.feed(html)
    assert parser.rows == _expected_rows(url)  # every table, every row
    assert {"T_summary", "T_compare", "T_ranks", "T_evaluations"} <= set(parser.rows)
    external = [u for u in parser.urls if not u.startswith(("#", "data:"))]
    assert external == []  # no CDN, font or script: nothing leaves the file
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)
    assert html.count('<img alt="') >= 6 and "data:image/svg+xml;base64," in html
    # one manifest per experiment (3 methods x 2 benchmarks, each 2 runs) and the trained cell
    assert html.count("<details>") == 6 + 1
    assert html.count(": 2 runs, repetitions 0-1; shown: run ") == 6
    assert "store</dt>" in html and "plan</dt>" in html and "harness</dt>" in html
    assert "smoke" in html and "not drawn: " in html  # labels and declined figures
    # figures captioned in words, not by their file names
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert captions and not [c for c in captions if "_" in c], captions


def test_page_in_headless_chromium(page: tuple[Path, str], tmp_path: Path) -> None:
    sync_playwright, executable = chromium_or_skip()
    path, url = page
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto(path.as_uri(), wait_until="load")
            images = tab.evaluate(
                "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
            )
            rows = tab.evaluate(
                "Object.fromEntries(Array.from(document.querySelectorAll('table'))"
                ".map(t => [t.id, t.tBodies[0].rows.length]))"
            )
            tab.set_viewport_size({"width": 1400, "height": 1000})
            widths = tab.evaluate(
                "Array.from(document.querySelectorAll('figure img'))"
                ".map(i => [i.alt, i.getBoundingClientRect().width])"
            )
            overflow = tab.evaluate(
                "Array.from(document.querySelectorAll('table.report')).filter(t =>"
                " t.parentElement.scrollWidth > t.parentElement.clientWidth"
                " || t.getBoundingClientRect().right > document.documentElement.clientWidth)"
                ".map(t => t.id)"
            )
            first = tab.evaluate(
                "Array.from(document.querySelectorAll('section h2, figure')).slice(0, 2)"
                ".map(e => e.id || e.textContent)"
            )
            tab.click("#T_summary thead th:nth-child(5)")  # the sort script runs, no error
            tab.screenshot(path=str(tmp_path / "page.png"), full_page=True)
            tab.pdf(path=str(tmp_path / "page.pdf"))  # prints
        finally:
            browser.close()
    assert errors == []
    assert [r for r in requests if not r.startswith("data:")] == [path.as_uri()]
    assert len(images) >= 6 and all(done and width > 0 for _, done, width in images), images
    assert rows == _expected_rows(url)
    # readable at a 1,400 px window: every figure at least 700 px wide, no table wider than
    # the page (they wrap), the reading and the anytime figure first
    assert widths and all(w >= 700 for _, w in widths), widths
    assert overflow == []
    assert first == ["What this store found", "fig-anytime_evaluations"]
    assert (tmp_path / "page.png").stat().st_size > 10_000
    assert (tmp_path / "page.pdf").stat().st_size > 10_000
    print(f"screenshot: {tmp_path / 'page.png'}")
