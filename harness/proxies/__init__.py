"""Proxies, registered by name as factories taking setting overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.proxies.base import Direction, Evaluation, Proxy
from harness.proxies.lookup import lookup_12, lookup_200
from harness.proxies.profiles import contrastive_factory, supervised_factory
from harness.proxies.zero_cost import (
    az_nas_factory,
    flops_factory,
    grad_norm_factory,
    jacov_factory,
    meco_factory,
    naswot_factory,
    params_factory,
    snip_factory,
    swap_factory,
    synflow_factory,
    vkdnw_factory,
    zico_factory,
)
from harness.registry import Registry

PROXIES: Registry[Callable[..., Proxy]] = Registry("proxy")
PROXIES.register("lookup-12", lookup_12)
PROXIES.register("lookup-200", lookup_200)
PROXIES.register("contrastive", contrastive_factory)
PROXIES.register("supervised", supervised_factory)
PROXIES.register("naswot", naswot_factory)
PROXIES.register("synflow", synflow_factory)
PROXIES.register("jacov", jacov_factory)
PROXIES.register("snip", snip_factory)
PROXIES.register("grad-norm", grad_norm_factory)
PROXIES.register("swap", swap_factory)
PROXIES.register("params", params_factory)
PROXIES.register("flops", flops_factory)
PROXIES.register("az-nas", az_nas_factory)
PROXIES.register("meco", meco_factory)
PROXIES.register("vkdnw", vkdnw_factory)
PROXIES.register("zico", zico_factory)


def make_proxy(name: str, **settings: Any) -> Proxy:
    return PROXIES.get(name)(**settings)


__all__ = ["PROXIES", "Direction", "Evaluation", "Proxy", "make_proxy"]
