"""MkDocs hooks: what the site shows that must not drift from the code or the results.

- Figures: every PNG under results/reference/ is served at the same path inside the site
  (`results/reference/...`), copied from the checkout at build time, never committed twice.
- Generated tables: a page line `<!-- generated: NAME -->` is replaced by the table NAME built
  from the registries at build time (`TABLES` below): the registered names, each proxy's and
  strategy's settings with their defaults, and the methods.

tests/test_docs.py imports this module: the same functions build the pages and the tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "results" / "reference"
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.M)


def figure_uris() -> dict[str, Path]:
    """Site path -> file, for every committed reference figure."""
    return {p.relative_to(ROOT).as_posix(): p for p in sorted(FIGURES.rglob("*.png"))}


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for uri, path in figure_uris().items():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return MARKER.sub(lambda m: TABLES[m.group(1)](), markdown)


# -- the generated tables --------------------------------------------------------------------


def _value(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return f"`{text}`" if text != "" else '`""`'


def proxy_settings() -> dict[str, dict[str, Any]]:
    """Each built-in proxy's settings as it is built with no override (trained proxies: per
    profile). {proxy: {profile or "": settings}}."""
    from harness.proxies import PROXIES, make_proxy
    from harness.proxies.profiles import PROFILES

    out: dict[str, dict[str, Any]] = {}
    trained = set(PROXIES.tagged("trained"))
    for name in PROXIES.built_in():
        if name in trained:
            out[name] = {p: make_proxy(name, profile=p).settings() for p in PROFILES}
        else:
            out[name] = {"": make_proxy(name).settings()}
    return out


def strategy_settings() -> dict[str, dict[str, Any]]:
    """Each built-in strategy's resolved settings with no override (on the nb201 space)."""
    from harness.spaces import SPACES
    from harness.strategies import STRATEGIES, make_strategy

    space = SPACES.get("nb201").param_space
    return {n: dict(make_strategy(n, space, 0).settings) for n in STRATEGIES.built_in()}


def _proxies_table() -> str:
    from harness.proxies import PROXIES, make_proxy

    blocks = []
    for name, by_profile in proxy_settings().items():
        proxy = make_proxy(name)
        tags = ", ".join(sorted(PROXIES._tags.get(name, ()))) or "table lookup"
        head = f"### `{name}`\n\n{tags}; score direction: **{proxy.direction}**.\n\n"
        profiles = list(by_profile)
        keys = list(dict.fromkeys(k for s in by_profile.values() for k in s))
        if profiles == [""]:
            rows = ["| setting | default |", "|:---|:---|"]
            rows += [f"| `{k}` | {_value(by_profile[''][k])} |" for k in keys]
        else:
            rows = [
                "| setting | " + " | ".join(f"`{p}`" for p in profiles) + " |",
                "|:---|" + ":---|" * len(profiles),
            ]
            rows += [
                f"| `{k}` | "
                + " | ".join(_value(by_profile[p].get(k, "-")) for p in profiles)
                + " |"
                for k in keys
            ]
        blocks.append(head + "\n".join(rows))
    return "\n\n".join(blocks)


def _strategies_table() -> str:
    blocks = []
    for name, settings in strategy_settings().items():
        head = f"### `{name}`\n\n"
        if not settings:
            blocks.append(head + "No settings.")
            continue
        rows = ["| setting | default |", "|:---|:---|"]
        rows += [f"| `{k}` | {_value(v)} |" for k, v in settings.items()]
        blocks.append(head + "\n".join(rows))
    return "\n\n".join(blocks)


def protocol_settings() -> dict[str, dict[str, dict[str, Any]]]:
    """Each built-in evaluation protocol's resolved settings per profile, on its first native
    space. {protocol: {profile: settings}}."""
    from harness.evaluate.protocols import PROFILES, PROTOCOLS
    from harness.spaces import SPACES

    out = {}
    for name in PROTOCOLS.built_in():
        protocol = PROTOCOLS.get(name)
        space = protocol.native_spaces[0]
        keys = tuple(SPACES.get(space).scale_keys)
        out[name] = {p: protocol.resolve(p, space, keys, {}) for p in PROFILES}
    return out


def _protocols_table() -> str:
    from harness.evaluate.protocols import PROTOCOLS

    blocks = []
    for name, by_profile in protocol_settings().items():
        protocol = PROTOCOLS.get(name)
        head = (
            f"### `{name}`\n\n{protocol.description.rstrip('.')}. Reference: {protocol.reference}. "
            f"Scale shown for `{protocol.native_spaces[0]}`.\n\n"
        )
        profiles = list(by_profile)
        keys = [
            k for k in dict.fromkeys(k for s in by_profile.values() for k in s) if k != "profile"
        ]
        rows = [
            "| setting | " + " | ".join(f"`{p}`" for p in profiles) + " |",
            "|:---|" + ":---|" * len(profiles),
        ]
        rows += [
            f"| `{k}` | " + " | ".join(_value(by_profile[p].get(k, "-")) for p in profiles) + " |"
            for k in keys
        ]
        blocks.append(head + "\n".join(rows))
    return "\n\n".join(blocks)


def _methods_table() -> str:
    from harness.methods import METHODS

    rows = [
        "| method | strategy | proxy | settings | trials | what it is |",
        "|:---|:---|:---|:---|---:|:---|",
    ]
    for name in METHODS.built_in():
        m = METHODS.get(name)
        settings = {**m.strategy_settings, **m.proxy_settings}
        shown = ", ".join(f"`{k}={v}`" for k, v in settings.items()) or "-"
        rows.append(
            f"| `{name}` | `{m.strategy}` | `{m.proxy}` | {shown} | {m.default_trials} | "
            f"{m.description} |"
        )
    return "\n".join(rows)


def _names_table() -> str:
    from harness.contracts import REGISTRIES

    rows = ["| noun | registered names (built-in) |", "|:---|:---|"]
    for registry in REGISTRIES:
        names = ", ".join(f"`{n}`" for n in registry.built_in())
        rows.append(f"| {registry.kind} | {names} |")
    return "\n".join(rows)


TABLES = {
    "proxy-settings": _proxies_table,
    "strategy-settings": _strategies_table,
    "methods": _methods_table,
    "protocol-settings": _protocols_table,
    "names": _names_table,
}
