"""nox sessions: tests, slow, lint, typecheck, regression, figures, docs, lock.

Every session installs from the lock file, `constraints.txt` (exact versions of every runtime
and dev dependency), torch==2.13.0 first (a CPU build on this project's machines; a bare
`torch` requirement would pull a multi-GB CUDA build). `nox -s lock` regenerates the lock in a
fresh environment from the loose ranges in pyproject.toml. `regression` always builds a fresh
environment, so it checks what a new machine installs, never an old venv.
"""

from __future__ import annotations

import datetime
import platform
import re
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"
TORCH = "torch==2.13.0"
LOCK = "constraints.txt"


def _install(session: nox.Session, extras: str = "dev") -> None:
    session.install(TORCH, "-c", LOCK)
    session.install("-e", f".[{extras}]", "-c", LOCK)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The default (fast) test suite."""
    _install(session)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def slow(session: nox.Session) -> None:
    """Only the tests marked slow (chaos, concurrency, Dask, the installed example)."""
    _install(session)
    session.run("pytest", "-m", "slow", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff", "-c", LOCK)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    _install(session)
    session.run("mypy", "harness", "baselines")


@nox.session(python=PYTHON, reuse_venv=False)
def regression(session: nox.Session) -> None:
    """Rerun the committed reference experiments in a fresh environment built from the lock:
    identical trials where the environment matches the recorded one; elsewhere the differences
    named and the results judged within the stated tolerance (see results/reference/README.md)."""
    _install(session)
    session.run("harness", "reference", "check")
    session.run("harness", "reference", "zero-cost", "check")
    session.run("harness", "reference", "optimizers", "check")


@nox.session(python=PYTHON)
def figures(session: nox.Session) -> None:
    """Regenerate the committed reference tables and figures."""
    _install(session)
    # scikit-posthocs orders the CD diagram's crossbars by set iteration (string hashes): fix the
    # hash seed so regenerated figures are byte-identical
    session.run("harness", "reference", "write", env={"PYTHONHASHSEED": "0"})


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with `mkdocs build --strict` (a broken link,
    anchor or reference fails it). `nox -s docs -- serve` runs `mkdocs serve` instead."""
    _install(session)
    args = session.posargs or ["build", "--strict"]
    session.run("mkdocs", *args, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON, reuse_venv=False)
def lock(session: nox.Session) -> None:
    """Regenerate constraints.txt: resolve pyproject.toml's ranges (all extras) afresh, then
    write the exact versions installed (torch without its local +cpu tag, so the same line
    admits the CPU build here and the default build elsewhere)."""
    session.install(TORCH)
    session.install("-e", ".[dev,postgresql,dask]")
    frozen = session.run("python", "-m", "pip", "freeze", "--exclude-editable", silent=True)
    assert isinstance(frozen, str)
    pins = sorted(
        (re.sub(r"^(torch==[^+\s]+)\+\S+", r"\1", line) for line in frozen.splitlines()),
        key=str.lower,
    )
    pins = [p for p in pins if p and not p.startswith(("#", "-e ", "csnas-harness"))]
    header = (
        "# The lock: exact versions of every runtime and dev dependency of csnas-harness.\n"
        "# Used as pip constraints (-c) by the README's Quickstart, .ci/run and every nox\n"
        "# session. Regenerate with `nox -s lock` (loose ranges stay in pyproject.toml).\n"
        f"# Resolved {datetime.date.today()} on Python {platform.python_version()}, "
        f"{platform.machine()}.\n"
    )
    Path(LOCK).write_text(header + "\n".join(pins) + "\n")
    session.log(f"wrote {LOCK} ({len(pins)} pins)")
