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
    """One candidate a strategy proposes.

    Attributes:
        number: 0, 1, 2, ... in ask order; `tell` names the suggestion by it.
        params: One choice per parameter of the `ParamSpace` (`ParamSpace.validate` passes).
    """

    number: int
    params: Params


class Strategy(Protocol):
    """Ask/tell search over a `ParamSpace`, built by a `StrategyFactory`.

    What the harness relies on (`harness.testing.StrategyConformance` checks each point):

    - Determinism under replay: the same seed, settings and sequence of asks and tells give
      the same suggestions, in this process or a fresh one (another `PYTHONHASHSEED`
      included). Resume builds a fresh strategy, asks and tells it the stored trials in
      order, checks each suggestion equals the stored one, then goes on: all randomness
      must come from the seed given to the factory, none from global or shared state.
    - Failed trials: `tell(number, None)` (and a NaN loss) must be accepted at any time,
      also before any finite loss.
    - Pending trials: several asks before their tells, told in any order, where the
      strategy supports it. With `--parallel k` the runner keeps k asked and untold (it
      tells them in ask order); at k = 1 it tells each trial before the next ask.
    - Bookkeeping: a tell for a number never asked, or told twice, raises ValueError
      (`Ledger` does this).
    - Identity: the run id covers the strategy's code, found by its factory's module; a
      factory without a source file needs a `version` string attribute.

    Attributes:
        name: The registered name.
        settings: The fully resolved settings, JSON-serialisable (defaults included): they
            land in the run manifest and the run id, and the factory called with them
            builds the same strategy.
    """

    name: str
    settings: dict[str, Any]

    def ask(self) -> Suggestion:
        """The next candidate, numbered in ask order."""
        ...

    def tell(self, number: int, loss: float | None) -> None:
        """Report suggestion `number`'s loss (lower is better), or None for a failed trial.

        Raises:
            ValueError: `number` was never asked or was already told.
        """
        ...


class StrategyFactory(Protocol):
    """What `STRATEGIES.register(name, factory)` takes: `factory(space, seed, **settings)`.

    Unknown setting names raise TypeError (as for any unexpected keyword); malformed values
    raise ValueError or `HarnessError`.
    """

    def __call__(self, space: ParamSpace, seed: int, **settings: Any) -> Strategy: ...


T = TypeVar("T")


class Ledger(Generic[T]):
    """The ask/tell bookkeeping every strategy shares: numbers suggestions in ask order and
    holds what each one awaits until its tell, so a double or unknown tell fails loudly.

    Attributes:
        asked: How many suggestions were opened so far (the next number).

    Example:
        >>> ledger = Ledger[str]()
        >>> ledger.open("cell a"), ledger.open("cell b")
        (0, 1)
        >>> ledger.close(1), ledger.outstanding()
        ('cell b', ['cell a'])
    """

    def __init__(self) -> None:
        self._pending: dict[int, T] = {}
        self.asked = 0

    def open(self, payload: T) -> int:
        """Number a new suggestion and hold `payload` (what its tell will need) until then."""
        number = self.asked
        self.asked += 1
        self._pending[number] = payload
        return number

    def close(self, number: int) -> T:
        """The payload of suggestion `number`, now told.

        Raises:
            ValueError: `number` was never opened or was already closed.
        """
        if number not in self._pending:
            raise ValueError(f"trial {number} was not asked or was already told")
        return self._pending.pop(number)

    def outstanding(self) -> list[T]:
        """Payloads of suggestions still awaiting their tell, in ask order."""
        return list(self._pending.values())
