"""What the kit's classes share: finding the object under test, and a fresh interpreter."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from typing import Any


def load_plugins(plugins: tuple[str, ...]) -> None:
    """Import the plugin modules a case names (no-op for those already imported)."""
    if plugins:
        from harness import plugins as harness_plugins

        harness_plugins.load(plugins)


def resolve(target: str, registry: Any, plugins: tuple[str, ...]) -> Any:
    """A registered name, or "package.module:attribute" for an object not registered (yet)."""
    load_plugins(plugins)
    if target in registry:  # registered, an adapter family's member included (`optuna:X`)
        return registry.get(target)
    if ":" in target:
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)
    return registry.get(target)


def in_fresh_process(function: str, spec: dict[str, Any], timeout: float = 300) -> Any:
    """Call `function` ("module:name", taking the JSON `spec`, returning JSON) in a new
    interpreter with another hash seed; the parent's `sys.path` is the child's PYTHONPATH, so
    a test module that defines its own factory can be imported there too."""
    code = (
        "import importlib, json, sys\n"
        "module, _, name = sys.argv[1].partition(':')\n"
        "result = getattr(importlib.import_module(module), name)(json.loads(sys.argv[2]))\n"
        "print('\\nRESULT ' + json.dumps(result))\n"
    )
    path = os.pathsep.join(p for p in sys.path if p)
    env = {**os.environ, "PYTHONHASHSEED": "4321", "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", code, function, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"the fresh process failed:\n{done.stderr[-3000:]}")
    last = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")][-1]
    return json.loads(last[len("RESULT ") :])


def json_round_trip(value: Any, what: str = "settings") -> Any:
    """`value` through JSON and back; raises AssertionError naming what does not survive."""
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise AssertionError(f"{what} are not JSON-serialisable: {err}") from None
    back = json.loads(text)
    assert back == value, f"{what} change through JSON: {value!r} -> {back!r}"
    return back
