"""Optuna's GPSampler (Gaussian-process Bayesian optimisation) through `study.ask`/`study.tell`.

Optuna's GP-BO succeeds the archived `gp` baseline (scikit-optimize, unmaintained): it is
maintained, handles categorical parameters natively (the acquisition is optimised over the
choices themselves) and conditions on RUNNING trials, so several asks before their tells get
distinct, informed points. As for tpe-optuna, every argument of the installed signature is
passed explicitly and recorded in `settings`, so a newer optuna's defaults cannot change the
algorithm behind a recorded run: `independent_sampler` is named ("RandomSampler", seeded with
the run's seed: what optuna does for None, made explicit), `warn_independent_sampling` is off
(a fixed all-categorical space never falls back after start-up), `constraints_func` must stay
None. A failed trial is told as FAIL (left out of the GP).

The GP is fitted with torch on the CPU; optuna seeds its own generator from `seed`, and
suggestions are reproducible on the same machine and library versions (the run id records
them), not guaranteed bit-identical across BLAS builds.
"""

from __future__ import annotations

from typing import Any

from harness.spaces.base import ParamSpace
from harness.strategies._optuna import OptunaSearch, check_settings, import_optuna, pinned_flags

DEFAULTS: dict[str, Any] = {
    "n_startup_trials": 10,
    "deterministic_objective": False,
    "independent_sampler": "RandomSampler",  # by name, so settings stay JSON
    "warn_independent_sampling": False,
    "constraints_func": None,
}
_INDEPENDENT = ("RandomSampler",)


class OptunaGP(OptunaSearch):
    """One in-memory study with the pinned GPSampler."""

    name = "gp-optuna"

    def __init__(self, space: ParamSpace, seed: int, settings: dict[str, Any]) -> None:
        optuna = import_optuna(self.name)
        flags = dict(settings)
        flags["independent_sampler"] = optuna.samplers.RandomSampler(seed=seed)
        with pinned_flags(optuna):
            sampler = optuna.samplers.GPSampler(seed=seed, **flags)
        super().__init__(self.name, space, settings, optuna, sampler)


def gp_optuna(space: ParamSpace, seed: int, **flags: Any) -> OptunaGP:
    """Optuna GP-BO; `flags` override DEFAULTS."""
    check_settings("gp-optuna", flags, DEFAULTS)
    settings = {**DEFAULTS, **flags}
    n = settings["n_startup_trials"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"gp-optuna n_startup_trials must be an integer >= 1, not {n!r}")
    for flag in ("deterministic_objective", "warn_independent_sampling"):
        if not isinstance(settings[flag], bool):
            raise ValueError(f"gp-optuna {flag} must be true or false, not {settings[flag]!r}")
    if settings["independent_sampler"] not in _INDEPENDENT:
        raise ValueError(f"gp-optuna independent_sampler must be one of {_INDEPENDENT}")
    if settings["constraints_func"] is not None:
        raise ValueError("gp-optuna has no constraints; constraints_func must stay None")
    return OptunaGP(space, seed, settings)
