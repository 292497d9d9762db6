"""The serial executor: every run in this process, one after another."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.executors.base import Options, Progress
from harness.runner import RunSpec, execute_run
from harness.store import Store


class SerialSession:
    def __init__(self, opts: Options, store: Store, bar: Callable[[], Progress]) -> None:
        self.opts, self.store, self.bar = opts, store, bar

    def run_all(self, specs: list[RunSpec], tick: Callable[[], None]) -> dict[str, str]:
        out = {}
        for spec in specs:
            out[spec.run_id] = execute_run(
                spec, self.store, on_trial=self.bar().local, lease_seconds=self.opts.lease_seconds
            )
        tick()
        return out


@contextmanager
def start(opts: Options, store: Store, bar: Any) -> Iterator[SerialSession]:
    yield SerialSession(opts, store, bar)
