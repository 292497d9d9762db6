"""The proxy contract: score one architecture, say which way is better, and what it cost.

A proxy is registered as a factory, `PROXIES.register("my-proxy", factory)`, where
`factory(**settings)` returns an object satisfying `Proxy` (unknown or malformed settings
raise, preferably a one-line `HarnessError`). The runner calls `evaluate` once per trial (or
reads the evaluation cache) and turns the score into a loss with `Evaluation.loss`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Direction = Literal["minimize", "maximize"]


@dataclass(frozen=True)
class Evaluation:
    """One proxy evaluation. The direction travels with the score: never guess it from names.

    Attributes:
        score: The proxy's number for the architecture. A non-finite score with status "ok"
            still counts as a failed trial (`loss` is None).
        direction: "maximize" or "minimize": which way is better. The harness stores it with
            every trial and never infers it from the proxy's name.
        wall_s: Seconds this evaluation took here.
        simulated_s: Seconds it stands for in budgets and cost columns (a table lookup's
            training time; a computed proxy's own wall time).
        labels_used: How many labeled examples the score read: images whose labels entered
            the computation (a supervised loss, a gradient through a cross-entropy), or, for
            a table lookup, the labeled set the benchmark trained on. 0 for a label-free
            proxy, even when it reads images. The label-free track is built on this count.
        status: "ok", or "failed" for an evaluation that could not produce a score
            (`Evaluation.failed`); strategies are then told `None`.
        device: Where it ran ("cpu", "cuda:0", ...).
        extra: JSON-serialisable side information stored with the trial (readouts,
            components, the data source, a failure's `reason`).
    """

    score: float
    direction: Direction
    wall_s: float = 0.0
    simulated_s: float = 0.0
    labels_used: int = 0
    status: Literal["ok", "failed"] = "ok"
    device: str = "cpu"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loss(self) -> float | None:
        """The score as a value to minimise (negated when maximised); None for a failed
        evaluation or a non-finite score. This is what strategies are told."""
        if self.status != "ok" or not math.isfinite(self.score):
            return None
        return self.score if self.direction == "minimize" else -self.score

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (what the store and the cache write)."""
        return asdict(self)

    @classmethod
    def failed(cls, direction: Direction, reason: str, **kw: Any) -> Evaluation:
        """A failed evaluation: the worst score for `direction`, `reason` in `extra`."""
        worst = math.inf if direction == "minimize" else -math.inf
        extra = dict(kw.pop("extra", {}))
        extra["reason"] = reason
        return cls(score=worst, direction=direction, status="failed", extra=extra, **kw)


class Proxy(Protocol):
    """Scores an architecture for a benchmark.

    What the harness relies on (`harness.testing.ProxyConformance` checks each point):

    - Determinism under replay: the same architecture, benchmark, settings and `seed` give
      the same score in any process (same device and thread count), because evaluations
      are cached by (name, settings, canonical architecture key, seed, code version) and
      resumed runs replay them. All randomness comes from `seed`; the caller's global
      random states (Python's, numpy's, torch's) are left as they were.
    - `settings()` is JSON-serialisable and complete: it keys the evaluation cache, lands
      in the run manifest, and the proxy's factory called with it builds the same proxy.
    - Identity: the run id covers the proxy's code, found by its class's module (and those
      of the functions a dataclass proxy holds). A class without a source file (a notebook
      cell, `python -c`) needs a `version` string attribute instead; set one also to keep
      cached scores across cosmetic edits, and change it whenever the scores change.

    Attributes:
        name: The registered name.
        direction: "maximize" or "minimize"; every `Evaluation` it returns says the same.
        deterministic: True only when the score cannot depend on the seed (table lookups,
            parameter counts) and is cheap: the runner then calls `evaluate` every time
            instead of caching (`harness.runner.cached_evaluate`).
        needs_table: True for proxies that read the benchmark's table (lookups): such a
            proxy is refused on a benchmark without one. The harness reads it with a
            default of False, so a computed proxy may leave it out.
    """

    name: str
    direction: Direction
    deterministic: bool
    needs_table: bool

    def settings(self) -> dict[str, Any]:
        """The fully resolved settings, JSON-serialisable (defaults included)."""
        ...

    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation:
        """Score `arch` (an architecture of `benchmark.space`) under `seed`.

        Args:
            arch: An architecture as the benchmark's space decodes it (opaque to the proxy
                unless it is written for one space).
            benchmark: The benchmark the search runs on (`benchmark.space`, `n_classes`).
            seed: The run's proxy seed; the only source of randomness.

        Returns:
            The evaluation; a failure is `Evaluation.failed(...)` rather than an exception
            where the proxy can tell (an exception fails the run).
        """
        ...
