"""Optuna's TPESampler through `study.ask`/`study.tell`, with every sampler flag pinned.

Optuna 5 turned `multivariate` and `constant_liar` on by default and deprecated several
flags, so a bare `TPESampler(seed=...)` means different algorithms on different versions. We
pass every argument of the installed signature explicitly (univariate, independent TPE like
hyperopt's: 20 start-up trials, 24 EI candidates, `default_gamma`) and record them in
`settings`. Passing the deprecated flags raises Optuna's FutureWarning; that one warning is
silenced at construction, since pinning them is the point. Optuna's INFO logging ("A new study
created...") is silenced only around our own calls, and the caller's verbosity restored.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.spaces.base import ParamSpace
from harness.strategies.base import Ledger, Suggestion

DEFAULTS: dict[str, Any] = {
    "consider_prior": True,
    "prior_weight": 1.0,
    "consider_magic_clip": True,
    "consider_endpoints": False,
    "n_startup_trials": 20,
    "n_ei_candidates": 24,
    "gamma": "default_gamma",  # by name, so settings stay JSON; see _GAMMAS
    "weights": "default_weights",
    "multivariate": False,
    "group": False,
    "warn_independent_sampling": False,
    "constant_liar": False,
    "constraints_func": None,
}
_GAMMAS = ("default_gamma", "hyperopt_default_gamma")
_WEIGHTS = ("default_weights",)


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError("strategy 'tpe-optuna' needs optuna: pip install 'optuna>=4.0'") from e
    return optuna


@contextmanager
def _quiet(optuna: Any) -> Iterator[None]:
    """Optuna at WARNING for the duration of one call, then the caller's level again."""
    before = optuna.logging.get_verbosity()
    if before < optuna.logging.WARNING:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        if before < optuna.logging.WARNING:
            optuna.logging.set_verbosity(before)


class OptunaTPE:
    """One in-memory study; trial numbers are ours, since the study is private."""

    name = "tpe-optuna"

    def __init__(self, space: ParamSpace, seed: int, settings: dict[str, Any]) -> None:
        optuna = _import_optuna()
        from optuna.samplers._tpe import sampler as tpe_module

        self._optuna = optuna
        self.space = space
        self.settings = settings
        flags = dict(settings)
        flags["gamma"] = getattr(tpe_module, settings["gamma"])
        flags["weights"] = getattr(tpe_module, settings["weights"])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r".*has been deprecated", FutureWarning)
            sampler = optuna.samplers.TPESampler(seed=seed, **flags)
        with _quiet(optuna):
            self._study = optuna.create_study(sampler=sampler, direction="minimize")
        self._distributions = {
            p.name: optuna.distributions.CategoricalDistribution(p.choices) for p in space.params
        }
        self._ledger: Ledger[Any] = Ledger()

    def ask(self) -> Suggestion:
        with _quiet(self._optuna):
            trial = self._study.ask(self._distributions)
        params = {name: trial.params[name] for name in self._distributions}
        return Suggestion(self._ledger.open(trial), params)

    def tell(self, number: int, loss: float | None) -> None:
        trial = self._ledger.close(number)
        with _quiet(self._optuna):
            if loss is None or math.isnan(loss):
                self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            else:
                self._study.tell(trial, float(loss))


def tpe_optuna(space: ParamSpace, seed: int, **flags: Any) -> OptunaTPE:
    """Optuna TPE; `flags` override DEFAULTS (gamma/weights by function name)."""
    unknown = set(flags) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown tpe-optuna settings {sorted(unknown)} (known: {list(DEFAULTS)})")
    settings = {**DEFAULTS, **flags}
    if settings["gamma"] not in _GAMMAS:
        raise ValueError(f"tpe-optuna gamma must be one of {_GAMMAS}, not {settings['gamma']!r}")
    if settings["weights"] not in _WEIGHTS:
        raise ValueError(f"tpe-optuna weights must be one of {_WEIGHTS}")
    if settings["constraints_func"] is not None:
        raise ValueError("tpe-optuna has no constraints; constraints_func must stay None")
    return OptunaTPE(space, seed, settings)
