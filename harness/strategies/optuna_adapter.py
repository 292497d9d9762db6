"""`optuna:<SamplerClass>`: any seedable sampler class in `optuna.samplers` as a strategy.

The family exists so a sampler can be compared without a module of its own; the pinned,
reviewed strategies are tpe-optuna and gp-optuna. Each member is built with `seed=` the run's
seed; a class whose constructor takes no seed (PartialFixedSampler, the abstract bases) is
refused, never run unseeded. Every other constructor argument is recorded in `settings`
(with `sampler`, the class name), resolved from the installed signature's defaults and the
strategy settings, which are JSON values only: arguments that take objects (mutations,
callables) must stay None, and `independent_sampler` is named ("RandomSampler", seeded with
the run's seed: what optuna does for None, made explicit).

Categorical parameters: CmaEsSampler models none of them (optuna's CMA-ES covers only
numerical ones), so on the harness's all-categorical spaces every parameter falls back to the
independent sampler, and its suggestions are exactly RandomSampler's for the same seed;
`warn_independent_sampling` is therefore off by default (optuna logged one warning per
parameter per trial). QMCSampler handles categorical parameters itself (a Sobol or Halton
sequence over the choices); unscrambled (optuna's default) only its first trial depends on
the seed, so here `scramble` defaults to true (the seed scrambles the sequence). The study,
ask/tell and logging are `harness.strategies._optuna`'s.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from harness import HarnessError
from harness.spaces.base import ParamSpace
from harness.strategies._optuna import OptunaSearch, import_optuna, pinned_flags

PREFIX = "optuna"
#: annotation words of constructor arguments that take objects, not JSON values
_OBJECT_WORDS = ("Callable", "Sampler", "Mutation", "Crossover", "FrozenTrial", "ndarray")
#: our defaults where optuna's are objects or noise on a categorical space
_OVERRIDES: dict[str, Any] = {
    "independent_sampler": "RandomSampler",
    "warn_independent_sampling": False,
}
#: per sampler: our defaults where optuna's would make the seed (nearly) inert
_CLASS_OVERRIDES: dict[str, dict[str, Any]] = {
    # unscrambled, every seed draws the same Sobol sequence after its first trial: 10 seeds
    # of the optimizer track on CIFAR-100 returned one cell
    "QMCSampler": {"scramble": True},
}


def _sampler_classes(optuna: Any) -> dict[str, type]:
    base = optuna.samplers.BaseSampler
    return {
        name: cls
        for name in optuna.samplers.__all__
        if inspect.isclass(cls := getattr(optuna.samplers, name)) and issubclass(cls, base)
    }


def _seedable(cls: type) -> bool:
    return "seed" in inspect.signature(cls).parameters


class SamplerFactory:
    """The `StrategyFactory` of one `optuna:<SamplerClass>`; its module is the run id's code."""

    def __init__(self, sampler: str) -> None:
        self.sampler = sampler
        self.name = f"{PREFIX}:{sampler}"

    def _signature(self, optuna: Any) -> dict[str, inspect.Parameter]:
        cls = getattr(optuna.samplers, self.sampler)
        params = inspect.signature(cls.__init__).parameters
        return {n: p for n, p in params.items() if n not in ("self", "seed")}

    def defaults(self, optuna: Any) -> dict[str, Any]:
        """Every constructor argument but `seed`, at its default (ours in _OVERRIDES and
        _CLASS_OVERRIDES); an argument without a default is left out (the settings must give
        it)."""
        ours = {**_OVERRIDES, **_CLASS_OVERRIDES.get(self.sampler, {})}
        out: dict[str, Any] = {}
        for name, p in self._signature(optuna).items():
            if name in ours:
                out[name] = ours[name]
            elif p.default is not inspect.Parameter.empty:
                out[name] = p.default
        return out

    def __call__(self, space: ParamSpace, seed: int, **settings: Any) -> OptunaSearch:
        optuna = import_optuna(self.name)
        signature = self._signature(optuna)
        given = dict(settings)
        sampler = given.pop("sampler", self.sampler)
        if sampler != self.sampler:
            raise ValueError(f"{self.name} setting sampler must be {self.sampler!r}")
        unknown = set(given) - set(signature)
        if unknown:
            raise TypeError(
                f"unknown {self.name} settings {sorted(unknown)} (known: {list(signature)})"
            )
        kwargs = {**self.defaults(optuna), **given}
        missing = [n for n in signature if n not in kwargs]
        if missing:
            raise TypeError(f"{self.name} needs the settings {missing}")
        flags = {n: self._flag(n, str(signature[n].annotation), v, optuna, seed)
                 for n, v in kwargs.items()}  # fmt: skip
        with pinned_flags(optuna):
            built = getattr(optuna.samplers, self.sampler)(seed=seed, **flags)
        return OptunaSearch(self.name, space, {"sampler": self.sampler, **kwargs}, optuna, built)

    def _flag(self, name: str, annotation: str, value: Any, optuna: Any, seed: int) -> Any:
        """The constructor's value for a JSON setting (ValueError for a malformed one)."""
        try:
            json_ok = json.loads(json.dumps(value)) == value
        except (TypeError, ValueError):
            json_ok = False
        if not json_ok:
            raise ValueError(f"{self.name} setting {name} must be a JSON value, not {value!r}")
        if name == "independent_sampler":
            if value != "RandomSampler":
                raise ValueError(f"{self.name} independent_sampler must be 'RandomSampler'")
            return optuna.samplers.RandomSampler(seed=seed)
        if value is not None and any(word in annotation for word in _OBJECT_WORDS):
            raise ValueError(
                f"{self.name} setting {name} takes an object, which settings cannot hold: "
                "it must stay None"
            )
        return value


def optuna_family(suffix: str) -> SamplerFactory:
    """The factory of `optuna:<suffix>`.

    Raises:
        LookupError: `suffix` is no sampler class of optuna.samplers (the message lists them).
        HarnessError: the class takes no seed.
    """
    optuna = import_optuna(f"{PREFIX}:{suffix}")
    classes = _sampler_classes(optuna)
    usable = ", ".join(n for n, cls in classes.items() if _seedable(cls))
    if suffix not in classes:
        raise LookupError(f"optuna.samplers has no sampler class {suffix!r} (seedable: {usable})")
    if not _seedable(classes[suffix]):
        raise HarnessError(
            f"strategy '{PREFIX}:{suffix}': optuna.samplers.{suffix} takes no seed, and the "
            f"harness never runs a strategy unseeded (seedable: {usable})"
        )
    return SamplerFactory(suffix)
