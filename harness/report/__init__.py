"""Results -> statistics, tables and figures. Reads the store's trials frame; never reruns.

Tables (`summarize`, `compare`, `rank_methods`, `render`) import no plotting library;
figures live in `harness.report.figures` and import matplotlib only when called.
"""

from __future__ import annotations

from harness.report.frame import final_rows, method_colors
from harness.report.render import render
from harness.report.sections import report_tables, report_text
from harness.report.tables import FORMATS, Ranks, compare, rank_methods, summarize

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
