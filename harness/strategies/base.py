"""One ask/tell protocol for every search strategy.

A strategy proposes parameter dicts over a `ParamSpace` and learns from losses (always
minimised: the runner turns a proxy's score and direction into a loss). `tell(n, None)` reports
a failed trial. Strategies are seeded explicitly and must give the same suggestions for the
same seed and the same tells, in any process: resume relies on replaying them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from harness.spaces.base import Params, ParamSpace


@dataclass(frozen=True)
class Suggestion:
    number: int  # 0, 1, 2, ... in ask order
    params: Params


class Strategy(Protocol):
    name: str
    #: the fully resolved settings (JSON-serialisable); they land in the run manifest
    settings: dict[str, Any]

    def ask(self) -> Suggestion: ...

    def tell(self, number: int, loss: float | None) -> None: ...


class StrategyFactory(Protocol):
    def __call__(self, space: ParamSpace, seed: int, **settings: Any) -> Strategy: ...
