"""Optuna's TPESampler through `study.ask`/`study.tell`, with every sampler flag pinned.

Optuna 5 turned `multivariate` and `constant_liar` on by default and deprecated several
flags, so a bare `TPESampler(seed=...)` means different algorithms on different versions. We
pass every argument of the installed signature explicitly (univariate, independent TPE like
hyperopt's: 20 start-up trials, 24 EI candidates, `default_gamma`) and record them in
`settings`. Passing the deprecated flags raises Optuna's FutureWarning; that one warning is
silenced at construction, since pinning them is the point. Optuna's INFO logging ("A new study
created...") is silenced only around our own calls, and the caller's verbosity restored; the
study, the ask/tell and that silencing are `harness.strategies._optuna`'s, shared with gp-optuna
and the `optuna:<SamplerClass>` adapters.
"""

from __future__ import annotations

from typing import Any

from harness.spaces.base import ParamSpace
from harness.strategies._optuna import OptunaSearch, check_settings, import_optuna, pinned_flags

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


class OptunaTPE(OptunaSearch):
    """One in-memory study with the pinned TPESampler."""

    name = "tpe-optuna"

    def __init__(self, space: ParamSpace, seed: int, settings: dict[str, Any]) -> None:
        optuna = import_optuna(self.name)
        from optuna.samplers._tpe import sampler as tpe_module

        flags = dict(settings)
        flags["gamma"] = getattr(tpe_module, settings["gamma"])
        flags["weights"] = getattr(tpe_module, settings["weights"])
        with pinned_flags(optuna):
            sampler = optuna.samplers.TPESampler(seed=seed, **flags)
        super().__init__(self.name, space, settings, optuna, sampler)


def tpe_optuna(space: ParamSpace, seed: int, **flags: Any) -> OptunaTPE:
    """Optuna TPE; `flags` override DEFAULTS (gamma/weights by function name)."""
    check_settings("tpe-optuna", flags, DEFAULTS)
    settings = {**DEFAULTS, **flags}
    if settings["gamma"] not in _GAMMAS:
        raise ValueError(f"tpe-optuna gamma must be one of {_GAMMAS}, not {settings['gamma']!r}")
    if settings["weights"] not in _WEIGHTS:
        raise ValueError(f"tpe-optuna weights must be one of {_WEIGHTS}")
    if settings["constraints_func"] is not None:
        raise ValueError("tpe-optuna has no constraints; constraints_func must stay None")
    return OptunaTPE(space, seed, settings)
