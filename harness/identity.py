"""What identifies a run's inputs: file hashes, the code that runs and the libraries it calls.

A run's identity (`RunSpec.inputs`, hashed into the run id) holds everything that changes its
results besides its settings: the sha256 of the benchmark's table and of the image data a
trained proxy reads; the code version of the proxy (with its benchmark and space), of the
strategy and of the search loop, each a hash of the source it runs, found by its real file
(harness modules, `harness.baselines`, a plugin or a user's own module alike); and the versions
of the libraries that code imports. They are computed once when the plan is made and checked
again where the run executes (another process, another host), so a changed file, an upgraded
library or a worker with other code never silently reuses or extends a run. Cached evaluations
are keyed by the proxy's part only (`cache_version`).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib.util
import inspect
import platform
import re
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness import HarnessError
from harness.environment import RESULT_LIBRARIES, version_of


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
    {
        "harness",
        "harness.proxies",
        "harness.spaces",
        "harness.benchmarks",
        "harness.strategies",
        "harness.baselines",
    }
)
#: the search loop every run executes, hashed file by file (not transitively: the runner imports
#: the store and executors, whose code does not decide a trial)
SEARCH_LOOP = (
    "harness.runner",
    "harness.seeds",
    "harness.strategies.base",
    "harness.proxies.base",
    "harness.spaces.base",
)
_ROOT = Path(__file__).resolve().parent
#: import name -> distribution for the libraries that decide results (the rest are looked up)
_DISTRIBUTIONS = {
    "numpy": "numpy",
    "scipy": "scipy",
    "optuna": "optuna",
    "hyperopt": "hyperopt",
    "skopt": "scikit-optimize",
    "sklearn": "scikit-learn",
    "torch": "torch",
    "pandas": "pandas",
}
_MAIN = ("__main__", "__mp_main__")  # a script's module: named so in the client, in workers


def _module_file(name: str) -> Path | None:
    """The source file of a module: harness's found without importing it, others (a plugin,
    a user's package, a script run as __main__) by their real file. harness.baselines lies
    under harness/ in an installed package but is the checkout's baselines/ folder in an
    editable install (pyproject.toml maps it): its names, when not under harness/, are
    looked up like any other module's."""
    if name == "harness" or name.startswith("harness."):
        base = _ROOT.joinpath(*name.split(".")[1:])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        if not name.startswith("harness.baselines"):
            return None
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None and name not in _MAIN:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None and spec.has_location else None
    if origin is None or not str(origin).endswith(".py"):
        return None
    return Path(origin)


#: one parse at a time: CPython 3.11 builds the tree with a recursion counter shared between
#: threads, and two threads parsing at once fail with "SystemError: AST constructor recursion
#: depth mismatch" (python/cpython#106905; seen here when a plan is made beside a Dask run)
_PARSING = threading.Lock()


def _imports(path: Path, package: str) -> set[str]:
    """Absolute names of every module a source file imports (anywhere in it)."""
    with _PARSING:
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
    return names


@dataclass(frozen=True)
class CodeIdentity:
    """A hash of the source a set of modules runs, and the libraries that code imports."""

    version: str
    libraries: tuple[tuple[str, str], ...]


@lru_cache(maxsize=128)
def code_identity(*modules: str) -> CodeIdentity:
    """Follow `modules` and every module of the same top-level package (or of harness) they
    import, transitively, registry `__init__` files left out (see REGISTRIES). Any edit to that
    code gives a new version (at the price of recomputing after cosmetic edits); the third-party
    libraries it imports, and the result libraries those require, give `libraries`."""
    seen: dict[str, Path] = {}
    outside: set[str] = set()
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen or name in REGISTRIES:
            continue
        top = name.split(".")[0]
        path = _module_file(name)
        if path is None:
            if name in _MAIN:
                raise HarnessError(
                    f"code in {name} has no source file (a notebook or `python -c`?): "
                    "give the class a `version` string, or put it in a module"
                )
            continue  # a name imported from a module, not a module
        key = "__main__" if name in _MAIN else name
        seen[key] = path
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        own = {"harness", top}
        for imported in _imports(path, package):
            head = imported.split(".")[0]
            (todo.append(imported) if head in own else outside.add(head))
        if package and package != name:
            todo.append(package)  # importing a.b runs a/__init__.py first
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(f"{name}\0{file_sha256(seen[name])}\n".encode())
    return CodeIdentity(digest.hexdigest()[:16], _library_versions(outside))


def code_version(*modules: str) -> str:
    """The source hash of `code_identity` (what older callers and tests compare)."""
    return code_identity(*modules).version


def _library_versions(imported: set[str]) -> tuple[tuple[str, str], ...]:
    """Python, numpy, and the distributions behind third-party import names (stdlib left out),
    with the result libraries each of them requires."""
    dists = {"numpy"}
    for name in imported - set(sys.stdlib_module_names) - {"__future__", *_MAIN}:
        dists.update(_distributions_of(name))
    for dist in list(dists):
        dists.update(_required_result_libraries(dist))
    out = {"python": platform.python_version()}
    out.update({d: version_of(d) for d in sorted(dists)})
    return tuple(sorted(out.items()))


def _distributions_of(import_name: str) -> list[str]:
    if import_name in _DISTRIBUTIONS:
        return [_DISTRIBUTIONS[import_name]]
    return list(_packages_distributions().get(import_name, []))


@lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    from importlib import metadata

    return dict(metadata.packages_distributions())


@lru_cache(maxsize=64)
def _required_result_libraries(dist: str) -> frozenset[str]:
    from importlib import metadata

    try:
        requires = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return frozenset()
    wanted = set(RESULT_LIBRARIES)
    names = {
        re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0].strip().lower()
        for r in requires
        if "extra ==" not in r  # optional extras are not installed by the library itself
    }
    return frozenset(names & wanted)


def _space_module(benchmark: Any) -> str:
    from harness.spaces import SPACES

    return type(SPACES.get(benchmark.space)).__module__


def proxy_identity(proxy: Any, benchmark: Any = None) -> CodeIdentity:
    """The proxy's code: an explicit `version` attribute (its libraries then all the result
    libraries), else the hash of its code (its class's module and those of the functions it
    holds), the benchmark's and the benchmark's space's (a trained proxy trains that space's
    network) and what they import."""
    explicit = getattr(proxy, "version", None)
    if isinstance(explicit, str) and explicit:
        return CodeIdentity(explicit, _library_versions(set(_DISTRIBUTIONS)))
    modules = [type(proxy).__module__, *_held_code(proxy)]
    if benchmark is not None:
        modules += [type(benchmark).__module__, _space_module(benchmark)]
    return code_identity(*modules)


def _held_code(obj: Any) -> list[str]:
    """The modules of the functions a dataclass proxy is built from (its fields): a zero-cost
    proxy is one shared class given its `measure` and `build` functions, which live in the
    proxy's own module (meco.py, naswot.py), not in the class's. Other attributes (a test's
    counting wrapper around `evaluate`) are not the proxy's definition and are left out."""
    if not dataclasses.is_dataclass(obj):
        return []
    modules = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name, None)
        value = getattr(value, "func", value)  # a functools.partial's function
        if inspect.isfunction(value) or inspect.isclass(value):
            modules.append(value.__module__)
    return modules


def proxy_version(proxy: Any, benchmark: Any = None) -> str:
    return proxy_identity(proxy, benchmark).version


def strategy_identity(name: str) -> CodeIdentity:
    """The registered strategy's code (found by its factory's module) and the runner's loop."""
    from harness.strategies import STRATEGIES

    factory = STRATEGIES.get(name)
    explicit = getattr(factory, "version", None)
    if isinstance(explicit, str) and explicit:
        return CodeIdentity(explicit, _library_versions(set(_DISTRIBUTIONS)))
    return code_identity(factory.__module__)


@lru_cache(maxsize=1)
def search_loop_version() -> str:
    digest = hashlib.sha256()
    for name in SEARCH_LOOP:
        path = _module_file(name)
        assert path is not None, name
        digest.update(f"{name}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()[:16]


def run_inputs(benchmark: Any, proxy: Any, strategy: str | None = None) -> dict[str, Any]:
    """The identity of a run's inputs: table and image hashes, the code of the proxy, of the
    strategy and of the search loop, and the versions of the libraries that code imports."""
    prox = proxy_identity(proxy, benchmark)
    libraries = dict(prox.libraries)
    inputs: dict[str, Any] = {"proxy_version": prox.version}
    if strategy is not None:
        strat = strategy_identity(strategy)
        libraries.update(strat.libraries)
        inputs["strategy_version"] = strat.version
        inputs["search_loop_version"] = search_loop_version()
    inputs["libraries"] = dict(sorted(libraries.items()))
    inputs["proxy_libraries"] = ",".join(f"{k}={v}" for k, v in prox.libraries)
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
    """The part of a run's inputs that keys its cached evaluations: the proxy's code version,
    the versions of the libraries it imports and the images it trained on (the table and the
    strategy do not change a computed proxy's score), hashed to 16 hex digits."""
    parts = [str(inputs.get(k, "")) for k in ("proxy_version", "proxy_libraries", "images_sha256")]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
