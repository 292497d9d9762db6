"""Zero-cost proxies computed from the untrained network of any space that builds networks.

One module per proxy; `common` holds the shared settings, batch, network and Evaluation code.
"""

from __future__ import annotations

from harness.proxies.zero_cost.az_nas import az_nas_factory
from harness.proxies.zero_cost.flops import flops_factory
from harness.proxies.zero_cost.grad_norm import grad_norm_factory
from harness.proxies.zero_cost.jacov import jacov_factory
from harness.proxies.zero_cost.meco import meco_factory
from harness.proxies.zero_cost.naswot import naswot_factory
from harness.proxies.zero_cost.params import params_factory
from harness.proxies.zero_cost.snip import snip_factory
from harness.proxies.zero_cost.swap import swap_factory
from harness.proxies.zero_cost.synflow import synflow_factory
from harness.proxies.zero_cost.vkdnw import vkdnw_factory
from harness.proxies.zero_cost.zico import zico_factory

#: proxy name -> factory, in the order the tables show them
ZERO_COST = {
    "naswot": naswot_factory,
    "synflow": synflow_factory,
    "jacov": jacov_factory,
    "snip": snip_factory,
    "grad-norm": grad_norm_factory,
    "swap": swap_factory,
    "params": params_factory,
    "flops": flops_factory,
    "az-nas": az_nas_factory,
    "meco": meco_factory,
    "vkdnw": vkdnw_factory,
    "zico": zico_factory,
}

__all__ = [
    "ZERO_COST",
    "az_nas_factory",
    "flops_factory",
    "grad_norm_factory",
    "jacov_factory",
    "meco_factory",
    "naswot_factory",
    "params_factory",
    "snip_factory",
    "swap_factory",
    "synflow_factory",
    "vkdnw_factory",
    "zico_factory",
]
