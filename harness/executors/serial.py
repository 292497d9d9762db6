"""The serial executor: every run in this process, one after another."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.executors.base import Options, Progress, run_here
from harness.runner import RunSpec
from harness.store import Store


class SerialSession:
    def __init__(self, opts: Options, store: Store, bar: Callable[[], Progress]) -> None:
        self.opts, self.store, self.bar = opts, store, bar

    def run_all(self, specs: list[RunSpec], tick: Callable[[], None]) -> dict[str, str]:
        return run_here(specs, self.store, self.opts, self.bar())


@contextmanager
def start(opts: Options, store: Store, bar: Any) -> Iterator[SerialSession]:
    yield SerialSession(opts, store, bar)
