"""One self-contained HTML study page: every table and figure of the report, the manifests.

Tables come from `sections.report_sections` (the same frames as `harness report`), rendered
with pandas' Styler; figures from `figures.svg_figures` (the same drawing code as `harness
figures`), embedded as data-URI SVG images; the page is a Jinja2 template with inline CSS and
a few lines of inline JS (sortable columns). Nothing is fetched: no CDN, fonts or scripts,
and a Content-Security-Policy that forbids any request.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import __version__
from harness.report.frame import experiment_key, run_sizes
from harness.report.results import Results, results_of
from harness.report.sections import Section, report_sections

TEMPLATE = "study.html.j2"
#: each figure's caption in words (the page shows these, not the file names)
FIGURE_CAPTIONS: dict[str, str] = {
    "anytime_evaluations": "Anytime performance: the report metric of the cell each search "
    "would return after each trial (mean over seeds, 95% bootstrap band)",
    "anytime_simulated": "The same against the simulated training cost charged so far",
    "anytime_wall": "The same against the wall-clock seconds spent here",
    "anytime_regret": "Regret (the benchmark's optimum minus the returned cell's report "
    "metric) after each trial",
    "rank_vs_budget": "Each method's rank among the store's methods as the trial budget grows",
    "critical_difference": "Average ranks over benchmarks with the Nemenyi critical difference",
    "labels_vs_accuracy": "Labeled images each search used against the report metric it reached",
    "found_cells": "The cells the searches returned, operation by operation",
    "evaluation_curves": "Cells trained from scratch: test accuracy per epoch",
    "proxy_vs_truth": "Each proxy's score against the report metric over the study's cells",
    "contrastive_explained": "What the contrastive score measures, against the report metric",
}
#: the figure shown first, beside the reading
LEAD_FIGURE = "anytime_evaluations"


def _styled(frame: pd.DataFrame, uid: str) -> str:
    """A table as HTML via pandas' Styler: numbers formatted, reduced-scale rows tinted,
    the best full-scale mean in bold, text columns left-aligned; ids fixed (reproducible)."""
    drop = ("best", "search_metric", "report_metric")  # metrics: in the caption
    view = frame.drop(columns=[c for c in drop if c in frame.columns])
    empty = [c for c in view.columns if view[c].isna().all() or view[c].astype(str).eq("").all()]
    view = view.drop(columns=empty)  # no value in any row (every column: --format csv)
    text = [c for c in view.columns if not pd.api.types.is_numeric_dtype(view[c])]
    long = [c for c in text if view[c].astype(str).str.len().max() > 40]
    styler = view.style.set_uuid(uid).hide(axis="index")
    styler = styler.format(precision=2, na_rep="-", thousands=",")
    styler = styler.format(_p, subset=[c for c in ("p", "p_holm", "friedman_p") if c in view])
    styler = styler.set_table_attributes('class="report"')  # id: T_<uid>
    styler = styler.set_properties(subset=text, **{"text-align": "left", "white-space": "normal"})
    wrap = {"white-space": "normal", "overflow-wrap": "anywhere", "min-width": "16rem"}
    styler = styler.set_properties(subset=long, **wrap)
    styler = styler.format_index(lambda c: str(c).replace("_", " "), axis=1)  # headers wrap
    if "scale" in view.columns:
        reduced = view["scale"].astype(str).ne("full").to_numpy()
        styler = styler.apply(lambda _: np.where(reduced, "background-color: #fdf0f0", ""), axis=0)
    if "best" in frame.columns and "test_acc_mean" in view.columns:
        best = frame["best"].to_numpy(dtype=bool)
        styler = styler.apply(
            lambda _: np.where(best, "font-weight: 700", ""), axis=0, subset=["test_acc_mean"]
        )
    return styler.to_html()


def _p(v: object) -> str:
    from harness.report.render import fmt_p

    return fmt_p(v)


#: the most rows a table shows, and manifests of trained cells the page holds: tables with
#: a row per run or per cell would grow the page with the store; the rest are one command away
PAGE_ROWS = 200
#: the command that gives each table's rows in full
_FULL = "harness report --table {name} --format csv"


def _section(s: Section) -> dict[str, Any]:
    frame, caption = s.frame, s.caption
    if frame is not None and len(frame) > PAGE_ROWS:
        caption += (
            f"\nThe first {PAGE_ROWS} of {len(frame):,} rows; every row: "
            f"{_FULL.format(name=s.name)}."
        )
        frame = frame.head(PAGE_ROWS)
    html = _styled(frame, s.name) if frame is not None and len(frame) else None
    reason = s.reason or ("no rows" if html is None else None)
    return {"id": s.name, "title": s.title, "caption": caption, "html": html, "reason": reason}


def _proxy_study(cells: pd.DataFrame | None) -> Section | None:
    """The `harness correlate` study as a table: Spearman of score and truth per proxy."""
    need = {"proxy", "score", "truth", "direction"}
    if cells is None or not need <= set(cells.columns):
        return None
    rows = []
    for (bench, proxy), g in cells.groupby(["benchmark", "proxy"], sort=True):
        g = g.dropna(subset=["score", "truth"])
        sign = -1.0 if (g["direction"] == "minimize").all() else 1.0
        rho = (sign * g["score"]).corr(g["truth"], method="spearman") if len(g) > 2 else None
        rows.append({"benchmark": bench, "proxy": proxy, "cells": len(g), "spearman": rho})
    cap = "Spearman of the oriented proxy score with the truth (> 0: better score, better cell)"
    return Section("proxy_study", "Proxy study (harness correlate)", pd.DataFrame(rows), cap)


#: the narrowest a figure is drawn (CSS px): a one-panel figure is about 400 px at its
#: natural size, too small to read on a wide page; wider figures keep theirs, within the page
MIN_FIGURE_PX = 760
#: and at least this tall where the page is wide enough (a one-panel figure under a long
#: title is wide but short: its panel stays small at the natural width)
MIN_FIGURE_HEIGHT_PX = 560


def _natural_px(svg: str, attr: str = "width") -> float | None:
    """The SVG's width or height in CSS px (matplotlib writes them in pt)."""
    import re

    m = re.search(rf'<svg[^>]*\s{attr}="([0-9.]+)(pt|px)?"', svg)
    if m is None:
        return None
    return float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1.0)


def _width_px(svg: str) -> int:
    w, h = _natural_px(svg), _natural_px(svg, "height")
    if w is None or h is None:
        return MIN_FIGURE_PX
    return round(max(MIN_FIGURE_PX, w, w * MIN_FIGURE_HEIGHT_PX / h))


def _img(svg: str, name: str) -> str:
    data = base64.b64encode(svg.encode()).decode()
    alt = FIGURE_CAPTIONS.get(name, name.replace("_", " "))
    width = _width_px(svg)
    return (
        f'<img alt="{alt}" style="width: min(100%, {width}px)" '
        f'src="data:image/svg+xml;base64,{data}">'
    )


def _figure(name: str, svg: str) -> dict[str, str]:
    return {
        "name": name,
        "svg": _img(svg, name),
        "caption": FIGURE_CAPTIONS.get(name, name.replace("_", " ")),
    }


def _repetitions(reps: list[int]) -> str:
    """0-4, 7, 9-10: a run count's seed indices in a line whatever their number."""
    spans: list[list[int]] = []
    for r in sorted(set(reps)):
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans[:12])
    return text + (f", ... ({len(spans) - 12} more spans)" if len(spans) > 12 else "")


def _manifests(results: Results) -> list[dict[str, str]]:
    """One manifest per experiment (its runs differ only in the seed index, which the label
    lists): the page stays the same size whatever the seeds; every run's manifest is in
    `harness export --manifests`."""
    out = []
    members = results.runs.members if results.runs is not None else {}
    for m in results.manifests:
        c = m.get("config", {})
        key = experiment_key(c) if isinstance(c, dict) and c else f"run:{m.get('run_id')}"
        reps = members.get(key, [c.get("repetition")])
        label = (
            f"run {m.get('run_id')}: {c.get('method')} on {c.get('benchmark')}, "
            f"repetition {c.get('repetition')}"
            if len(reps) == 1
            else f"{c.get('method')} on {c.get('benchmark')}: {len(reps)} runs, repetitions "
            f"{_repetitions(reps)}; shown: run {m.get('run_id')} (the others differ in "
            "repetition and seeds)"
        )
        out.append({"label": label, "json": json.dumps(m, indent=1, sort_keys=True, default=str)})
    if results.runs is not None and results.runs.n_experiments > len(results.manifests):
        label = (
            f"{results.runs.n_experiments - len(results.manifests):,} more experiments: "
            "harness export --manifests"
        )
        out.append({"label": label, "json": ""})
    for e in results.evaluations.head(PAGE_ROWS).itertuples():
        label = f"evaluation {e.eval_id}: {e.protocol} on {e.benchmark} ({e.scale})"
        body = json.dumps(getattr(e, "manifest", None) or {}, indent=1, sort_keys=True)
        out.append({"label": label, "json": body})
    return out


def _plan(results: Results) -> str:
    """What was run: from the trials (methods x benchmarks x seeds) and the manifests."""
    t = results.trials
    if len(t) == 0:
        return f"no search runs; {len(results.evaluations)} cell evaluation(s)"
    seeds = sorted(
        results.runs.master_seeds
        if results.runs is not None
        else {str(m.get("config", {}).get("master_seed")) for m in results.manifests}
    )
    trials = run_sizes(t)
    return (
        f"{t['run_id'].nunique()} run(s): {', '.join(sorted(map(str, t['method'].unique())))}"
        f" x {', '.join(sorted(map(str, t['benchmark'].unique())))}"
        f" x {t['repetition'].nunique()} seed(s), {trials.min()}-{trials.max()} trials per run"
        + (f"; master seed {', '.join(seeds)}" if seeds else "")
    )


def study_page(
    source: str | pd.DataFrame | Results,
    *,
    versus: str | None = None,
    seed: int = 0,
    run_ids: list[str] | None = None,
    correlate: pd.DataFrame | None = None,
    title: str = "NAS study report",
    plan: str | None = None,
) -> str:
    """The whole page as one HTML string (write it with `write_page`)."""
    import jinja2

    results = results_of(source)
    report = report_sections(results, "html", versus=versus, seed=seed, run_ids=run_ids)
    sections = [_section(s) for s in report.sections]
    study = _proxy_study(correlate)
    if study is not None:
        sections.append(_section(study))
    from harness.report.figures import svg_figures

    trials = results.trials if len(results.trials) else None
    drawn = svg_figures(trials, correlate, seed, results.evaluations)
    figures = [_figure(n, svg) for n, svg, _ in drawn if svg is not None]
    lead = [f for f in figures if f["name"] == LEAD_FIGURE]
    figures = [f for f in figures if f["name"] != LEAD_FIGURE]
    declined = [(FIGURE_CAPTIONS.get(n, n), why) for n, svg, why in drawn if svg is None]
    reading: list[str] = []
    if trials is not None:
        from harness.report.context import contexts, readings
        from harness.report.frame import one_identity

        ctxs = contexts(one_identity(trials, run_ids)[0])
        reading = readings(ctxs) + [str(c.reason) for c in ctxs if c.reason]
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
    )
    meta = [
        ("store", results.source),
        ("plan", plan or _plan(results)),
        ("harness", __version__),
    ]
    return env.get_template(TEMPLATE).render(
        title=title,
        meta=meta,
        notes=report.notes,
        sections=sections,
        reading=reading,
        lead=lead,
        figures=figures,
        declined=declined,
        manifests=_manifests(results),
    )


def write_page(source: str | pd.DataFrame | Results, out: str | Path, **options: Any) -> Path:
    """Write the study page to `out`; returns the path."""
    from harness.files import write_text

    return write_text(out, study_page(source, **options))


def write_reference_page(folder: str | Path) -> Path:
    """`folder`/report.html for a committed reference experiment, from its trials.csv.gz and
    experiment.json alone (no store: `harness reference write` calls this after writing
    them). Returns the page's path."""
    folder = Path(folder)
    frame = pd.read_csv(folder / "trials.csv.gz")
    experiment = json.loads((folder / "experiment.json").read_text())
    plan = (
        f"{', '.join(experiment['methods'])} x {', '.join(experiment['benchmarks'])} x "
        f"{experiment['seeds']} seeds x {experiment['trials']} trials; master seed "
        f"{experiment['master_seed']} (experiment.json)"
    )
    results = Results(frame, source=f"{folder.name}/trials.csv.gz")
    return write_page(
        results, folder / "report.html", plan=plan, title="Reference experiment (lookup track)"
    )
