"""Run leases: a worker claims a run before executing it, and keeps the claim alive.

An owner is `host:pid:token`. A claim lasts `seconds` and a heartbeat thread renews it every
third of that while the run executes. Whoever finds a run claimed by someone else moves on or
waits; a claim lapses when its owner stops renewing it (killed, hung, host gone) and is then
taken by the next claimant, who resumes the run from its stored trials. An owner on this host
whose process no longer exists is dead for sure: its claim is taken at once, no waiting.
A worker that finds its lease taken stops before writing another trial.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

from harness.store import Holder, Store

DEFAULT_SECONDS = 60.0
log = logging.getLogger("harness.leases")
_TOKEN = uuid.uuid4().hex[:8]


def owner_id() -> str:
    """This process as a lease owner (a forked child gets its own pid, hence its own id)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


def owner_is_dead(owner: str) -> bool:
    """True only when certain: the owner ran on this host and its process is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner != owner_id()  # this pid, an earlier token: a previous life of the pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@dataclass
class Lease:
    """A held claim on one run, renewed by a daemon thread until released."""

    store: Store
    run_id: str
    owner: str
    seconds: float
    lost: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Lease:
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                if not self.store.renew_lease(self.run_id, self.owner, self.seconds):
                    self.lost.set()
                    return
            except Exception:  # a failed heartbeat is retried; the lease lapses if they all fail
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def claim(store: Store, run_id: str, owner: str, seconds: float) -> Lease | Holder:
    """The run's lease (heartbeat started), or who holds it (or that it is done)."""
    held = store.claim_run(run_id, owner, seconds)
    if held is not None and held.owner and owner_is_dead(held.owner):
        if store.take_over(run_id, owner, held.owner, seconds):
            log.info(
                "run %s: took over the lease of %s (its process is gone); resuming from its "
                "stored trials",
                run_id,
                held.owner,
            )
            held = None
        else:
            held = store.claim_run(run_id, owner, seconds)
    if held is not None:
        return held
    return Lease(store, run_id, owner, seconds).start()


def describe(holder: Holder, now: float) -> str:
    if holder.owner is None:
        return holder.status
    left = max(0.0, (holder.expires or now) - now)
    return f"held by {holder.owner} (lease lapses in {left:.0f} s unless renewed)"
