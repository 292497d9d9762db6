"""csnas-harness: a reproducible benchmark harness for label-free neural architecture search.

The Python API (see harness/api.py; the CLI is a thin layer over it):

    import harness
    frame = harness.run(methods="tpe,random", benchmarks="nb201-cifar10", seeds=3, trials=50,
                        storage="sqlite:///study.db", executor="process", workers=2)
    harness.trials("sqlite:///study.db")   # pandas DataFrame, one row per run x trial
    harness.summary(frame)                  # one row per benchmark x method
    harness.figures(frame, out="figures/")  # PNG + PDF files
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


class HarnessError(Exception):
    """A user-facing error: the CLI prints its message as one line and exits with code 2."""


#: `report` stays harness.api.report: harness.report is the report package
_API = ("plan", "run", "trials", "summary", "figures")


def __getattr__(name: str) -> Any:
    """The API functions, imported on first use so that `import harness` stays light."""
    if name in _API:
        from harness import api

        return getattr(api, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


__all__ = ["HarnessError", "__version__", *_API]
