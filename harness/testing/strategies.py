"""Conformance checks for a search strategy (`harness.contracts.Strategy`).

The standard loop asks and tells `trials` times on the parameters of a registered space,
with losses from `objective` (a fixed, seedless function of the parameters) and the trials
in `failed` told as failures (None). Everything the runner's resume relies on is checked
against that loop.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import pytest

from harness.spaces.base import Params, ParamSpace
from harness.testing._common import in_fresh_process, json_round_trip, load_plugins, resolve

Trial = tuple[int, Params]


def objective(params: Params, space: ParamSpace) -> float:
    """A loss over any `ParamSpace`: a fixed pseudo-random value per (parameter, choice),
    summed; the same in every process (integer arithmetic, no hashing of strings)."""
    total = 0
    for i, p in enumerate(space.params):
        c = p.choices.index(params[p.name])
        total += (c * 2654435761 + (i + 1) * 40503) % 1009
    return total / (1009.0 * max(1, len(space.params)))


@dataclass(frozen=True)
class StrategyCase:
    """One strategy to check, and at what size.

    Attributes:
        strategy: A registered name, or "package.module:factory" for a factory not registered.
        settings: Settings for the standard loop (the factory's defaults when empty).
        short_startup: Settings that end any random start-up within about 3 trials, so the
            failure and pending checks reach the model-based path cheaply.
        space: The registered space whose `param_space` is searched.
        trials: Length of the standard loop.
        failed: Trial numbers told as failures (None) in the standard loop.
        pending: Whether the strategy supports several asks before their tells.
        pending_distinct: Whether pending suggestions must differ from each other.
        plugins: Plugin modules to load first (here and in the fresh process).
    """

    strategy: str
    settings: dict[str, Any] = field(default_factory=dict)
    short_startup: dict[str, Any] = field(default_factory=dict)
    space: str = "nb201"
    trials: int = 30
    failed: tuple[int, ...] = (3, 12)
    pending: bool = True
    pending_distinct: bool = False
    plugins: tuple[str, ...] = ()

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def param_space(self) -> ParamSpace:
        from harness.spaces import SPACES

        load_plugins(self.plugins)
        return SPACES.get(self.space).param_space  # type: ignore[no-any-return]

    def make(self, seed: int, **settings: Any) -> Any:
        """The strategy under `seed`, with `settings` (the case's own when none given)."""
        from harness.strategies import STRATEGIES

        factory = resolve(self.strategy, STRATEGIES, self.plugins)
        return factory(self.param_space(), seed, **(settings or self.settings))


def run_loop(case: StrategyCase, seed: int, stop: int | None = None, strategy: Any = None,
             replay: list[Trial] | None = None) -> list[Trial]:  # fmt: skip
    """The standard loop (trials `0 .. stop-1`): ask, tell, ask, tell... A given `replay`
    is asked and told first, each suggestion checked against it, as the runner resumes."""
    space = case.param_space()
    strategy = strategy if strategy is not None else case.make(seed)
    out: list[Trial] = []
    for i in range(case.trials if stop is None else stop):
        s = strategy.ask()
        if replay is not None and i < len(replay):
            assert (s.number, s.params) == tuple(replay[i]), (
                f"resume: trial {i} replays as {s.params}, stored {replay[i][1]}"
            )
        out.append((s.number, dict(s.params)))
        strategy.tell(s.number, None if i in case.failed else objective(s.params, space))
    return out


def _loop_in_child(spec: dict[str, Any]) -> list[Any]:
    case = StrategyCase(**{**spec["case"], "failed": tuple(spec["case"]["failed"]),
                           "plugins": tuple(spec["case"]["plugins"])})  # fmt: skip
    return [list(t) for t in run_loop(case, spec["seed"])]


@lru_cache(maxsize=64)
def _reference(key: str, seed: int) -> list[Trial]:
    return run_loop(_case_from_key(key), seed)


def _case_from_key(key: str) -> StrategyCase:
    d = json.loads(key)
    return StrategyCase(**{**d, "failed": tuple(d["failed"]), "plugins": tuple(d["plugins"])})


def reference_run(case: StrategyCase, seed: int = 0) -> list[Trial]:
    """The standard loop under `seed`, computed once per case and seed."""
    return [(n, dict(p)) for n, p in _reference(case.key(), seed)]


class StrategyConformance:
    """Checks every strategy must pass. Subclass it and set `case` (or override the
    `strategy_case` fixture, e.g. parametrised over several strategies)."""

    case: StrategyCase | None = None

    @pytest.fixture
    def strategy_case(self) -> StrategyCase:
        if self.case is None:
            raise NotImplementedError("set `case = StrategyCase(...)` or override strategy_case")
        return self.case

    def test_suggestions_valid_and_numbered(self, strategy_case: StrategyCase) -> None:
        run = reference_run(strategy_case)
        assert [n for n, _ in run] == list(range(len(run))), "numbers must be 0, 1, 2, ..."
        space = strategy_case.param_space()
        for _, params in run:
            space.validate(params)

    def test_same_seed_same_suggestions(self, strategy_case: StrategyCase) -> None:
        assert run_loop(strategy_case, 0) == reference_run(strategy_case), (
            "a second object with the same seed and tells suggested other parameters"
        )

    def test_another_seed_other_suggestions(self, strategy_case: StrategyCase) -> None:
        assert reference_run(strategy_case, 1) != reference_run(strategy_case, 0), (
            "seeds 0 and 1 gave the same suggestions: is the seed used?"
        )

    def test_same_suggestions_in_a_fresh_process(self, strategy_case: StrategyCase) -> None:
        """Optuna's test_reproducible_in_other_process: another interpreter, another hash
        seed, the same trials (a resumed run on another worker relies on it)."""
        spec = {"case": asdict(strategy_case), "seed": 0}
        theirs = in_fresh_process("harness.testing.strategies:_loop_in_child", spec)
        assert [(n, p) for n, p in theirs] == reference_run(strategy_case), (
            "a fresh process suggested other parameters for the same seed and tells"
        )

    def test_resume_replays_and_continues(self, strategy_case: StrategyCase) -> None:
        """Interrupted after some trials, a fresh object told the stored trials in order
        (as `harness.runner` resumes) proposes them again and continues identically."""
        full = reference_run(strategy_case)
        cut = max(1, len(full) // 2)
        first = run_loop(strategy_case, 0, stop=cut)
        assert first == full[:cut]
        resumed = run_loop(strategy_case, 0, replay=first)
        assert resumed == full, "after resume the strategy continued differently"

    def test_failed_trials(self, strategy_case: StrategyCase) -> None:
        """Failures (None, then NaN) before any loss and after start-up are accepted."""
        space = strategy_case.param_space()
        strategy = strategy_case.make(3, **strategy_case.short_startup)
        for i in range(7):
            s = strategy.ask()
            assert s.number == i
            space.validate(s.params)
            strategy.tell(s.number, None if i < 2 else objective(s.params, space))
        s = strategy.ask()
        strategy.tell(s.number, math.nan)
        s = strategy.ask()
        strategy.tell(s.number, None)
        space.validate(strategy.ask().params)

    def test_pending_trials(self, strategy_case: StrategyCase) -> None:
        """Several asks before their tells, told in reverse order."""
        if not strategy_case.pending:
            pytest.skip("the case says the strategy does not support pending trials")
        space = strategy_case.param_space()
        strategy = strategy_case.make(5, **strategy_case.short_startup)
        for _ in range(3):
            s = strategy.ask()
            strategy.tell(s.number, objective(s.params, space))
        for _ in range(2):
            batch = [strategy.ask() for _ in range(3)]
            for s in batch:
                space.validate(s.params)
            if strategy_case.pending_distinct:
                assert len({json.dumps(s.params, sort_keys=True) for s in batch}) == 3
            for s in reversed(batch):
                strategy.tell(s.number, objective(s.params, space))
        assert [s.number for s in batch] == [6, 7, 8]
        space.validate(strategy.ask().params)

    def test_tell_rejects_unknown_or_repeated(self, strategy_case: StrategyCase) -> None:
        strategy = strategy_case.make(0)
        s = strategy.ask()
        strategy.tell(s.number, 1.0)
        with pytest.raises(ValueError):
            strategy.tell(s.number, 1.0)
        with pytest.raises(ValueError):
            strategy.tell(99, 1.0)

    def test_settings_json_round_trip(self, strategy_case: StrategyCase) -> None:
        """`settings` survives JSON and rebuilds a strategy with the same settings; an
        unknown setting raises TypeError; a registered strategy carries its name."""
        strategy = strategy_case.make(0, **strategy_case.short_startup)
        if ":" not in strategy_case.strategy:
            assert strategy.name == strategy_case.strategy
        settings = json_round_trip(strategy.settings)
        assert strategy_case.make(0, **settings).settings == settings
        with pytest.raises(TypeError):
            strategy_case.make(0, no_such_setting=1)
