"""The README: short, its two Quickstart commands exactly what CI runs, its table of names the
registries' own, its links and headline numbers those of the documentation pages, and the
licence and citation files beside it. (The Python API example it used to carry lives in
docs/guides/clusters.md, run as a script by tests/test_docs.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
DOCS = REPO / "docs"

MAIN_JOB = (
    "pip install torch==2.13.0 -c constraints.txt && pip install -e . -c constraints.txt"
    " && harness run --method csnas --seeds 5"
)
TEST_COMMAND = (
    "python -m pip install torch==2.13.0 -c constraints.txt && python -m pip install -e"
    ' ".[dev]" -c constraints.txt && python -m pytest -q'
)


def test_the_readme_is_at_most_250_lines() -> None:
    assert len(README.splitlines()) <= 250


def test_the_quickstart_commands_are_exactly_those_ci_runs() -> None:
    blocks = re.findall(r"^```\n(.*?)\n```", README, re.S | re.M)
    assert MAIN_JOB in blocks and TEST_COMMAND in blocks
    assert TEST_COMMAND in (REPO / ".ci" / "run").read_text().splitlines()
    start = (DOCS / "getting-started.md").read_text()
    assert MAIN_JOB in start and TEST_COMMAND in start  # the page says the same


def _row_names(noun: str) -> set[str]:
    row = next(line for line in README.splitlines() if line.startswith(f"| {noun} |"))
    names = row.split("|")[2]
    names = re.sub(r"\([^)]*\)", "", names)  # notes in parentheses are not names
    return set(re.findall(r"`([^`]+)`", names))


def test_the_table_of_names_is_the_registries() -> None:
    from harness.contracts import REGISTRIES

    for registry in REGISTRIES:
        built_in = set(registry.built_in())
        assert _row_names(registry.kind) == built_in, registry.kind


def test_every_link_and_image_resolves() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    assert any(t.startswith("docs/") for t in targets)
    missing = [t for t in targets if "://" not in t and not (REPO / t).exists()]
    assert not missing, missing
    nav = (REPO / "mkdocs.yml").read_text()
    for target in targets:
        if target.startswith("docs/") and target.endswith(".md"):
            assert target[len("docs/") :] in nav, f"{target} is not in the site's nav"


def test_headline_numbers_are_those_of_the_findings() -> None:
    """The README quotes the findings pages; a number changed there must change here."""
    pages = {
        "label-free-study.md": ["-0.79 [-0.85, -0.71]", "-0.31 [-0.54, -0.03]", "+0.99"],
        "tracks.md": ["70.00 ± 11.67", "87.05 ± 5.14", "93.96 ± 0.36", "8 of 10", "9 of 10"],
        "darts-study.md": ["-0.07 [-0.21, +0.07]"],
    }
    for page, numbers in pages.items():
        text = (DOCS / "findings" / page).read_text()
        for number in numbers:
            assert number in text, (page, number)
            short = number.split(" ±")[0]
            assert short in README, number
    assert re.search(
        r"correlates \+0.98 with the\s+final loss",
        (DOCS / "findings" / "label-free-study.md").read_text(),
    )
    assert "3 min 54 s" in README and "3 min 54 s" in (DOCS / "getting-started.md").read_text()


def test_license_and_citation() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'license = { text = "MIT" }' in pyproject or 'license = "MIT"' in pyproject
    licence = (REPO / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "2026 csnas-harness developers" in licence
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert {"message", "title", "authors"} <= set(cff)
    titles = [r["title"] for r in cff["references"]]
    assert any(t.startswith("CSNAS:") for t in titles)
    assert any(t.startswith("NAS-Bench-201") for t in titles)
    csnas = next(r for r in cff["references"] if r["title"].startswith("CSNAS:"))
    assert [a["family-names"] for a in csnas["authors"]] == ["Nguyen", "Chang"]
    assert csnas["journal"] == "IEEE Transactions on Artificial Intelligence"


def test_the_changelog_keeps_a_changelog() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog") and "## [Unreleased]" in text
    assert re.search(r"^## \[0\.1\.0\] - 2026-12-0\d$", text, re.M)
    assert (DOCS / "changelog.md").read_text().strip() == '--8<-- "CHANGELOG.md"'
