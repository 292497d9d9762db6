"""A harness command that pauses itself at a chosen point, so a test kills it there for certain.

`pausing_command(tmp_path, argv, trials=N)` runs `harness ARGV` in a subprocess that blocks
right after its N-th stored trial (committed; trials the runner commits together are stored
one by one here, and the rest of their batch is lost to the kill, as a real kill loses it);
`evaluations=N` blocks when the proxy starts its (N+1)-th evaluation, the first N finished and
cached; `checkpoints=N` blocks right after `harness evaluate` has written its N-th training
checkpoint. The subprocess writes the returned `ready` file when it blocks: a test waits for
it, then sends SIGKILL. Nothing depends on how fast the machine is: the command cannot finish
before the kill.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

DRIVER = """
import sys, time
from pathlib import Path

ready, kind, n, argv = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4:]


def pause():
    ready.write_text("paused")
    while True:
        time.sleep(3600)


if kind == "trials":
    from harness.store.sql import SqlStore

    real_add = SqlStore.add_trials
    stored = [0]

    def add_trials(self, rows, owner=None):
        # row by row, so the pause lands right after the N-th; the rest of a batch of cheap
        # trials committed together is then lost to the kill, as a real kill loses it
        for row in rows:
            if not real_add(self, [row], owner):
                return False
            stored[0] += 1
            if stored[0] >= n:
                pause()
        return True

    SqlStore.add_trials = add_trials
elif kind == "checkpoints":
    from harness.evaluate import checkpoint

    real_save = checkpoint.save_atomic
    saved = [0]

    def save_atomic(state, path):
        real_save(state, path)
        saved[0] += 1
        if saved[0] >= n:
            pause()

    checkpoint.save_atomic = save_atomic
else:
    from harness import runner

    real_make = runner.make_proxy
    started = [0]

    def make_proxy(name, **settings):
        proxy = real_make(name, **settings)
        real_eval = proxy.evaluate

        def evaluate(arch, benchmark, seed):
            started[0] += 1
            if started[0] > n:
                pause()
            return real_eval(arch, benchmark, seed)

        proxy.evaluate = evaluate
        return proxy

    runner.make_proxy = make_proxy

from harness.cli import main

main(argv)
"""


def pausing_command(
    tmp_path: Path,
    argv: list[str],
    trials: int | None = None,
    evaluations: int | None = None,
    checkpoints: int | None = None,
) -> tuple[list[str], Path]:
    """The subprocess command line and the file it writes once paused."""
    chosen = {"trials": trials, "evaluations": evaluations, "checkpoints": checkpoints}
    ((kind, n),) = [(k, v) for k, v in chosen.items() if v is not None]
    driver = tmp_path / "pausing_driver.py"
    driver.write_text(DRIVER)
    ready = tmp_path / "paused"
    return [sys.executable, str(driver), str(ready), kind, str(n), *argv], ready


def wait_until_paused(proc, ready: Path, timeout: float = 300.0) -> None:
    """Block until the command pauses (it cannot finish first); fail if it exits instead."""
    deadline = time.time() + timeout
    while not ready.exists():
        assert proc.poll() is None, f"the command exited ({proc.returncode}) before pausing"
        assert time.time() < deadline, "the command did not reach its pause point"
        time.sleep(0.02)


def crash_before_stored(monkeypatch, n: int) -> None:
    """In this process: KeyboardInterrupt when the n-th trial would be stored (rows stored one
    by one, so it lands there whatever the runner commits together)."""
    from harness.store.sql import SqlStore

    real_add, stored = SqlStore.add_trials, [0]

    def crashing_add(self, rows, owner=None):
        for row in rows:
            if stored[0] + 1 >= n:
                raise KeyboardInterrupt
            if not real_add(self, [row], owner):
                return False
            stored[0] += 1
        return True

    monkeypatch.setattr(SqlStore, "add_trials", crashing_add)
