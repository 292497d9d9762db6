"""The conformance kit catches what it claims to: each check fails on an object broken in
exactly the way it is there to catch (the built-ins passing it is in test_conformance.py and
test_strategies.py)."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from harness.proxies.base import Evaluation
from harness.spaces.base import ParamSpace
from harness.spaces.nb201 import NB201Space
from harness.strategies.base import Ledger, Suggestion
from harness.testing import (
    BenchmarkCase,
    BenchmarkConformance,
    ProxyCase,
    ProxyConformance,
    SpaceCase,
    SpaceConformance,
    StrategyCase,
    StrategyConformance,
)

HERE = __name__


# -- strategies broken in one way each -------------------------------------------------------
class Broken:
    """Random search with one fault switched on."""

    name = "broken"

    def __init__(self, space: ParamSpace, seed: int, fault: str) -> None:
        self.space, self.fault = space, fault
        self.settings: dict[str, Any] = {"fault": fault}
        if fault == "tuple-settings":
            self.settings["sizes"] = (1, 2)  # JSON turns it into a list
        seeded = {"unseeded": None, "fixed-seed": 0}.get(fault, seed)
        self._rng = np.random.default_rng(seeded)
        self._ledger: Ledger[None] = Ledger()

    def ask(self) -> Suggestion:
        if self.fault == "no-pending" and self._ledger.outstanding():
            raise RuntimeError("one at a time, please")
        if self.fault == "shared-state" and SHARED:
            params = self.space.mutate(SHARED[-1], self._rng)
        else:
            params = self.space.sample(self._rng)
        number = self._ledger.open(None)
        return Suggestion(number + (self.fault == "from-one"), params)

    def tell(self, number: int, loss: float | None) -> None:
        if self.fault == "lax-tell":
            return
        self._ledger.close(number - (self.fault == "from-one"))
        if self.fault == "no-failures":
            float(loss)  # type: ignore[arg-type]
        if self.fault == "shared-state":
            SHARED.append(self.space.sample(self._rng))


SHARED: list[dict[str, str]] = []  # state outside the object: what resume cannot rebuild


def broken(space: ParamSpace, seed: int, fault: str = "none", **settings: Any) -> Broken:
    if settings:
        raise TypeError(f"unknown settings {sorted(settings)}")
    return Broken(space, seed, fault)


def _strategy(fault: str) -> StrategyCase:
    return StrategyCase(f"{HERE}:broken", settings={"fault": fault}, trials=12,
                        short_startup={"fault": fault})  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "check", "error"),
    [
        ("unseeded", "test_same_suggestions_in_a_fresh_process", AssertionError),
        ("fixed-seed", "test_another_seed_other_suggestions", AssertionError),
        ("shared-state", "test_resume_replays_and_continues", AssertionError),
        ("no-failures", "test_failed_trials", TypeError),
        ("no-pending", "test_pending_trials", RuntimeError),
        ("lax-tell", "test_tell_rejects_unknown_or_repeated", pytest.fail.Exception),
        ("tuple-settings", "test_settings_json_round_trip", AssertionError),
        ("from-one", "test_suggestions_valid_and_numbered", AssertionError),
    ],
)
def test_each_strategy_check_fails_on_its_fault(fault: str, check: str, error: type) -> None:
    kit = StrategyConformance()
    with pytest.raises(error):
        getattr(kit, check)(_strategy(fault))
    getattr(kit, check)(_strategy("none"))  # the same check passes without the fault


# -- proxies broken in one way each ----------------------------------------------------------
@dataclasses.dataclass
class BrokenProxy:
    fault: str = "none"
    name: str = "broken-proxy"
    direction: str = "maximize"
    deterministic: bool = False
    needs_table: bool = False

    def __post_init__(self) -> None:
        if self.fault == "bad-direction":
            self.direction = "max"
        if self.fault == "deterministic-but-seeded":
            self.deterministic = True

    def settings(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            **({"scale": (4, 1)} if self.fault == "tuple-settings" else {}),
        }

    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation:
        convs = sum(op.startswith("nor_conv") for op in arch.ops)
        score = float(convs + seed % 7)
        if self.fault == "unseeded":
            score += float(np.random.default_rng().random())
        elif self.fault == "global-rng":
            np.random.seed(seed)
            score += float(np.random.random())
        elif self.fault == "hash":
            score += hash(str(arch.ops)) % 1000
        elif self.fault == "nan" and convs % 2 == 0:
            score = math.nan
        labels = 16 if self.fault == "uses-labels" else 0
        return Evaluation(score=score, direction=self.direction, labels_used=labels)  # type: ignore[arg-type]


def broken_proxy(fault: str = "none", **settings: Any) -> BrokenProxy:
    return BrokenProxy(fault)


def _proxy(fault: str) -> ProxyCase:
    return ProxyCase(f"{HERE}:broken_proxy", settings={"fault": fault}, cells=6)


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("bad-direction", "test_direction"),
        ("nan", "test_finite_score_on_every_cell"),
        ("uses-labels", "test_labels_counted"),
        ("unseeded", "test_same_seed_same_score"),
        ("global-rng", "test_same_seed_same_score"),
        ("deterministic-but-seeded", "test_deterministic_means_seed_independent"),
        ("hash", "test_same_score_in_a_fresh_process"),
        ("tuple-settings", "test_settings_json_round_trip"),
    ],
)
def test_each_proxy_check_fails_on_its_fault(fault: str, check: str) -> None:
    kit = ProxyConformance()
    with pytest.raises(AssertionError):
        getattr(kit, check)(_proxy(fault))
    if check != "test_deterministic_means_seed_independent":  # skips when not deterministic
        getattr(kit, check)(_proxy("none"))


def test_the_hash_fault_needs_the_fresh_process() -> None:
    """A score that depends on str hashing is stable within one process: only the fresh
    process (another PYTHONHASHSEED) exposes it."""
    ProxyConformance().test_same_seed_same_score(_proxy("hash"))


# -- spaces and benchmarks ---------------------------------------------------------------------
class UnstableKeySpace(NB201Space):
    def canonical_key(self, arch: Any) -> str:
        return f"{id(arch)}"


class GlobalRngSpace(NB201Space):
    def sample(self, rng: np.random.Generator) -> Any:
        return super().sample(np.random.default_rng())


UNSTABLE_KEY, GLOBAL_RNG = UnstableKeySpace(), GlobalRngSpace()


@pytest.mark.parametrize(
    ("space", "check"),
    [
        ("UNSTABLE_KEY", "test_canonical_key_stable"),
        ("GLOBAL_RNG", "test_seeded_sampling"),
    ],
)
def test_each_space_check_fails_on_its_fault(space: str, check: str) -> None:
    with pytest.raises(AssertionError):
        getattr(SpaceConformance(), check)(SpaceCase(f"{HERE}:{space}", samples=5))
    getattr(SpaceConformance(), check)(SpaceCase("nb201", samples=5))


class Shifted:
    """nb201-cifar10 with one fault: truth out of range, or one metric for both."""

    def __init__(self, fault: str) -> None:
        from harness.benchmarks import BENCHMARKS

        self._b, self.fault = BENCHMARKS.get("nb201-cifar10"), fault

    def __getattr__(self, name: str) -> Any:
        return getattr(self._b, name)

    @property
    def report_metric(self) -> str:
        return self._b.search_metric if self.fault == "same-metric" else self._b.report_metric

    def report(self, arch: Any) -> float | None:
        value = self._b.report(arch)
        return value * 10 if self.fault == "out-of-range" and value is not None else value


OUT_OF_RANGE, SAME_METRIC = Shifted("out-of-range"), Shifted("same-metric")


@pytest.mark.parametrize(
    ("target", "check"),
    [("OUT_OF_RANGE", "test_truth_in_range"), ("SAME_METRIC", "test_metric_names")],
)
def test_each_benchmark_check_fails_on_its_fault(target: str, check: str) -> None:
    with pytest.raises(AssertionError):
        getattr(BenchmarkConformance(), check)(BenchmarkCase(f"{HERE}:{target}"))
    getattr(BenchmarkConformance(), check)(BenchmarkCase("nb201-cifar10"))


def test_the_kit_is_not_imported_by_the_harness() -> None:
    """pytest is no runtime dependency: importing the package and its registries, and
    running the CLI's list, never imports harness.testing (or pytest)."""
    code = (
        "import sys, harness, harness.contracts\n"
        "from harness.cli import cli\n"
        "from harness.strategies import STRATEGIES; STRATEGIES.names()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('harness.testing', 'pytest'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
