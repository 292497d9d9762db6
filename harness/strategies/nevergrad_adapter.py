"""`nevergrad:<optimizer>`: any optimizer of `nevergrad.optimizers.registry` as a strategy.

The space becomes an `ng.p.Dict` of one `ng.p.Choice` per parameter, and the run's seed
becomes the parametrization's `random_state` before the optimizer is built: nevergrad draws
every random number of an optimizer (and of the choices' sampling) from that state, which is
how its documentation makes a run reproducible. Optimizers that call other libraries with
their own random state are not covered; the tests check the ones they name, in a fresh
process too.

Settings: `optimizer` (the registry name), `budget` (default 100: the number of trials the
optimizer plans for; NGOpt picks its sub-optimizer from it, asks beyond it still work),
`num_workers` (default 1: how many asks may await their tells; nevergrad plans for that many,
and one more pending ask is refused in one line) and `deterministic_choice` (nevergrad's
`Choice(deterministic=...)`, default False: a choice is drawn from the optimizer's softmax
weights, not their argmax).

A failed trial (None or NaN) is told as the worst loss told so far, or 1e20 before any:
nevergrad takes only finite losses (it clips NaN and inf to 5e20 with a warning), and a
finite worst keeps loss-scale-sensitive optimizers' statistics sane while ranking the failure
last.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from harness import HarnessError
from harness.spaces.base import ParamSpace
from harness.strategies.base import Ledger, Suggestion

PREFIX = "nevergrad"
DEFAULTS: dict[str, Any] = {"budget": 100, "num_workers": 1, "deterministic_choice": False}
#: the loss of a failed trial before any finite loss (below nevergrad's 5e20 clip)
FAILED_BEFORE_ANY = 1e20


def _import_nevergrad(strategy: str) -> Any:
    try:
        import nevergrad
    except ImportError as e:
        raise ImportError(f"strategy {strategy!r} needs nevergrad: pip install nevergrad") from e
    return nevergrad


class NevergradSearch:
    """One nevergrad optimizer over the space; candidates are held until their tell."""

    def __init__(self, name: str, space: ParamSpace, seed: int, settings: dict[str, Any]) -> None:
        import numpy as np

        ng = _import_nevergrad(name)
        self.name = name
        self.space = space
        self.settings = settings
        choices = {
            p.name: ng.p.Choice(list(p.choices), deterministic=settings["deterministic_choice"])
            for p in space.params
        }
        parametrization = ng.p.Dict(**choices)
        parametrization.random_state = np.random.RandomState(seed)
        optimizer = ng.optimizers.registry[settings["optimizer"]]
        try:
            self._opt = optimizer(
                parametrization=parametrization,
                budget=settings["budget"],
                num_workers=settings["num_workers"],
            )
        except ValueError as err:  # e.g. "... does not support parallelization"
            raise ValueError(f"{name}: {str(err).splitlines()[0]}") from None
        self._ledger: Ledger[Any] = Ledger()
        self._worst: float | None = None

    def ask(self) -> Suggestion:
        if len(self._ledger.outstanding()) >= self.settings["num_workers"]:
            raise HarnessError(
                f"{self.name} was asked for more candidates than num_workers="
                f"{self.settings['num_workers']} before their tells: raise the num_workers setting"
            )
        candidate = self._opt.ask()
        params = {p.name: str(candidate.value[p.name]) for p in self.space.params}
        return Suggestion(self._ledger.open(candidate), params)

    def tell(self, number: int, loss: float | None) -> None:
        candidate = self._ledger.close(number)
        if loss is None or math.isnan(loss) or math.isinf(loss):
            told = FAILED_BEFORE_ANY if self._worst is None else self._worst
        else:
            told = float(loss)
            self._worst = told if self._worst is None else max(self._worst, told)
        self._opt.tell(candidate, told)


class OptimizerFactory:
    """The `StrategyFactory` of one `nevergrad:<optimizer>`; its module is the run id's code."""

    def __init__(self, optimizer: str) -> None:
        self.optimizer = optimizer
        self.name = f"{PREFIX}:{optimizer}"

    def __call__(self, space: ParamSpace, seed: int, **settings: Any) -> NevergradSearch:
        given = dict(settings)
        optimizer = given.pop("optimizer", self.optimizer)
        if optimizer != self.optimizer:
            raise ValueError(f"{self.name} setting optimizer must be {self.optimizer!r}")
        unknown = set(given) - set(DEFAULTS)
        if unknown:
            raise TypeError(
                f"unknown {self.name} settings {sorted(unknown)} (known: {list(DEFAULTS)})"
            )
        resolved = {"optimizer": self.optimizer, **DEFAULTS, **given}
        for key in ("budget", "num_workers"):
            v = resolved[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{self.name} {key} must be an integer >= 1, not {v!r}")
        if not isinstance(resolved["deterministic_choice"], bool):
            raise ValueError(f"{self.name} deterministic_choice must be true or false")
        return NevergradSearch(self.name, space, seed, resolved)


def nevergrad_family(suffix: str) -> OptimizerFactory:
    """The factory of `nevergrad:<suffix>`.

    Raises:
        LookupError: `suffix` is not in nevergrad's registry (the message names close ones).
    """
    ng = _import_nevergrad(f"{PREFIX}:{suffix}")
    registry = ng.optimizers.registry
    if suffix not in registry:
        close = difflib.get_close_matches(suffix, list(registry), n=5) or [
            "NGOpt",
            "DiscreteOnePlusOne",
            "PortfolioDiscreteOnePlusOne",
        ]
        raise LookupError(
            f"nevergrad.optimizers.registry has no optimizer {suffix!r} ({len(registry)} "
            f"do, e.g. {', '.join(close)})"
        )
    return OptimizerFactory(suffix)
