"""The command that fills a `pending` report metric: a search on a benchmark without a table
(DARTS) returns cells nobody has trained yet; `harness evaluate` trains them."""

from __future__ import annotations

import shlex

import pandas as pd

from harness.store.base import DEFAULT_URL, redact


def evaluate_hints(trials: pd.DataFrame, storage: str = DEFAULT_URL) -> list[str]:
    """One line per (benchmark, method) with a run whose returned cell has no report metric
    yet (no table, not trained): the exact `harness evaluate` command that trains those runs'
    cells into `storage`. Empty when nothing is pending."""
    from harness.report.frame import final_rows

    if trials.empty:
        return []
    last = final_rows(trials)
    pending = last[last["report_source"] == "pending"]
    pairs = list(dict.fromkeys(zip(pending["method"], pending["benchmark"])))
    if not pairs:
        return []
    lines = ["pending: no trained accuracy yet for the returned cells; train them with"]
    for method, benchmark in pairs:
        args = ["harness", "evaluate", "--method", str(method), "--benchmark", str(benchmark)]
        args += ["--storage", redact(storage)]
        lines.append("  " + shlex.join(args))
    lines.append("  (the paper profile by default: hours a cell on a CPU; harness evaluate --help)")
    return lines
