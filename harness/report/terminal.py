"""The summary as a terminal reads it: one block per benchmark, under 100 characters wide.

Every column is named in words under the table (which way the proxy score is better, why
simulated cost can exceed wall time, what the marks mean); the full table with every column
goes to `--format csv|md|html`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from harness.report.numbers import fmt_num

if TYPE_CHECKING:
    from harness.report.context import BenchmarkContext

WIDTH = 100


def _acc(r: pd.Series) -> str:
    if pd.isna(r["test_acc_mean"]):
        return "pending"
    text = fmt_num(r["test_acc_mean"])
    if pd.notna(r["test_acc_std"]):
        text += f" ± {fmt_num(r['test_acc_std'])}"
    return text + ("*" if r["best"] else "") + ("†" if r["scale"] != "full" else "")


def _seconds(v: object) -> str:
    return "-" if pd.isna(v) else f"{float(v):,.0f}" if float(v) >= 10 else f"{float(v):.1f}"  # type: ignore[arg-type]


def _row(r: pd.Series) -> dict[str, str]:
    direction = str(r.get("proxy_direction") or "")
    arrow = " (low)" if direction.startswith("lower") else " (high)" if direction else ""
    return {
        "method": str(r["method"]),
        "seeds": str(int(r["n_seeds"])),
        "test acc (%)": _acc(r),
        "regret": fmt_num(r["regret_mean"]),
        "labels": "-" if pd.isna(r["labels_used_mean"]) else f"{r['labels_used_mean']:,.0f}",
        "proxy score": fmt_num(r["proxy_score_mean"]) + arrow,
        "sim s": _seconds(r["simulated_seconds_mean"]),
        "wall s": _seconds(r["wall_seconds_mean"]),
        "cached": f"{100 * r['cached_share']:.0f}%" if pd.notna(r["cached_share"]) else "-",
    }


def _reference_row(r: pd.Series) -> dict[str, str]:
    """A committed track's row, in the store's columns (what it does not hold: -)."""
    return {
        "method": str(r["method"]),
        "seeds": str(int(r["n_seeds"])),
        "test acc (%)": f"{fmt_num(r['test_acc_mean'])} ± {fmt_num(r['test_acc_std'])}",
        "regret": fmt_num(r["regret_mean"]),
        "labels": f"{float(r['labels_used_mean']):,.0f}",
        "proxy score": "-",
        "sim s": "-",
        "wall s": "-",
        "cached": "-",
    }


def _table(
    rows: list[dict[str, str]], refs: list[dict[str, str]] | None = None, label: str = ""
) -> list[str]:
    """The store's rows; then, under a line saying what they are, the reference rows (the
    same columns and widths)."""
    refs = refs or []
    header = list(rows[0])
    widths = [max(len(h), *(len(r[h]) for r in [*rows, *refs])) for h in header]
    left = {"method"}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if h in left else c.rjust(w) for c, w, h in zip(cells, widths, header)
        ).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line([r[h] for h in header]) for r in rows]
    if refs:
        out += _wrap(label)
        out += [line([r[h] for h in header]) for r in refs]
    return out


def _wrap(text: str, width: int = WIDTH, indent: str = "") -> list[str]:
    import textwrap

    wrapped = textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ")
    return wrapped or [""]


def terminal_summary(summary: pd.DataFrame, contexts: list[BenchmarkContext] | None = None) -> str:
    """The summary frame (tables.SUMMARY_COLUMNS) as per-benchmark blocks with a legend.

    With `contexts` (`context.contexts(trials)`), each benchmark with a table shows its
    optimum, where the returned cells stand among the table's cells and the committed
    reference rows at the same budget (under the store's rows, labelled); the output ends with
    one reading per (benchmark, method)."""
    from harness.report.context import context_lines, readings

    by_bench = {c.benchmark: c for c in contexts or []}
    lines: list[str] = []
    for bench, g in summary.groupby("benchmark", sort=True):
        metric = "; ".join(sorted(set(g["report_metric"].astype(str))))
        search = "; ".join(sorted(set(g["search_metric"].astype(str))))
        lines += _wrap(f"{bench}: report metric {metric}")
        lines += _wrap(f"  search metric {search}")
        profiled = [
            f"{m} {p} profile" for m, p in zip(g["method"], g["proxy_profile"]) if pd.notna(p) and p
        ]
        if profiled:
            lines += _wrap(f"  proxies run at: {', '.join(profiled)}")
        ctx = by_bench.get(str(bench))
        refs = [] if ctx is None else [_reference_row(r) for _, r in ctx.reference.iterrows()]
        label = ""
        if refs and ctx is not None:
            tracks = " and ".join(sorted(set(ctx.reference["track"].astype(str))))
            budgets = ", ".join(str(t) for t in sorted(set(ctx.reference["trials"])))
            label = (
                f"reference rows, not run here: the committed {tracks} at {budgets} trials "
                "(results/reference/); never starred or tested with the rows above"
            )
        lines += _table([_row(r) for _, r in g.iterrows()], refs, label)
        for _, r in g[g["scale"] != "full"].iterrows():
            lines += _wrap(f"† {r['method']}: {r['scale']}, not the published setup")
        if ctx is not None:
            lines += [w for text in context_lines(ctx) for w in _wrap(text, indent="  ")]
        lines.append("")
    lines += _legend(summary)
    said = readings(list(by_bench.values()))
    if said:
        lines.append("")
        lines += [w for text in said for w in _wrap(f"Reading: {text}.")]
    return "\n".join(lines) + "\n"


def _legend(summary: pd.DataFrame) -> list[str]:
    directions = {
        str(p): str(d)
        for p, d in zip(summary["proxy"], summary["proxy_direction"])
        if pd.notna(d) and d
    }
    score = "; ".join(f"{p}: {d}" for p, d in sorted(directions.items()))
    text = [
        "test acc: report metric of the cell each run returned, mean ± sd over seeds; "
        + (
            "* best full-scale mean among the benchmark's methods"
            if summary["best"].any()
            else "no * (best) mark: it needs 2+ methods with full-scale results"
        )
        + "; † reduced scale (never marked best).",
        "proxy score: the returned cell's score under its method's own proxy, mean over "
        f"seeds ({score or 'no direction stored'}); not comparable across proxies.",
        "sim s: simulated training cost charged for every trial (a lookup's table time, a "
        "computed proxy's measured seconds); wall s: time spent here; cached: trials served "
        "from the store's evaluation cache (no wall time, still charged), so sim s can exceed "
        "wall s.",
        "Every column: --format md, csv or latex; every table and figure on one page: "
        "harness report --format html --out FILE.",
    ]
    return [line for t in text for line in _wrap(t)]
