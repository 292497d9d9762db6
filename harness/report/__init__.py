"""Results -> statistics, tables and figures. Reads the store's trials frame; never reruns.

Tables (`summarize`, `compare`, `rank_methods`, `render`) import no plotting library;
figures live in `harness.report.figures` and import matplotlib only when called. The names
below are imported on first use (PEP 562), so a command that only reaches a submodule such as
`harness.report.output` does not pay for SciPy's statistics at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# eager: the submodule `render` shares the function's name, and importing it lazily later
# would bind the module, not the function, to `harness.report.render`
from harness.report.render import render

if TYPE_CHECKING:
    from harness.report.frame import final_rows, method_colors
    from harness.report.sections import report_tables, report_text
    from harness.report.tables import FORMATS, Ranks, compare, rank_methods, summarize

#: public name -> the submodule that defines it
_HOMES = {
    "FORMATS": "tables",
    "Ranks": "tables",
    "compare": "tables",
    "final_rows": "frame",
    "method_colors": "frame",
    "rank_methods": "tables",
    "report_tables": "sections",
    "report_text": "sections",
    "summarize": "tables",
}

__all__ = [
    "FORMATS",
    "Ranks",
    "compare",
    "final_rows",
    "method_colors",
    "rank_methods",
    "render",
    "report_tables",
    "report_text",
    "summarize",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"harness.report.{home}"), name)
    globals()[name] = value
    return value
