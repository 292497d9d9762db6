"""Search strategies, registered by name. TPE and optuna's GP are the harness's own;
`harness.baselines` (random, GP, evolution: the repository's baselines/ folder) registers as a
built-in plugin (harness.plugins) on first lookup. Two families wrap whole libraries:
`optuna:<SamplerClass>` (any seedable sampler of optuna.samplers) and `nevergrad:<optimizer>`
(any optimizer of nevergrad's registry), each built on first use. `gp` (scikit-optimize) is
archived: kept so old runs resume and compare, superseded by gp-optuna."""

from __future__ import annotations

from typing import Any

from harness import HarnessError
from harness.registry import Registry
from harness.spaces.base import ParamSpace
from harness.strategies.base import Strategy, StrategyFactory, Suggestion

STRATEGIES: Registry[StrategyFactory] = Registry("strategy")
STRATEGIES.register_lazy("tpe-hyperopt", "harness.strategies.tpe_hyperopt:tpe_hyperopt")
STRATEGIES.register_lazy("tpe-optuna", "harness.strategies.tpe_optuna:tpe_optuna")
STRATEGIES.register_lazy("gp-optuna", "harness.strategies.gp_optuna:gp_optuna")
STRATEGIES.register_family(
    "optuna",
    "harness.strategies.optuna_adapter:optuna_family",
    pattern="optuna:<SamplerClass>",
    about="optuna.samplers",
)
STRATEGIES.register_family(
    "nevergrad",
    "harness.strategies.nevergrad_adapter:nevergrad_family",
    pattern="nevergrad:<optimizer>",
    about="nevergrad's registry",
)
STRATEGIES.archive("gp", "scikit-optimize, unmaintained since 2024")


def make_strategy(name: str, space: ParamSpace, seed: int, **settings: Any) -> Strategy:
    factory = STRATEGIES.get(name)
    try:
        return factory(space, seed, **settings)
    except Exception as err:
        origin = STRATEGIES.origin(name)
        if origin == "built-in" or isinstance(err, HarnessError):
            raise
        first = str(err).splitlines()[0] if str(err) else ""
        raise HarnessError(
            f"strategy {name!r} from {origin} failed: {type(err).__name__}: {first}"
        ) from err


__all__ = ["STRATEGIES", "Strategy", "StrategyFactory", "Suggestion", "make_strategy"]
