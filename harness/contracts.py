"""The public contracts: everything a plugin implements or builds on, from one import.

A plugin is a module that registers objects with the registries below (through an entry point
in the group `csnas_harness.plugins`, or `harness --plugin MODULE`). What it registers must
satisfy one of the protocols here, and the conformance kit `harness.testing` checks that it
does (it needs pytest: `pip install "csnas-harness[dev]"`).

- proxy: `PROXIES.register(name, factory)`; the factory returns a `Proxy`, whose
  `evaluate` returns an `Evaluation`. Helpers for proxies of untrained networks:
  `ZeroCostProxy`, `Context`, `Batch`, `resolve`, `COMMON`, `seeded_batch`,
  `build_network`.
- strategy: `STRATEGIES.register(name, factory)`; a `StrategyFactory` returns a `Strategy`
  (`Suggestion`, `Ledger`, over a `ParamSpace`).
- space: `SPACES.register(name, space)`; a `SearchSpace` (`ParamSpace`, `Categorical`,
  `Params`).
- benchmark: `BENCHMARKS.register(name, benchmark)`; a `Benchmark` (`TruthSource`).
- method: `METHODS.register(name, method)`; a `Method` (a strategy + a proxy + settings).

The classes live in their own modules (`harness.proxies.base`, `harness.strategies.base`,
`harness.spaces.base`, `harness.benchmarks.base`, `harness.proxies.zero_cost.common`,
`harness.methods`) and are the same objects when imported from there. The zero-cost helpers
need torch and are imported on first access (`from harness.contracts import ZeroCostProxy`),
so a plugin that uses only the rest keeps a lookup run free of torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.benchmarks.base import Benchmark, TruthSource
from harness.evaluate.protocols import PROTOCOLS
from harness.methods import METHODS, Method
from harness.proxies import PROXIES
from harness.proxies.base import Direction, Evaluation, Proxy
from harness.registry import Registry
from harness.spaces import SPACES
from harness.spaces.base import Categorical, Params, ParamSpace, SearchSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Ledger, Strategy, StrategyFactory, Suggestion

#: every registry, in the order tables list them (`Registry.kind` names each): what a plugin
#: can add to, and what the README's names table and the docs' generated tables loop over
REGISTRIES: tuple[Registry[Any], ...] = (
    SPACES, BENCHMARKS, PROXIES, STRATEGIES, METHODS, PROTOCOLS,
)  # fmt: skip

if TYPE_CHECKING:  # imported on first access: they import torch
    from harness.proxies.zero_cost.common import (
        COMMON,
        Batch,
        Context,
        ZeroCostProxy,
        build_network,
        resolve,
        seeded_batch,
    )

_ZERO_COST = ("COMMON", "Batch", "Context", "ZeroCostProxy", "build_network", "resolve",
              "seeded_batch")  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _ZERO_COST:
        return getattr(importlib.import_module("harness.proxies.zero_cost.common"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BENCHMARKS",
    "COMMON",
    "METHODS",
    "PROTOCOLS",
    "PROXIES",
    "REGISTRIES",
    "SPACES",
    "STRATEGIES",
    "Batch",
    "Benchmark",
    "Categorical",
    "Context",
    "Direction",
    "Evaluation",
    "HarnessError",
    "Ledger",
    "Method",
    "ParamSpace",
    "Params",
    "Proxy",
    "SearchSpace",
    "Strategy",
    "StrategyFactory",
    "Suggestion",
    "TruthSource",
    "ZeroCostProxy",
    "build_network",
    "resolve",
    "seeded_batch",
]
