"""Proxies, registered by name as factories taking setting overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness import HarnessError
from harness.proxies.base import Direction, Evaluation, Proxy
from harness.registry import Registry

PROXIES: Registry[Callable[..., Proxy]] = Registry("proxy")
#: built-ins by "module:factory", imported on first use: a lookup run never imports torch
_BUILT_IN = {
    "lookup-12": ("harness.proxies.lookup:lookup_12", ()),
    "lookup-200": ("harness.proxies.lookup:lookup_200", ()),
    "contrastive": ("harness.proxies.contrastive:contrastive", ("trained",)),
    "supervised": ("harness.proxies.supervised:supervised", ("trained",)),
    "rotation": ("harness.proxies.rotation:rotation", ("trained",)),
    "simsiam": ("harness.proxies.simsiam:simsiam", ("trained",)),
}
#: zero-cost proxies, in the order the tables show them
_ZERO_COST = (
    "naswot", "synflow", "jacov", "snip", "grad-norm", "swap", "params", "flops",
    "az-nas", "meco", "vkdnw", "zico", "epe-nas", "fisher", "grasp", "l2-norm", "plain",
    "dextr",
)  # fmt: skip
for _name, (_target, _tags) in _BUILT_IN.items():
    PROXIES.register_lazy(_name, _target, tags=_tags)
for _name in _ZERO_COST:
    _module = _name.replace("-", "_")
    PROXIES.register_lazy(
        _name, f"harness.proxies.zero_cost.{_module}:{_module}_factory", tags=("zero-cost",)
    )


def make_proxy(name: str, **settings: Any) -> Proxy:
    factory = PROXIES.get(name)
    try:
        return factory(**settings)
    except Exception as err:
        wrapped = _plugin_error("proxy", name, PROXIES.origin(name), err)
        if wrapped is err:
            raise
        raise wrapped from err


def _plugin_error(kind: str, name: str, origin: str, err: Exception) -> Exception:
    """A plugin's factory that raises: one line naming the plugin (the harness's own errors,
    and its built-ins' bugs, pass through unchanged)."""
    if origin == "built-in" or isinstance(err, HarnessError):
        return err
    first = str(err).splitlines()[0] if str(err) else ""
    return HarnessError(f"{kind} {name!r} from {origin} failed: {type(err).__name__}: {first}")


def build_proxy(name: str, profile: str | None = None, **overrides: Any) -> Any:
    """A trained proxy ('contrastive', 'supervised', 'rotation', 'simsiam', or a plugin's tagged
    "trained") from a profile and overrides."""
    trained = PROXIES.tagged("trained")
    if name not in trained:
        raise HarnessError(f"unknown trained proxy {name!r} (known: {', '.join(trained)})")
    from harness.proxies.profiles import DEFAULT_PROFILE

    return make_proxy(name, profile=profile or DEFAULT_PROFILE, **overrides)


__all__ = ["PROXIES", "Direction", "Evaluation", "Proxy", "build_proxy", "make_proxy"]
