"""The proxy contract: score one architecture, say which way is better, and what it cost."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Direction = Literal["minimize", "maximize"]


@dataclass(frozen=True)
class Evaluation:
    """One proxy evaluation. The direction travels with the score: never guess it from names."""

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
        """The score as a value to minimise; None for a failed evaluation."""
        if self.status != "ok" or not math.isfinite(self.score):
            return None
        return self.score if self.direction == "minimize" else -self.score

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def failed(cls, direction: Direction, reason: str, **kw: Any) -> Evaluation:
        worst = math.inf if direction == "minimize" else -math.inf
        extra = dict(kw.pop("extra", {}))
        extra["reason"] = reason
        return cls(score=worst, direction=direction, status="failed", extra=extra, **kw)


class Proxy(Protocol):
    """Scores an architecture for a benchmark. `settings()` keys the evaluation cache."""

    name: str
    direction: Direction
    #: True when the score does not depend on the seed (table lookups)
    deterministic: bool
    #: True for table lookups: such a proxy cannot run on a benchmark without a table
    needs_table: bool

    def settings(self) -> dict[str, Any]: ...

    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation: ...
