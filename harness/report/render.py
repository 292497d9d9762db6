"""Rendering: a table DataFrame -> terminal text, Markdown, CSV or booktabs LaTeX.

Kept apart from the statistics in `tables.py`: rendering never computes a number, and the
tables are plain DataFrames that tests and notebooks use directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness import HarnessError
from harness.report.numbers import fmt_num, fmt_p

FORMATS: tuple[str, ...] = ("table", "md", "csv", "latex")
METRIC_COLUMNS = ("search_metric", "report_metric")
_P_COLUMNS = ("p", "p_holm", "friedman_p")
__all__ = ["FORMATS", "METRIC_COLUMNS", "fmt_num", "fmt_p", "metrics_caption", "render"]


def metrics_caption(frame: pd.DataFrame) -> str:
    """One line per benchmark naming both metrics: what the search saw, what the table shows."""
    if not all(c in frame.columns for c in METRIC_COLUMNS):
        return ""
    cols = ["benchmark", *METRIC_COLUMNS] if "benchmark" in frame.columns else METRIC_COLUMNS
    seen = frame.loc[:, list(cols)].drop_duplicates()
    lines = []
    for _, r in seen.iterrows():
        head = f"{r['benchmark']}: " if "benchmark" in r else ""
        lines.append(
            f"{head}search metric {r['search_metric']}; report metric {r['report_metric']}"
        )
    return "\n".join(lines)


def _cells(df: pd.DataFrame, digits: int) -> list[list[str]]:
    # a float column whose values are all whole numbers (labels, evaluations) prints as such
    whole = {
        c
        for c in df.columns
        if pd.api.types.is_float_dtype(df[c])
        and df[c].notna().any()
        and bool(np.all(np.mod(df[c].dropna(), 1) == 0))
        and not c.startswith(("rank", "average_rank", "test_acc", "regret"))
    }
    out = []
    for _, row in df.iterrows():
        cells = []
        for col in df.columns:
            v = row[col]
            if col in _P_COLUMNS:
                cells.append(fmt_p(v))
            else:
                cells.append(fmt_num(v, 0 if col in whole else digits))
        out.append(cells)
    return out


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _numeric(df: pd.DataFrame) -> list[bool]:
    return [pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool for c in df.columns]


def _latex_escape(text: str) -> str:
    repl = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
    return "".join(repl.get(ch, ch) for ch in text)


def render(
    df: pd.DataFrame,
    fmt: str = "table",
    *,
    caption: str | None = None,
    digits: int = 2,
) -> str:
    """Render a table; the metric columns become the caption and `best` rows are emphasised.

    csv keeps every column as-is (full precision, metric columns included) for machines. The
    other formats move search_metric/report_metric into a caption (so every table names both)
    and show `best` by emphasising that row's test_acc_mean: **bold** (md), \\textbf (latex),
    a trailing `*` (table).
    """
    if fmt not in FORMATS:
        raise HarnessError(f"unknown table format {fmt!r} (formats: {', '.join(FORMATS)})")
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "table" and {"n_seeds", "test_acc_mean", "scale", "best"} <= set(df.columns):
        from harness.report.terminal import terminal_summary

        return terminal_summary(df)  # the summary: compact, explained, < 100 columns
    if caption is None:
        caption = metrics_caption(df)
    best = df["best"].to_numpy(dtype=bool) if "best" in df.columns else np.zeros(len(df), bool)
    view = df.drop(columns=[c for c in (*METRIC_COLUMNS, "best") if c in df.columns])
    header = [str(c) for c in view.columns]
    body = _cells(view, digits)
    if fmt == "table":  # a terminal: long cell strings shortened (md, csv, latex keep them)
        body = [[_short(c) for c in row] for row in body]
    numeric = _numeric(view)
    emph = list(view.columns).index("test_acc_mean") if "test_acc_mean" in view.columns else None
    if fmt == "latex":
        return _render_latex(view, header, body, numeric, best, emph, caption)
    if emph is not None:
        mark = "**{}**" if fmt == "md" else "{}*"
        for i, row in enumerate(body):
            if best[i]:
                row[emph] = mark.format(row[emph])
    starred = emph is not None and bool(best.any())
    if fmt == "md":
        return _render_md(header, body, numeric, caption, starred)
    return _render_text(header, body, numeric, caption, starred)


def _render_md(
    header: list[str], body: list[list[str]], numeric: list[bool], caption: str, starred: bool
) -> str:
    lines = [f"{line}  " for line in caption.splitlines()] if caption else []
    if lines:
        lines.append("")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---:" if n else ":---" for n in numeric) + "|")
    lines.extend("| " + " | ".join(r) + " |" for r in body)
    if starred:
        lines += ["", "Bold: best test_acc_mean per benchmark."]
    return "\n".join(lines) + "\n"


def _render_text(
    header: list[str], body: list[list[str]], numeric: list[bool], caption: str, starred: bool
) -> str:
    """Aligned plain-text columns for a terminal."""
    widths = [
        max(len(h), *(len(r[j]) for r in body)) if body else len(h) for j, h in enumerate(header)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric)
        ).rstrip()

    lines = caption.splitlines() if caption else []
    lines += [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in body]
    if starred:
        lines.append("* best test_acc_mean per benchmark")
    return "\n".join(lines) + "\n"


def _render_latex(
    view: pd.DataFrame,
    header: list[str],
    body: list[list[str]],
    numeric: list[bool],
    best: np.ndarray,
    emph: int | None,
    caption: str | None,
) -> str:
    spec = "".join("r" if n else "l" for n in numeric)
    out = ["\\begin{table}[t]", "\\centering"]
    if caption:
        out.append("\\caption{" + _latex_escape("; ".join(caption.splitlines())) + "}")
    out += [f"\\begin{{tabular}}{{{spec}}}", "\\toprule"]
    out.append(" & ".join(_latex_escape(h) for h in header) + " \\\\")
    out.append("\\midrule")
    groups = view["benchmark"].tolist() if "benchmark" in view.columns else [None] * len(body)
    for i, row in enumerate(body):
        if i > 0 and groups[i] != groups[i - 1]:
            out.append("\\midrule")
        cells = [_latex_escape(c) for c in row]
        if emph is not None and best[i]:
            cells[emph] = "\\textbf{" + cells[emph] + "}"
        out.append(" & ".join(cells) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(out) + "\n"
