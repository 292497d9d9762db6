"""One ask/tell protocol for every search strategy.

A strategy proposes parameter dicts over a `ParamSpace` and learns from losses (always
minimised: the runner turns a proxy's score and direction into a loss). `tell(n, None)` reports
a failed trial. Strategies are seeded explicitly and must give the same suggestions for the
same seed and the same tells, in any process: resume relies on replaying them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

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


T = TypeVar("T")


class Ledger(Generic[T]):
    """The ask/tell bookkeeping every strategy shares: numbers suggestions in ask order and
    holds what each one awaits until its tell, so a double or unknown tell fails loudly."""

    def __init__(self) -> None:
        self._pending: dict[int, T] = {}
        self.asked = 0

    def open(self, payload: T) -> int:
        number = self.asked
        self.asked += 1
        self._pending[number] = payload
        return number

    def close(self, number: int) -> T:
        if number not in self._pending:
            raise ValueError(f"trial {number} was not asked or was already told")
        return self._pending.pop(number)

    def outstanding(self) -> list[T]:
        """Payloads of suggestions still awaiting their tell, in ask order."""
        return list(self._pending.values())
