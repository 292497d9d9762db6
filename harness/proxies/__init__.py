"""Proxies, registered by name as factories taking setting overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.proxies.base import Direction, Evaluation, Proxy
from harness.proxies.lookup import lookup_12, lookup_200
from harness.proxies.profiles import contrastive_factory, supervised_factory
from harness.registry import Registry

PROXIES: Registry[Callable[..., Proxy]] = Registry("proxy")
PROXIES.register("lookup-12", lookup_12)
PROXIES.register("lookup-200", lookup_200)
PROXIES.register("contrastive", contrastive_factory)
PROXIES.register("supervised", supervised_factory)


def make_proxy(name: str, **settings: Any) -> Proxy:
    return PROXIES.get(name)(**settings)


__all__ = ["PROXIES", "Direction", "Evaluation", "Proxy", "make_proxy"]
