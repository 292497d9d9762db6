"""Search strategies, registered by name. `baselines` registers its own on first lookup."""

from __future__ import annotations

from typing import Any

from harness.registry import Registry
from harness.spaces.base import ParamSpace
from harness.strategies.base import Strategy, StrategyFactory, Suggestion


def _load_plugins() -> None:
    import baselines  # noqa: F401
    import harness.strategies.tpe_hyperopt
    import harness.strategies.tpe_optuna  # noqa: F401


STRATEGIES: Registry[StrategyFactory] = Registry("strategy", loader=_load_plugins)


def make_strategy(name: str, space: ParamSpace, seed: int, **settings: Any) -> Strategy:
    return STRATEGIES.get(name)(space, seed, **settings)


__all__ = ["STRATEGIES", "Strategy", "StrategyFactory", "Suggestion", "make_strategy"]
