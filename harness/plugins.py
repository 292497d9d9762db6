"""Plugins: outside code that registers proxies, strategies, spaces, benchmarks and methods.

Two ways in, both importing a module that calls the public registries' `register`
(`harness.proxies.PROXIES`, `harness.strategies.STRATEGIES`, `harness.methods.METHODS`,
`harness.spaces.SPACES`, `harness.benchmarks.BENCHMARKS`):

- an installed package declares entry points in the group `csnas_harness.plugins`, each a
  module (`mylab.harness_plugin`) or a callable (`mylab.plugin:register`); they load on the
  first use of any registry, in the client and in every worker (the harness's own baselines,
  `BUILT_IN`, come in the same way, so no registry imports them);
- `harness --plugin MODULE` (repeatable) or `HARNESS_PLUGINS=mod1,mod2` (or `plugins=[...]` in
  the Python API) import modules that need not be installed: a module on `PYTHONPATH` or a
  path to a `.py` file. The plan carries that list, so process workers import it at start and
  Dask workers before each run (a single-file module is uploaded to them).

Plugin code is part of each run's identity like the harness's own: it is hashed by its real
file (harness.identity). Failures name the plugin in one line.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from harness import HarnessError

GROUP = "csnas_harness.plugins"
#: the harness's own plugin modules, loaded like installed ones (and first)
BUILT_IN = ("harness.baselines",)
ENV = "HARNESS_PLUGINS"
#: set to 1 (or true/yes) to skip installed entry points: the built-ins (and plugins named by
#: --plugin / HARNESS_PLUGINS) alone, e.g. for the harness's own test suite
NO_ENTRY_POINTS = "HARNESS_NO_ENTRY_POINTS"
#: the plugin whose module is being imported now (registries record it as the origin)
loading: str | None = None
_entry_points = "new"  # -> "loading" -> "loaded"
_requested: list[str] = []  # --plugin / HARNESS_PLUGINS / plugins=, in order, loaded here


def entry_points_disabled() -> bool:
    """True when $HARNESS_NO_ENTRY_POINTS is 1, true or yes: installed plugins are not loaded."""
    return os.environ.get(NO_ENTRY_POINTS, "").strip().lower() in ("1", "true", "yes")


def load_entry_points() -> None:
    """Import the built-in plugin modules and every installed `csnas_harness.plugins` entry
    point (none when `entry_points_disabled()`), once per process."""
    global _entry_points
    if _entry_points != "new":
        return
    _entry_points = "loading"
    from importlib import metadata

    try:
        for module in BUILT_IN:
            _import(module, "built-in")
        installed = [] if entry_points_disabled() else metadata.entry_points(group=GROUP)
        for ep in sorted(installed, key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else "?"
            _import(ep.value, f"{ep.value} ({dist})", entry_point=ep)
    except BaseException:
        _entry_points = "new"
        raise
    _entry_points = "loaded"


def _import(target: str, label: str, entry_point: object | None = None) -> None:
    """Import (or load) one plugin with `loading` set, so registries record its name."""
    global loading
    before, loading = loading, label
    try:
        if entry_point is not None:
            obj = entry_point.load()  # type: ignore[attr-defined]
            if callable(obj) and not isinstance(obj, type(sys)):
                obj()
        elif target.endswith(".py"):
            _import_file(Path(target))
        else:
            importlib.import_module(target)
    except HarnessError as err:
        raise HarnessError(f"plugin {target!r}: {err}") from None
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else ""
        hint = ""
        if isinstance(err, ModuleNotFoundError) and err.name == target.split(".")[0]:
            hint = (
                " (a module name must be importable: put its folder on PYTHONPATH, or give "
                "the .py file's path)"
            )
        raise HarnessError(
            f"plugin {target!r} failed to load: {type(err).__name__}: {first}{hint}"
        ) from None
    finally:
        loading = before


def _import_file(path: Path) -> None:
    name = path.stem
    if not path.is_file():
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)  # a Dask worker elsewhere: the uploaded copy
            return
        raise FileNotFoundError(f"no such file {path}")
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a real module by its file: identity hashes that file
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def from_environment() -> list[str]:
    return [m.strip() for m in os.environ.get(ENV, "").split(",") if m.strip()]


def load(modules: Iterable[str]) -> list[str]:
    """Import plugin modules (names or .py paths) once each; returns every module requested
    in this process so far (the list a plan carries to its workers)."""
    load_entry_points()
    for target in modules:
        key = str(Path(target).resolve()) if target.endswith(".py") else target
        if key in _requested:
            continue
        _import(key, Path(key).stem if key.endswith(".py") else key)
        _requested.append(key)
    return list(_requested)


def requested() -> list[str]:
    """The plugins this process was asked to load (HARNESS_PLUGINS included), loaded."""
    return load(from_environment())


def single_files(modules: Iterable[str]) -> list[Path]:
    """The plugins that are one file (a path, or a top-level module that is no package):
    what a remote Dask worker cannot import unless it is sent to it."""
    out = []
    for target in modules:
        if target.endswith(".py"):
            out.append(Path(target))
            continue
        module = sys.modules.get(target)
        path = getattr(module, "__file__", None)
        if path and "." not in target and not path.endswith("__init__.py"):
            out.append(Path(path))
    return out
