"""The library adapters `optuna:<SamplerClass>` and `nevergrad:<optimizer>` through the
conformance kit, and what is particular to them: refusals in one line, the settings they
record, CMA-ES's fallback on categorical spaces, failed trials in nevergrad, the registry's
families and `harness list`.

The kit resolves a family member by its registered name, here and in its fresh process.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
from cli_helpers import harness

from harness import HarnessError
from harness.registry import Registry
from harness.spaces import NB201Space
from harness.strategies import STRATEGIES, make_strategy
from harness.testing import StrategyCase, StrategyConformance
from harness.testing.strategies import objective

PARAMS = NB201Space().param_space


def case(name: str, **kwargs: Any) -> StrategyCase:
    return StrategyCase(name, **kwargs)


#: nevergrad plans for num_workers pending asks; the kit's pending check keeps 3 in flight
ADAPTERS = {
    "optuna:CmaEsSampler": case("optuna:CmaEsSampler"),
    "optuna:QMCSampler": case("optuna:QMCSampler"),
    "optuna:NSGAIISampler": case(
        "optuna:NSGAIISampler",
        settings={"population_size": 6},  # several generations within the 30 trials
        short_startup={"population_size": 3},
    ),
    "nevergrad:NGOpt": case("nevergrad:NGOpt", short_startup={"num_workers": 3}),
    "nevergrad:DiscreteOnePlusOne": case(
        "nevergrad:DiscreteOnePlusOne", short_startup={"num_workers": 3}
    ),
    "nevergrad:PortfolioDiscreteOnePlusOne": case(
        "nevergrad:PortfolioDiscreteOnePlusOne", short_startup={"num_workers": 3}
    ),
}


class TestAdapters(StrategyConformance):
    @pytest.fixture(params=list(ADAPTERS))
    def strategy_case(self, request: pytest.FixtureRequest) -> StrategyCase:
        return ADAPTERS[request.param]


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_member_carries_its_name_and_class(name: str) -> None:
    strategy = make_strategy(name, PARAMS, 0)
    assert strategy.name == name
    key = "sampler" if name.startswith("optuna:") else "optimizer"
    assert strategy.settings[key] == name.partition(":")[2]


def test_optuna_settings_record_every_constructor_argument() -> None:
    import inspect

    import optuna

    settings = make_strategy("optuna:CmaEsSampler", PARAMS, 0).settings
    args = set(inspect.signature(optuna.samplers.CmaEsSampler.__init__).parameters)
    assert set(settings) == args - {"self", "seed"} | {"sampler"}
    assert settings["independent_sampler"] == "RandomSampler"
    assert settings["warn_independent_sampling"] is False
    assert make_strategy("optuna:CmaEsSampler", PARAMS, 0, popsize=8).settings["popsize"] == 8


def _suggestions(name: str, n: int = 12) -> list[dict[str, str]]:
    strategy = make_strategy(name, PARAMS, 7)
    out = []
    for _ in range(n):
        s = strategy.ask()
        strategy.tell(s.number, objective(s.params, PARAMS))
        out.append(s.params)
    return out


def test_cmaes_on_a_categorical_space_is_its_seeded_random_sampler() -> None:
    """Optuna's CMA-ES models no categorical parameter: every one falls back to the
    independent sampler, here explicitly RandomSampler(seed), and silently."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("optuna")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cmaes = _suggestions("optuna:CmaEsSampler")
    finally:
        logger.removeHandler(handler)
    assert cmaes == _suggestions("optuna:RandomSampler")
    assert [r.getMessage() for r in records] == []  # optuna warned per parameter and trial


def test_unseedable_sampler_refused_in_one_line() -> None:
    with pytest.raises(HarnessError, match="takes no seed") as err:
        make_strategy("optuna:PartialFixedSampler", PARAMS, 0)
    assert "\n" not in str(err.value)
    assert "optuna:PartialFixedSampler" not in STRATEGIES


@pytest.mark.parametrize(
    ("name", "example"),
    [("optuna:NoSuchSampler", "CmaEsSampler"), ("nevergrad:NGOptt", "NGOpt")],
)
def test_unknown_family_member_one_line(name: str, example: str) -> None:
    with pytest.raises(HarnessError) as err:
        make_strategy(name, PARAMS, 0)
    message = str(err.value)
    assert message.startswith(f"unknown strategy {name!r}") and "\n" not in message
    assert example in message
    assert name not in STRATEGIES


def test_unknown_name_lists_the_families() -> None:
    with pytest.raises(HarnessError, match=r"families: optuna:<SamplerClass>, nevergrad:"):
        STRATEGIES.get("no-such-strategy")


@pytest.mark.parametrize("name", ["optuna:CmaEsSampler", "nevergrad:NGOpt"])
def test_unknown_setting_is_a_type_error(name: str) -> None:
    with pytest.raises(TypeError, match="no_such_setting"):
        make_strategy(name, PARAMS, 0, no_such_setting=1)
    with pytest.raises(TypeError):
        make_strategy(name, PARAMS, 0, seed=1)  # the run's seed, never a setting


@pytest.mark.parametrize(
    ("name", "setting"),
    [
        ("optuna:CmaEsSampler", {"independent_sampler": "TPESampler"}),
        ("optuna:NSGAIISampler", {"mutation": "swap"}),  # takes an object
        ("optuna:NSGAIISampler", {"population_size": {1, 2}}),  # not JSON
        ("optuna:CmaEsSampler", {"sampler": "QMCSampler"}),
        ("nevergrad:NGOpt", {"budget": 0}),
        ("nevergrad:NGOpt", {"num_workers": 1.5}),
        ("nevergrad:NGOpt", {"deterministic_choice": "yes"}),
        ("nevergrad:NGOpt", {"optimizer": "DE"}),
    ],
)
def test_bad_setting_values_are_value_errors(name: str, setting: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_strategy(name, PARAMS, 0, **setting)


def test_nevergrad_refuses_more_pending_asks_than_workers() -> None:
    strategy = make_strategy("nevergrad:DiscreteOnePlusOne", PARAMS, 0, num_workers=2)
    first, _ = strategy.ask(), strategy.ask()
    with pytest.raises(HarnessError, match="num_workers=2") as err:
        strategy.ask()
    assert "\n" not in str(err.value)
    strategy.tell(first.number, 0.5)
    strategy.ask()  # one slot free again


def test_nevergrad_failed_trials_are_told_the_worst_loss() -> None:
    strategy = make_strategy("nevergrad:NGOpt", PARAMS, 0)
    told: list[float] = []
    real_tell = strategy._opt.tell
    strategy._opt.tell = lambda candidate, loss: (told.append(loss), real_tell(candidate, loss))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nevergrad warns when it clips NaN or inf
        for loss in (None, 0.25, 0.75, math.nan, 0.5, None, math.inf):
            s = strategy.ask()
            strategy.tell(s.number, loss)
    assert told == [1e20, 0.25, 0.75, 0.75, 0.5, 0.75, 0.75]


@pytest.mark.parametrize(
    ("name", "module", "library"),
    [
        ("optuna:CmaEsSampler", "harness.strategies.optuna_adapter", "optuna"),
        ("nevergrad:NGOpt", "harness.strategies.nevergrad_adapter", "nevergrad"),
        ("gp-optuna", "harness.strategies.gp_optuna", "optuna"),
    ],
)
def test_run_identity_covers_the_strategy_code(name: str, module: str, library: str) -> None:
    """The run id hashes the code of the factory's module (and the libraries it imports)."""
    from harness.benchmarks import BENCHMARKS
    from harness.identity import code_identity, run_inputs
    from harness.proxies import make_proxy

    inputs = run_inputs(BENCHMARKS.get("nb201-cifar10"), make_proxy("lookup-12"), name)
    assert inputs["strategy_version"] == code_identity(module).version
    assert library in inputs["libraries"]


def test_registry_families() -> None:
    built: list[str] = []

    def builder(suffix: str) -> str:
        built.append(suffix)
        if suffix == "bad":
            raise HarnessError("thing 'fam:bad': unusable")
        if suffix not in ("a", "b"):
            raise LookupError("fam has a and b")
        return f"made {suffix}"

    things: Registry[str] = Registry("thing")
    things.register("plain", "p")
    things.register_family("fam", builder, pattern="fam:<x>", about="a test", tags=("t",))
    assert things.get("fam:a") == "made a" and things.get("fam:a") == "made a"
    assert built == ["a"]  # built once
    assert things.names() == ["plain"]  # members are not enumerated
    assert "fam:b" in things and "fam:c" not in things and "other:a" not in things
    assert things.origin("fam:a") == __name__  # the family's origin: who registered it
    with pytest.raises(HarnessError, match=r"^unknown thing 'fam:c': fam has a and b$"):
        things.get("fam:c")
    with pytest.raises(HarnessError, match=r"^thing 'fam:bad': unusable$"):
        things.get("fam:bad")
    with pytest.raises(HarnessError, match="belongs to the family fam:<x>"):
        things.register("fam:z", "z")
    with pytest.raises(HarnessError, match="already registered"):
        things.register_family("fam", builder, pattern="fam:<x>")
    things.archive("plain", "old")
    assert things.tagged("archived") == ["plain"] and things.archived("plain") == "old"
    things.archive("later", "older")
    things.register("later", "l")
    assert things.tagged("archived") == ["plain", "later"]


def test_harness_list_shows_adapters_and_the_archived_mark(capsys) -> None:
    code, out, _ = harness(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    strategies = next(line for line in lines if line.startswith("strategies:"))
    assert "gp [archived: scikit-optimize, unmaintained since 2024]" in strategies
    assert "gp-optuna," in strategies and "gp-optuna [archived" not in strategies
    assert "optuna:" not in strategies  # families are not enumerated
    adapters = next(line for line in lines if line.startswith("adapters:"))
    assert "optuna:<SamplerClass> (optuna.samplers)" in adapters
    assert "nevergrad:<optimizer> (nevergrad's registry)" in adapters
