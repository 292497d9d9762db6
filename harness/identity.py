"""What identifies a run's inputs: file hashes and the proxy's code version.

A run's identity (`RunSpec.inputs`, hashed into the run id) holds everything that changes its
results besides its settings: the sha256 of the benchmark's table, of the image data a trained
proxy reads, and the proxy's code version. They are computed once when the plan is made and
checked again where the run executes (another process, another host), so a changed file or a
worker with other code never silently reuses or extends a run.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness import HarnessError


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, cached per (path, size, mtime) so replanning costs no re-reading."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError as err:
        raise HarnessError(f"cannot read {p}: {err.strerror}") from None
    return _sha256(str(p), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256(path: str, _size: int, _mtime: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise HarnessError(f"cannot read {path}: {err.strerror}") from None
    return digest.hexdigest()


def tree_sha256(path: str | Path) -> str:
    """sha256 of a file, or of a folder's files (relative names and contents, sorted)."""
    p = Path(path)
    if p.is_file():
        return file_sha256(p)
    digest = hashlib.sha256()
    for f in sorted(x for x in p.rglob("*") if x.is_file()):
        digest.update(f"{f.relative_to(p).as_posix()}\0{file_sha256(f)}\n".encode())
    return digest.hexdigest()


#: packages whose `__init__` only registers names: importing one pulls in every registered
#: implementation, which says nothing about the code a given proxy runs
REGISTRIES = frozenset(
    {"harness", "harness.proxies", "harness.spaces", "harness.benchmarks", "harness.strategies"}
)
_ROOT = Path(__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    """The source file of a harness module, found without importing it."""
    parts = name.split(".")[1:]
    base = _ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _harness_imports(path: Path, package: str) -> set[str]:
    """Names of the harness modules a source file imports (anywhere in it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = str(node.module)
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)  # may name submodules
    return {n for n in names if n == "harness" or n.startswith("harness.")}


@lru_cache(maxsize=64)
def code_version(*modules: str) -> str:
    """A hash of the source of `modules` and every harness module they import, transitively,
    registry packages' `__init__` files left out (see REGISTRIES). Any edit to that code gives
    a new version: cached scores are never reused across implementations, at the price of
    recomputing after cosmetic edits."""
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen or name in REGISTRIES:
            continue
        path = _module_file(name)
        if path is None:
            continue  # a name imported from a module, not a module
        seen[name] = path
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo.extend(_harness_imports(path, package))
        todo.append(name.rpartition(".")[0])  # importing a.b runs a/__init__.py first
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(f"{name}\0{file_sha256(seen[name])}\n".encode())
    return digest.hexdigest()[:16]


def proxy_version(proxy: Any, benchmark: Any = None) -> str:
    """The proxy's code version: an explicit `version` attribute, else the hash of its code,
    the benchmark's and the benchmark's space's (a trained proxy trains that space's network)."""
    explicit = getattr(proxy, "version", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    modules = [type(proxy).__module__]
    if benchmark is not None:
        from harness.spaces import SPACES

        modules += [type(benchmark).__module__, type(SPACES.get(benchmark.space)).__module__]
    return code_version(*modules)


def run_inputs(benchmark: Any, proxy: Any) -> dict[str, Any]:
    """The identity of a run's inputs: table and image hashes, the proxy's code version."""
    inputs: dict[str, Any] = {"proxy_version": proxy_version(proxy, benchmark)}
    for key, value in benchmark.manifest().items():
        if key.endswith("sha256") and value:
            inputs[key] = value  # e.g. NB201's table_sha256
    data = proxy.settings().get("data")
    if data is not None:
        from harness.data.cifar import locate_cifar10

        path = locate_cifar10(str(data))
        if not path.exists():
            raise HarnessError(f"image data {path} does not exist (setting data={data!r})")
        inputs["images_sha256"] = tree_sha256(path)
    return inputs


def cache_version(inputs: dict[str, Any]) -> str:
    """The part of a run's inputs that keys its cached evaluations: the proxy's code version
    and the images it trained on (the table does not change a computed proxy's score)."""
    return ":".join(str(inputs.get(k, "")) for k in ("proxy_version", "images_sha256")).strip(":")
