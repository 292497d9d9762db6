"""No code in the package reaches outside it: the installed package reads and writes only its
own files, the working directory, the paths the user gives and the store. Climbing from a
module's file (`Path(__file__).parents[2]`, `.parent.parent`) lands in site-packages once the
package is installed, and `../shared` exists only beside this project's checkout: both are
found here in the source, so a new one fails before a wheel does (tests/test_wheel.py)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: file -> why it may climb: package_checkout() looks for the checkout the package runs from
#: (an editable install), and never uses it when the package is installed
ALLOWED = {"harness/environment.py": 1}


def _escapes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        climbs = (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
        ) or (
            isinstance(node, ast.Attribute)
            and node.attr == "parent"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parent"
        )
        if climbs:
            found.append(f"line {node.lineno}: climbs out of its folder")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if any(c.isspace() for c in text):
                continue  # prose (a docstring, a message), not a path
            if text == "shared" or "shared/" in text or text.startswith("../") or "/../" in text:
                found.append(f"line {node.lineno}: a path outside the package ({text!r})")
    return found


def test_no_package_code_reaches_outside_the_package() -> None:
    problems = {}
    for folder in ("harness", "baselines"):
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            found = _escapes(path)
            if len(found) > ALLOWED.get(rel, 0):
                problems[rel] = found
    assert problems == {}


def test_the_check_sees_the_old_reference_path(tmp_path: Path) -> None:
    """What the reference module did before issue 26, and the DARTS study's NASLib path."""
    old = tmp_path / "old.py"
    old.write_text(
        "from pathlib import Path\n"
        'REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference"\n'
        'NASLIB = REFERENCE.parent.parent / "shared" / "data"\n'
    )
    assert len(_escapes(old)) == 3
