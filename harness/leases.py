"""Run leases: a worker claims a run before executing it, and keeps the claim alive.

An owner is `host:pid:token`. A claim lasts `seconds` and the process's heartbeat thread
renews it every third of that while the run executes. Whoever finds a run claimed by someone
else moves on or waits; a claim lapses when its owner stops renewing it (killed, hung, host
gone) and is then
taken by the next claimant, who resumes the run from its stored trials. An owner on this host
whose process no longer exists is dead for sure: its claim is taken at once, no waiting.
A worker that finds its lease taken stops before writing another trial.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
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


@dataclass(eq=False)
class Lease:
    """A held claim on one run, renewed by the process's heartbeat thread until released."""

    store: Store
    run_id: str
    owner: str
    seconds: float
    lost: threading.Event = field(default_factory=threading.Event)
    _renewing: threading.Lock = field(default_factory=threading.Lock)
    _stopped: bool = False
    _due: float = 0.0

    def start(self) -> Lease:
        _HEARTBEATS.add(self)
        return self

    def renew(self) -> None:
        """One renewal (on the heartbeat thread); a lease found taken is marked lost and
        renewed no more. A failed renewal is retried at the next beat; the lease lapses if
        they all fail."""
        with self._renewing:
            if self._stopped:
                return
            try:
                held = self.store.renew_lease(self.run_id, self.owner, self.seconds)
            except Exception:
                return
            if not held:
                self.lost.set()
                self._stopped = True

    def stop(self) -> None:
        """No renewal after this returns (one under way is waited for)."""
        _HEARTBEATS.remove(self)
        with self._renewing:
            self._stopped = True


class _Heartbeats:
    """One daemon thread per process renews every lease it holds, each every third of its
    length. A thread per lease cost a thread start and join per run: about 5 ms a run on
    this 2-core machine under load, a quarter of the lookup grid's overhead (`harness bench
    grid`). A renewal that blocks (a locked database) delays the others' in this process,
    which write to the same stores and would wait as long."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Fresh state: at start-up, and in a forked child (the parent's thread is not there,
        and its lock may have been held at the fork)."""
        self.cond = threading.Condition(threading.Lock())
        self.leases: dict[int, Lease] = {}
        self.thread: threading.Thread | None = None

    def add(self, lease: Lease) -> None:
        with self.cond:
            lease._due = time.monotonic() + lease.seconds / 3
            self.leases[id(lease)] = lease
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="lease-heartbeat", daemon=True
                )
                self.thread.start()
            self.cond.notify()

    def remove(self, lease: Lease) -> None:
        with self.cond:
            self.leases.pop(id(lease), None)

    def _run(self) -> None:
        while True:
            with self.cond:
                now = time.monotonic()
                due = [lease for lease in self.leases.values() if lease._due <= now]
                if not due:
                    nxt = min((lease._due for lease in self.leases.values()), default=None)
                    self.cond.wait(None if nxt is None else nxt - now)
                    continue
                for lease in due:
                    lease._due = now + lease.seconds / 3
            for lease in due:  # outside the lock: a slow renewal never blocks add or remove
                lease.renew()
                if lease.lost.is_set():
                    self.remove(lease)


_HEARTBEATS = _Heartbeats()
os.register_at_fork(after_in_child=_HEARTBEATS.reset)


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
