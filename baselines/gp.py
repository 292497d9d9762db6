"""Gaussian-process Bayesian optimisation through scikit-optimize's `Optimizer` (ask/tell).

scikit-optimize 0.10 is unmaintained; its GP path still works with numpy 2 and current
scikit-learn, but `dummy_minimize`/`gbrt_minimize` do not, so only `Optimizer` with the GP
estimator is used (all-categorical spaces get skopt's Hamming kernel). A failed trial is told
as the worst loss seen so far, so the GP steers away from it; a failure before any loss is
skipped (skopt's start-up draws are random, so it is not re-proposed). Several asks before
their tells get skopt's own "constant liar" treatment (`cl_min`): the pending points are told
to a copy as the best loss so far, so the GP does not propose the same point twice.

BLAS is held to one thread around skopt's calls: the matrices are at most trials x trials,
threads only add contention (on a busy 2-core machine they made each fit ~4x slower) and a
thread count that varies between machines could change the fitted GP in its last bits.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from harness.spaces.base import Params, ParamSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Ledger, Suggestion

DEFAULTS: dict[str, Any] = {
    "base_estimator": "GP",
    "n_initial_points": 10,
    "initial_point_generator": "random",
    "acq_func": "EI",
    "acq_optimizer": "sampling",
    "n_points": 10000,  # skopt's default candidates per acquisition step
    "xi": 0.01,  # skopt's default EI exploration margin
    "avoid_duplicates": True,
}


def _import_skopt() -> Any:
    try:
        import skopt
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError("strategy 'gp' needs scikit-optimize: pip install scikit-optimize") from e
    return skopt


class GPBayesOpt:
    """skopt `Optimizer` over one `Categorical` dimension per parameter."""

    name = "gp"

    def __init__(self, space: ParamSpace, seed: int, settings: dict[str, Any]) -> None:
        skopt = _import_skopt()
        from threadpoolctl import threadpool_limits  # a scikit-learn dependency

        self._limits = threadpool_limits
        self.space = space
        self.settings = settings
        self._opt = skopt.Optimizer(
            [skopt.space.Categorical(list(p.choices), name=p.name) for p in space.params],
            base_estimator=settings["base_estimator"],
            n_initial_points=settings["n_initial_points"],
            initial_point_generator=settings["initial_point_generator"],
            acq_func=settings["acq_func"],
            acq_optimizer=settings["acq_optimizer"],
            acq_func_kwargs={"xi": settings["xi"]},
            acq_optimizer_kwargs={"n_points": settings["n_points"]},
            avoid_duplicates=settings["avoid_duplicates"],
            random_state=seed,
        )
        self._ledger: Ledger[list[str]] = Ledger()
        self._worst: float | None = None

    def _next_point(self) -> list[str]:
        opt = self._opt
        outstanding = self._ledger.outstanding()
        if outstanding and opt.models:  # start-up draws are random anyway; no lie needed
            lie = float(np.min(opt.yi))
            opt = opt.copy(random_state=opt.rng.randint(0, np.iinfo(np.int32).max))
            opt.tell(outstanding, [lie] * len(outstanding))
        with warnings.catch_warnings():  # skopt warns whenever it swaps a repeat for a new point
            warnings.filterwarnings("ignore", "The objective has been evaluated", UserWarning)
            return list(opt.ask())

    def ask(self) -> Suggestion:
        with self._limits(limits=1, user_api="blas"):
            x = self._next_point()
        params: Params = {p.name: str(v) for p, v in zip(self.space.params, x)}
        return Suggestion(self._ledger.open(x), params)

    def tell(self, number: int, loss: float | None) -> None:
        x = self._ledger.close(number)
        if loss is None or math.isnan(loss):
            if self._worst is None:
                return
            loss = self._worst
        loss = float(loss)
        self._worst = loss if self._worst is None else max(self._worst, loss)
        with self._limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The objective has been evaluated", UserWarning)
            self._opt.tell(x, loss)


def gp_bayesopt(space: ParamSpace, seed: int, **overrides: Any) -> GPBayesOpt:
    """GP-BO with EI over sampled candidates; `overrides` replace DEFAULTS."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown gp settings {sorted(unknown)} (known: {list(DEFAULTS)})")
    settings = {**DEFAULTS, **overrides}
    if settings["base_estimator"] != "GP":
        raise ValueError("only base_estimator='GP' works with scikit-optimize 0.10 here")
    return GPBayesOpt(space, seed, settings)


STRATEGIES.register("gp", gp_bayesopt)
