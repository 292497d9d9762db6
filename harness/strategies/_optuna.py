"""What every optuna-backed strategy shares: one private in-memory study driven by
`study.ask`/`study.tell`, optuna's logging held at WARNING around our own calls, and the
ledger that numbers the trials (tpe-optuna, gp-optuna and the `optuna:<SamplerClass>`
adapters differ only in the sampler they build).

Pending asks are optuna's own business: a trial asked and not yet told stays RUNNING in the
study, and each sampler treats RUNNING trials its own way (GPSampler conditions on them,
TPE's `constant_liar` would, the others ignore them). A failed trial (None or NaN) is told as
FAIL, which every sampler leaves out of its model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.spaces.base import ParamSpace
from harness.strategies.base import Ledger, Suggestion


def import_optuna(strategy: str) -> Any:
    """optuna, or an ImportError naming the strategy that needs it."""
    try:
        import optuna
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError(f"strategy {strategy!r} needs optuna: pip install 'optuna>=4.0'") from e
    return optuna


@contextmanager
def quiet(optuna: Any) -> Iterator[None]:
    """Optuna at WARNING for the duration of one call, then the caller's level again."""
    before = optuna.logging.get_verbosity()
    if before < optuna.logging.WARNING:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        if before < optuna.logging.WARNING:
            optuna.logging.set_verbosity(before)


@contextmanager
def pinned_flags(optuna: Any) -> Iterator[None]:
    """Construction with every flag given: optuna's FutureWarning for a deprecated flag and
    its ExperimentalWarning for an experimental sampler or flag are silenced, since naming
    them explicitly is the point (the flags and the library version land in the run id)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*has been deprecated", FutureWarning)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        yield


class OptunaSearch:
    """Ask/tell over one private study with `sampler`; trial numbers are ours (the study is
    private, so they equal optuna's).

    Attributes:
        name: The registered name.
        settings: The resolved settings (JSON), as the factory was given them.
    """

    def __init__(
        self, name: str, space: ParamSpace, settings: dict[str, Any], optuna: Any, sampler: Any
    ) -> None:
        self.name = name
        self._optuna = optuna
        self.space = space
        self.settings = settings
        with quiet(optuna):
            self._study = optuna.create_study(sampler=sampler, direction="minimize")
        self._distributions = {
            p.name: optuna.distributions.CategoricalDistribution(p.choices) for p in space.params
        }
        self._ledger: Ledger[Any] = Ledger()

    def ask(self) -> Suggestion:
        with quiet(self._optuna):
            trial = self._study.ask(self._distributions)
        params = {name: trial.params[name] for name in self._distributions}
        return Suggestion(self._ledger.open(trial), params)

    def tell(self, number: int, loss: float | None) -> None:
        trial = self._ledger.close(number)
        with quiet(self._optuna):
            if loss is None or math.isnan(loss):
                self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            else:
                self._study.tell(trial, float(loss))


def check_settings(strategy: str, given: dict[str, Any], defaults: dict[str, Any]) -> None:
    """TypeError naming the unknown settings, as for any unexpected keyword."""
    unknown = set(given) - set(defaults)
    if unknown:
        raise TypeError(f"unknown {strategy} settings {sorted(unknown)} (known: {list(defaults)})")
