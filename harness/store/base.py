"""What the harness asks of a store, and the helpers every implementation shares.

Callers (runner, executors, CLI, reports, tests) use only the `Store` protocol: they never
reach into an engine or a connection, so a store can live in SQLite, PostgreSQL or elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_URL = "sqlite:///results/harness.db"

_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<at>@)", re.I)


#: the per-run aggregates an incumbent trials frame carries beside its rows (a full frame,
#: one row per trial, has none): trials, most labels any trial used, share served from cache
RUN_AGGREGATES = ("run_trials", "run_labels_used", "run_cached_share")


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***: safe for errors and logs."""
    return _PASSWORD.sub(lambda m: f"{m['head']}***{m['at']}", str(text))


def evaluation_key(
    proxy_name: str, settings: str, arch_key: str, seed: int, version: str = ""
) -> str:
    """Cache key of one proxy evaluation: proxy, its settings (JSON), its code version,
    canonical arch and seed. A changed proxy implementation never reuses old scores."""
    blob = f"{proxy_name}\0{settings}\0{arch_key}\0{seed}"
    if version:
        blob += f"\0{version}"
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Holder:
    """Who holds a run's lease (owner None: nobody), until when, and the run's status."""

    status: str
    owner: str | None
    expires: float | None


class Store(Protocol):
    """Runs, their trials and leases, cached proxy evaluations and trained returned cells."""

    #: the storage URL with any password replaced by ***
    url: str

    def close(self) -> None:
        """Release connections (a process opens one store and closes it when done)."""

    # runs and leases
    def run_status(self, run_id: str) -> str | None: ...

    def start_run(self, run_id: str, fields: dict[str, Any], manifest: dict[str, Any]) -> None:
        """Create the run row unless it exists (a resumed run keeps its first manifest)."""

    def claim_run(self, run_id: str, owner: str, seconds: float) -> Holder | None:
        """Take the run's lease for `seconds` if it is free, lapsed or already `owner`'s:
        None on success, else who holds it (or status 'done')."""

    def take_over(self, run_id: str, owner: str, dead_owner: str, seconds: float) -> bool:
        """Take the lease from `dead_owner` if it still holds it (compare and swap)."""

    def renew_lease(self, run_id: str, owner: str, seconds: float) -> bool:
        """Heartbeat: extend `owner`'s lease; False if the lease was lost to another."""

    def release_run(self, run_id: str, owner: str) -> None: ...

    def finish_run(self, run_id: str, owner: str | None = None) -> None:
        """Mark the run done (only its lease holder, when `owner` is given); its trials are
        final from then on, so a store may keep what a report reads of them."""

    def runs(self, run_ids: list[str] | None = None) -> list[dict[str, Any]]: ...

    # trials
    def add_trial(self, row: dict[str, Any], owner: str | None = None) -> bool:
        """Record one finished trial, durably; a trial already stored is left as it is.
        With `owner`, only while `owner` holds the run's lease: False (nothing written) if
        not, checked in the same transaction."""

    def add_trials(self, rows: list[dict[str, Any]], owner: str | None = None) -> bool:
        """Several finished trials of one run in one transaction (as add_trial)."""

    def trials(self, run_id: str) -> list[dict[str, Any]]: ...

    def count_trials(self, run_ids: list[str]) -> int: ...

    def trials_frame(self, run_ids: list[str] | None = None, *, incumbents: bool = False) -> Any:
        """Long format, one row per (run, trial); `incumbents`: only the rows where a run's
        incumbent changes, with the run's aggregates (what reports read)."""

    def iter_trials_frames(
        self, run_ids: list[str] | None = None, *, incumbents: bool = False
    ) -> Iterator[Any]:
        """`trials_frame` a batch of runs at a time, in report order."""

    def iter_runs(
        self, run_ids: list[str] | None = None, keys: tuple[str, ...] | None = None
    ) -> Iterator[dict[str, Any]]:
        """`runs`, one at a time, by creation time (manifests are read a batch at a time);
        with `keys`, each manifest holds only those sections."""

    # proxy evaluation cache
    def cached_evaluation(self, cache_key: str) -> dict[str, Any] | None: ...

    def cache_evaluation(
        self,
        cache_key: str,
        proxy: str,
        settings: str,
        arch_key: str,
        seed: int,
        ev: dict,
        version: str | None = None,
    ) -> None: ...

    # returned cells trained from scratch
    def start_cell_evaluation(self, row: dict[str, Any]) -> None: ...

    def finish_cell_evaluation(self, eval_id: str, status: str, **fields: Any) -> None: ...

    def cell_evaluations(self, run_ids: list[str] | None = None) -> list[dict[str, Any]]: ...

    def evaluated_truth(self, run_ids: list[str]) -> dict[str, tuple[float, str]]: ...

    def counts(self) -> dict[str, int]:
        """Rows per table: what tests compare to show a store was left unchanged."""
