"""The report's sections, computed once from `Results` and shared by every output.

`harness report` (any format), `harness.report()` and the HTML page all come from
`report_sections`: each section is a table DataFrame with its caption, or one line saying why
the data do not allow it. Identity notes (runs of different identities in one slot) lead.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness import HarnessError
from harness.report.context import BenchmarkContext, context_caption, context_frame, contexts
from harness.report.frame import check_trials, final_rows, methods_of, one_identity
from harness.report.render import FORMATS, metrics_caption, render
from harness.report.results import EVALUATION_COLUMNS, Results
from harness.report.tables import (
    compare,
    compare_caption,
    default_versus,
    rank_methods,
    returned_cells,
    summarize,
)
from harness.report.terminal import terminal_summary

TABLES: tuple[str, ...] = ("summary", "context", "compare", "ranks", "returned", "evaluations")


@dataclass(frozen=True)
class Section:
    """One table of the report: its frame and caption, or the one-line reason it is absent."""

    name: str
    title: str
    frame: pd.DataFrame | None
    caption: str = ""
    reason: str | None = None
    #: the section already rendered for its format (the terminal summary, with its context)
    text: str | None = None


@dataclass(frozen=True)
class Report:
    sections: list[Section]
    notes: list[str]


def summary_legend(summary: pd.DataFrame) -> str:
    """What the summary's less obvious columns mean, in words (every format but the terminal's,
    which has its own legend)."""
    directions = sorted(
        {f"{p}: {d}" for p, d in zip(summary["proxy"], summary["proxy_direction"]) if d}
    )
    return "\n".join(
        [
            "best (bold): the highest full-scale test_acc_mean of a benchmark with 2+ methods at "
            "full scale; scale: 'full' or the reduced evaluation that gave the number",
            "proxy_score_mean: the returned cell's score under its method's own proxy ("
            + ("; ".join(directions) or "no direction stored")
            + "); not comparable across proxies",
            "simulated_seconds_mean charges every trial its training cost; wall_seconds_mean is "
            "time spent here; cached_share: trials served from the evaluation cache",
        ]
    )


def _compare_section(trials: pd.DataFrame, versus: str | None, metrics: str) -> Section:
    vs = default_versus(trials) if versus is None else versus
    comp = compare(trials, vs)
    title = f"Paired tests: {vs} vs each method"
    if comp.empty:
        why = (
            f"no paired tests: no benchmark has {vs} and another method at the same scale"
            if len(methods_of(trials)) > 1
            else "no paired tests: they need 2+ methods on one benchmark (this store has one)"
        )
        return Section("compare", title, None, reason=why)
    return Section("compare", title, comp, f"{compare_caption(vs)}\n{metrics}")


def _ranks_reason(summary: pd.DataFrame) -> str | None:
    full = summary[summary["scale"] == "full"].dropna(subset=["test_acc_mean"])
    if full["method"].nunique() < 2:
        return "no ranks: they need 2+ methods with full-scale report metrics"
    scores = full.pivot(index="benchmark", columns="method", values="test_acc_mean")
    if scores.dropna().empty:
        where = "; ".join(
            f"{m} on {', '.join(scores.index[scores[m].notna()])}" for m in scores.columns
        )
        return f"no ranks: they need all methods on at least one common benchmark ({where})"
    return None


def _ranks_section(summary: pd.DataFrame, fmt: str, metrics: str) -> Section:
    title = "Average ranks over benchmarks"
    reason = _ranks_reason(summary)
    if reason is not None:
        return Section("ranks", title, None, reason=reason)
    r = rank_methods(summary)
    table = r.table
    if fmt == "csv":  # the omnibus test rides along as constant columns: still one CSV
        table = table.assign(
            friedman_statistic=r.friedman.statistic,
            friedman_p=r.friedman.p,
            nemenyi_cd=r.cd,
            n_benchmarks=r.friedman.n_blocks,
        )
    cap = r.caption()
    if r.friedman.n_blocks < 2 or r.friedman.n_methods < 3:
        cap += " (Friedman and Nemenyi need 3+ methods on 2+ benchmarks)"
    return Section("ranks", title, table, f"{cap}\n{metrics}")


def _evaluations_section(evaluations: pd.DataFrame) -> Section:
    title = "Cells trained from scratch (harness evaluate)"
    if evaluations.empty:
        return Section("evaluations", title, None, reason="no cells trained yet")
    cap = (
        "test_acc: the last epoch's test accuracy (%); scale 'full' = the protocol's "
        "published setup, anything else is a reduced run (smoke/quick/--epochs), not a "
        "measurement of the published number; per-epoch curves: `harness export --curves`"
    )
    return Section("evaluations", title, evaluations.loc[:, list(EVALUATION_COLUMNS)], cap)


def _context_section(ctxs: list[BenchmarkContext], summary: pd.DataFrame) -> Section:
    title = "In context: the benchmark's table and the committed reference rows"
    frame = context_frame(ctxs, summary)
    if frame.empty:
        why = "; ".join(c.reason for c in ctxs if c.reason) or "no benchmark with a table"
        return Section("context", title, None, reason=f"no context: {why}")
    return Section("context", title, frame, context_caption(ctxs))


def _trial_sections(
    trials: pd.DataFrame, fmt: str, versus: str | None, seed: int, which: tuple[str, ...]
) -> list[Section]:
    metrics = metrics_caption(trials)
    summary = summarize(trials, seed=seed)
    # the contexts feed the context table, and the terminal's summary (which holds them)
    needed = "context" in which or (fmt == "table" and "summary" in which)
    ctxs = contexts(trials) if needed else []
    out = []
    if "summary" in which:
        cap = f"{metrics}\n{summary_legend(summary)}"
        text = terminal_summary(summary, ctxs) if fmt == "table" else None
        out.append(Section("summary", "Summary per benchmark and method", summary, cap, text=text))
    if "context" in which and not (fmt == "table" and "summary" in which):
        out.append(_context_section(ctxs, summary))  # a terminal's summary already holds it
    if "compare" in which:
        out.append(_compare_section(trials, versus, metrics))
    if "ranks" in which:
        out.append(_ranks_section(summary, fmt, metrics))
    if "returned" in which:
        cap = f"The cell each run returned (picked by its proxy score)\n{metrics}"
        out.append(Section("returned", "Returned cells", returned_cells(trials), cap))
    return out


def default_tables(results: Results) -> tuple[str, ...]:
    """summary, context, compare, ranks; returned where some report metric is not a table's;
    and evaluations where cells were trained."""
    out: tuple[str, ...] = ()
    if len(results.trials):
        open_space = final_rows(results.trials)["report_source"].ne("table").any()
        out = ("summary", "context", "compare", "ranks", *(("returned",) if open_space else ()))
    return out + (("evaluations",) if len(results.evaluations) else ())


def report_sections(
    results: Results,
    fmt: str = "table",
    *,
    versus: str | None = None,
    seed: int = 0,
    which: tuple[str, ...] | None = None,
    run_ids: list[str] | None = None,
) -> Report:
    """Every requested section (default: `default_tables`) and the notes that lead them."""
    if fmt not in (*FORMATS, "html"):
        raise HarnessError(f"unknown table format {fmt!r} (formats: {', '.join(FORMATS)}, html)")
    which = default_tables(results) if which is None else which
    unknown = [w for w in which if w not in TABLES]
    if unknown:
        raise HarnessError(f"unknown table {unknown[0]!r} (tables: {', '.join(TABLES)})")
    notes: list[str] = []
    sections: list[Section] = []
    trials = results.trials
    if len(trials):
        if versus is not None and versus not in methods_of(trials):
            methods = ", ".join(methods_of(trials))
            raise HarnessError(f"unknown --versus method {versus!r} (methods: {methods})")
        trials, note = one_identity(trials, run_ids)
        notes += [note] if note else []
        sections += _trial_sections(trials, fmt, versus, seed, which)
    else:
        notes.append("no search runs in this store: only cell evaluations to report")
    if "evaluations" in which:
        sections.append(_evaluations_section(results.evaluations))
    return Report(sections, notes)


def render_report(report: Report, fmt: str = "table") -> dict[str, str]:
    """Each section rendered as text in `fmt`, keyed by name; notes first (not in csv, whose
    first block stays the summary's clean CSV: the CLI prints them on stderr)."""
    out: dict[str, str] = {}
    if report.notes and fmt != "csv":
        mark = {"md": "> note: ", "latex": "% note: "}.get(fmt, "note: ")
        out["notes"] = "".join(f"{mark}{n}\n" for n in report.notes)
    many = fmt == "csv" and len(report.sections) > 1
    for i, s in enumerate(report.sections):
        if s.text is not None:
            text = s.text
        elif s.frame is None:
            text = f"# {s.name}: {s.reason}\n" if fmt == "csv" else f"{s.reason}\n"
        else:
            text = render(s.frame, fmt, caption=s.caption or None)
        out[s.name] = (f"# {s.name}\n" + text) if many and i > 0 and s.frame is not None else text
    return out


def report_text(
    trials: pd.DataFrame | Results,
    fmt: str = "table",
    *,
    versus: str | None = None,
    seed: int = 0,
    which: tuple[str, ...] | None = None,
    run_ids: list[str] | None = None,
) -> str:
    """The whole `harness report` output (and `harness.report()`'s): notes, then each table.

    For csv the tables are CSV blocks separated by a blank line; the first block (the summary)
    starts with its header row, so `pd.read_csv(out.split("\n\n")[0])` reads it, and each later
    block starts with a `# name` line (`--table summary --format csv` gives one clean CSV).
    """
    tables = report_tables(trials, fmt, versus=versus, seed=seed, which=which, run_ids=run_ids)
    return "\n".join(tables.values())


def report_tables(
    trials: pd.DataFrame | Results,
    fmt: str = "table",
    *,
    versus: str | None = None,
    seed: int = 0,
    which: tuple[str, ...] | None = None,
    run_ids: list[str] | None = None,
) -> dict[str, str]:
    """Each requested table rendered in `fmt`, keyed by name (summary, compare, ranks,
    returned, evaluations; `notes` first when there are any). By default summary, compare and
    ranks, plus `returned` when some run's report metric is not from a table (an open space)
    and `evaluations` when cells were trained (`sections.default_tables`)."""
    results = trials if isinstance(trials, Results) else Results(check_trials(trials))
    if fmt not in FORMATS:
        raise HarnessError(f"unknown table format {fmt!r} (formats: {', '.join(FORMATS)})")
    report = report_sections(results, fmt, versus=versus, seed=seed, which=which, run_ids=run_ids)
    return render_report(report, fmt)


def summary_text(trials: pd.DataFrame, fmt: str = "table", *, seed: int = 0) -> str:
    """The summary `harness run` closes with, the report's own sections: in a terminal, the
    table with each benchmark's context and the readings last; md and latex add the context
    table after the summary; csv is the summary's CSV alone (one clean table for machines)."""
    which = ("summary",) if fmt == "csv" else ("summary", "context")
    sections = _trial_sections(trials, fmt, None, seed, which)
    return "\n".join(render_report(Report(sections, []), fmt).values())
