"""The import map: no circles in harness/ and baselines/, and a lookup run without torch.

An edge is any import of a harness module, at the top of a file or inside a function (a
function-level import that closes a circle is still a circle a reader has to untangle);
`from package import submodule` is an edge to the submodule, as `import package.submodule`
is. The
root package `harness` is left out: its `__init__` is the API facade (HarnessError, lazy API
functions), imported everywhere and importing nothing at module level.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: folder -> the package it installs as (pyproject.toml maps baselines/ to harness.baselines)
PACKAGES = {"harness": "harness", "baselines": "harness.baselines"}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in (REPO / folder).rglob("*.py"):
            rel = path.relative_to(REPO / folder).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join((package, *parts))] = path
    return out


def _edges(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = str(node.module)
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{mod}.{alias.name}"
                found.add(sub if sub in known else mod)
    return {m for m in found if m in known and m not in (name, "harness")}


def import_cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    known = _modules()
    graph = {m: _edges(m, p, known) for m, p in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_import_circles():
    assert import_cycles() == []


def test_the_graph_sees_a_new_circle(tmp_path, monkeypatch):
    """The check itself: two modules importing each other are reported."""
    known = {"harness.a": tmp_path / "a.py", "harness.b": tmp_path / "b.py"}
    known["harness.a"].write_text("def f():\n    from harness.b import g\n")
    known["harness.b"].write_text("from harness.a import f\n")
    assert _edges("harness.a", known["harness.a"], known) == {"harness.b"}
    assert _edges("harness.b", known["harness.b"], known) == {"harness.a"}


def test_a_lookup_run_does_not_import_torch(tmp_path):
    code = (
        "import sys, harness\n"
        f"harness.run(['tpe', 'rea'], seeds=1, trials=3, storage='sqlite:///{tmp_path}/h.db')\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
