"""SMAC3's random-forest Bayesian optimisation (`HyperparameterOptimizationFacade`), ask/tell.

One `ConfigSpace.Categorical` per parameter, choices in the space's order. The facade is
SMAC's own recipe, unchanged: a Sobol initial design of `min(10 x parameters,
n_trials / 4)` cells (NB201 at 100 trials: 25), then a random forest on log-scaled losses with
log-EI maximised by local and sorted random search, one in five proposals interleaved at
random, the forest refitted every 8 proposals (SMAC's `retrain_after`), and its intensifier
(deterministic: one evaluation per cell, no repeats). `Scenario(seed=seed, deterministic=True,
n_trials=n_trials)`: every random draw comes from SMAC's own generators, seeded by the seed.

One change to SMAC, for determinism: its local search gathers its start points in a `set` of
configurations and iterates it, an order that follows PYTHONHASHSEED (string hashes), so the
same seed gave other cells in a fresh process; here they are iterated in a fixed order
(`_ordered_local_search`). With it, the same seed and tells give the same cells in any process.

`n_trials` only sizes SMAC's initial design (a quarter of it); SMAC's `ask` does not stop there,
so asking more trials than `n_trials` goes on with model-based proposals. Set it to the run's
trial count to get SMAC's own recipe for that budget.

Failed trials are told as `StatusType.CRASHED`. SMAC trains its forest on crashed trials too,
with the cost told (its own target runner tells `Scenario.crash_cost`, infinity by default,
which its log-scaled encoder would turn into NaN and -inf targets); here the cost told is the
worst loss seen so far, as the harness's GP does. A failure before any finite loss is held back
and told, with that first loss, when the first finite loss arrives; until then SMAC sees it as
running, which keeps it from being proposed again. Several asks before their tells are SMAC's
own: asked trials are marked running in its run history and not proposed again.

SMAC writes its run history under its output directory: a private temporary folder here,
removed by `close()` or when the strategy is garbage-collected, never the working directory.
Its `tell` is called with `save=False` (nothing to resume from: the harness replays trials).
Its logging setup (which would install an INFO handler on the root logger) is skipped and the
`smac` logger is held at ERROR (its warnings that the acquisition search found
no unseen cell and it sampled random ones instead are routine on categorical spaces).

SMAC is imported when the strategy is made (smac 2.4's random forest is scikit-learn's, seeded
by the scenario; SMAC 2.0-2.3 built pyrfr, which needs swig).
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from harness.spaces.base import Params, ParamSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Ledger, Suggestion

DEFAULTS: dict[str, Any] = {"n_trials": 100}


def _import_smac() -> Any:
    try:
        import smac
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError(
            "strategy 'smac' needs SMAC3: pip install smac (2.4+ is pure Python; SMAC 2.0-2.3 "
            "build pyrfr, which needs swig)"
        ) from e
    return smac


class SmacBayesOpt:
    """SMAC3's `HyperparameterOptimizationFacade` driven through `ask`/`tell`."""

    name = "smac"

    def __init__(self, space: ParamSpace, seed: int, settings: dict[str, Any]) -> None:
        smac = _import_smac()
        from ConfigSpace import Categorical, ConfigurationSpace
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        self._trial_value = TrialValue
        self._crashed = StatusType.CRASHED
        self.space = space
        self.settings = settings
        self._dir = tempfile.mkdtemp(prefix="harness-smac-")
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        logging.getLogger("smac").setLevel(logging.ERROR)
        configspace = ConfigurationSpace(seed=seed)
        configspace.add([Categorical(p.name, list(p.choices)) for p in space.params])
        scenario = smac.Scenario(
            configspace,
            name="harness",
            output_directory=Path(self._dir),
            deterministic=True,
            n_trials=settings["n_trials"],
            seed=seed,
        )
        facade = smac.HyperparameterOptimizationFacade
        maximizer = facade.get_acquisition_maximizer(scenario)
        maximizer._local_search.__class__ = _ordered_local_search()
        self._smac = facade(
            scenario,
            _never_called,
            acquisition_maximizer=maximizer,
            logging_level=False,
            overwrite=True,
        )
        self._ledger: Ledger[Any] = Ledger()
        self._worst: float | None = None
        self._held: list[Any] = []  # failures told before any finite loss

    def ask(self) -> Suggestion:
        info = self._smac.ask()
        params: Params = {p.name: str(info.config[p.name]) for p in self.space.params}
        return Suggestion(self._ledger.open(info), params)

    def tell(self, number: int, loss: float | None) -> None:
        info = self._ledger.close(number)
        if loss is None or math.isnan(loss):
            if self._worst is None:
                self._held.append(info)
            else:
                self._tell_crashed(info)
            return
        loss = float(loss)
        self._worst = loss if self._worst is None else max(self._worst, loss)
        self._smac.tell(info, self._trial_value(cost=loss), save=False)
        for held in self._held:
            self._tell_crashed(held)
        self._held = []

    def _tell_crashed(self, info: Any) -> None:
        assert self._worst is not None  # held back until a finite loss arrives
        value = self._trial_value(cost=self._worst, status=self._crashed)
        self._smac.tell(info, value, save=False)

    def close(self) -> None:
        """Remove SMAC's output directory (also done when the strategy is collected)."""
        self._finalizer()


def _ordered_local_search() -> type:
    """SMAC's `LocalSearch` with its start points deduplicated in order, as its docstring
    says ("all but the first occurrence of a configuration are dropped"): smac 2.4.1 returns
    `list(set(...))`, whose order follows `hash(repr(config))`, i.e. PYTHONHASHSEED, so the
    same seed proposed other cells in another process (measured: from the first model-based
    ask on). The start points stay SMAC's; their order is a fixed one (by numeric vector),
    not the cost order SMAC's docstring intends, which `set` has already lost."""
    from smac.acquisition.maximizer.local_search import LocalSearch

    class OrderedLocalSearch(LocalSearch):  # type: ignore[misc]
        def _get_init_points_from_previous_configs(
            self, previous_configs: list[Any], n_points: int, additional_start_points: Any
        ) -> list[Any]:
            points = super()._get_init_points_from_previous_configs(
                previous_configs, n_points, additional_start_points
            )
            # the set's members in a hash-free order: by their numeric vector
            return sorted(points, key=lambda c: tuple(c.get_array().tolist()))

    return OrderedLocalSearch


def _never_called(config: Any, seed: int = 0) -> float:  # pragma: no cover - ask/tell only
    raise RuntimeError("the harness evaluates SMAC's trials itself (ask/tell)")


def smac_bayesopt(space: ParamSpace, seed: int, **overrides: Any) -> SmacBayesOpt:
    """SMAC3's HPO facade; `n_trials` (default 100) should be the run's trial count."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown smac settings {sorted(unknown)} (known: {list(DEFAULTS)})")
    settings = {**DEFAULTS, **overrides}
    settings["n_trials"] = int(settings["n_trials"])
    if settings["n_trials"] < 1:
        raise ValueError(f"n_trials must be at least 1, got {settings['n_trials']}")
    return SmacBayesOpt(space, seed, settings)


STRATEGIES.register("smac", smac_bayesopt)
