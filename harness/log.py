"""What the harness decides, through the standard library's `logging` (logger "harness.*").

INFO: a new store (and any folder made for it), lease takeovers, retries (a busy or lost run
tried again, a worker pool rebuilt, a locked store opened again). DEBUG: each run skipped
because it is complete, each evaluation served from the cache. The `harness` command shows
INFO on stderr (`-v`: DEBUG, `-q`: warnings only) and `--log-file FILE` keeps every record
(DEBUG, with time, level and process); a script or notebook configures `logging` as it likes
(`logging.basicConfig(level=logging.INFO)`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LOGGER = "harness"
_HANDLERS: list[logging.Handler] = []
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


def level_of(verbose: int, quiet: bool) -> int:
    """The stderr level for -v (repeatable) and -q."""
    if quiet:
        return logging.WARNING
    return logging.DEBUG if verbose > 0 else logging.INFO


def configure(level: int, log_file: str | None = None) -> None:
    """Send the harness's records to stderr at `level` ("harness: MESSAGE") and, with
    `log_file`, every record to that file (appended; worker processes append to it too).
    Replaces what an earlier call set up."""
    reset()
    logger = logging.getLogger(LOGGER)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("harness: %(message)s"))
    _HANDLERS.append(console)
    if log_file is not None:
        from harness import HarnessError

        try:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            to_file = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as err:
            raise HarnessError(f"cannot write --log-file {log_file}: {err.strerror}") from None
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter(FILE_FORMAT))
        _HANDLERS.append(to_file)
    for handler in _HANDLERS:
        logger.addHandler(handler)
    logger.setLevel(min(h.level for h in _HANDLERS))
    logger.propagate = False


def reset() -> None:
    """Remove what `configure` set up (the command is over)."""
    logger = logging.getLogger(LOGGER)
    for old in _HANDLERS:
        logger.removeHandler(old)
        old.close()
    _HANDLERS.clear()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def settings() -> tuple[int, str | None] | None:
    """(stderr level, log file) as `configure` set them here, for worker processes."""
    if not _HANDLERS:
        return None
    files = [h.baseFilename for h in _HANDLERS if isinstance(h, logging.FileHandler)]
    return _HANDLERS[0].level, (files[0] if files else None)


def configure_worker(config: tuple[int, str | None] | None) -> None:
    """A worker process logs as its parent was set up to (nothing when it was not)."""
    if config is not None:
        configure(config[0], config[1])
