"""hyperopt's TPE, driven one ask/tell at a time the way `fmin` drives it.

CSNAS ran `fmin(algo=tpe.suggest)` with hyperopt's defaults; `fmin` owns the loop, so here we
replay its steps instead: new trial ids from `Trials`, `tpe.suggest(new_ids, domain, trials,
rstate.integers(2**31 - 1))`, insert the returned doc, and on tell fill its result the way
`FMinIter.serial_evaluate` does. A failed trial is recorded as `{"status": "fail"}` in state
DONE, exactly what an objective returning that status gives under `fmin`: TPE then counts it
(it takes up a start-up slot) with an infinite loss, i.e. in the "bad" group. Suggestions
still awaiting their tell count the same way, as they do under fmin's asynchronous mode.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.spaces.base import Params, ParamSpace
from harness.strategies.base import Ledger, Suggestion

# hyperopt's own defaults (what CSNAS used) and the variant its authors wrote down but never ran.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {"n_startup_jobs": 20, "gamma": 0.25, "n_EI_candidates": 24, "prior_weight": 1.0},
    "written": {"n_startup_jobs": 20, "gamma": 0.2, "n_EI_candidates": 20000, "prior_weight": 1.0},
}


def _import_hyperopt() -> Any:
    try:
        import hyperopt
        import hyperopt.tpe
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError(
            "strategy 'tpe-hyperopt' needs hyperopt: pip install 'hyperopt>=0.2.7'"
        ) from e
    return hyperopt


def _objective_unused(_: Any) -> Any:
    raise RuntimeError("ask/tell drives hyperopt; the Domain's objective is never called")


class HyperoptTPE:
    """TPE over `hp.choice` per parameter; one `Trials` document per suggestion."""

    name = "tpe-hyperopt"

    def __init__(self, space: ParamSpace, seed: int, settings: dict[str, Any]) -> None:
        hyperopt = _import_hyperopt()
        from hyperopt import hp

        self._hyperopt = hyperopt
        self.space = space
        self.seed = seed
        self.settings = settings
        self._domain = hyperopt.Domain(
            _objective_unused, {p.name: hp.choice(p.name, list(p.choices)) for p in space.params}
        )
        self._trials = hyperopt.Trials()
        self._rstate = np.random.default_rng(seed)  # as fmin(rstate=...) uses it
        self._ledger: Ledger[dict[str, Any]] = Ledger()  # our number -> its pending trial doc

    def ask(self) -> Suggestion:
        hyperopt = self._hyperopt
        trials = self._trials
        new_ids = trials.new_trial_ids(1)
        trials.refresh()
        docs = hyperopt.tpe.suggest(
            new_ids,
            self._domain,
            trials,
            self._rstate.integers(2**31 - 1),
            prior_weight=self.settings["prior_weight"],
            n_startup_jobs=self.settings["n_startup_jobs"],
            n_EI_candidates=self.settings["n_EI_candidates"],
            gamma=self.settings["gamma"],
            verbose=False,  # its per-call INFO lines are noise here
        )
        trials.insert_trial_docs(docs)
        trials.refresh()
        doc = trials.trials[-1]  # the inserted (SON-ified) copy, the one TPE reads back
        assert doc["tid"] == new_ids[0]
        vals = doc["misc"]["vals"]
        params: Params = {p.name: p.choices[int(vals[p.name][0])] for p in self.space.params}
        return Suggestion(self._ledger.open(doc), params)

    def tell(self, number: int, loss: float | None) -> None:
        doc = self._ledger.close(number)
        if loss is None or math.isnan(loss):
            doc["result"] = {"status": "fail"}
        else:
            doc["result"] = {"status": "ok", "loss": float(loss)}
        doc["state"] = self._hyperopt.JOB_STATE_DONE
        self._trials.refresh()


def tpe_hyperopt(space: ParamSpace, seed: int, **settings: Any) -> HyperoptTPE:
    """hyperopt TPE; `preset` ("default" or "written") picks the defaults, explicit ones win.

    Settings: preset, n_startup_jobs, gamma, n_EI_candidates (hyperopt's spelling), prior_weight.
    """
    preset = settings.pop("preset", "default")
    if preset not in PRESETS:
        raise ValueError(f"unknown tpe-hyperopt preset {preset!r} (known: {sorted(PRESETS)})")
    unknown = set(settings) - set(PRESETS[preset])
    if unknown:
        raise TypeError(f"unknown tpe-hyperopt settings {sorted(unknown)}")
    return HyperoptTPE(space, seed, {"preset": preset, **PRESETS[preset], **settings})
