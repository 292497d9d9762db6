"""Results to files: the report text (or HTML page) and the figures, for the CLI and the API.

The one path behind `harness report`/`harness figures` and `harness.api.report()`/`figures()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError
from harness.files import writable_dir, write_text
from harness.store.base import redact

if TYPE_CHECKING:
    import pandas as pd

    from harness.report.results import Results


def load_trials(storage: str) -> pd.DataFrame:
    """The store's long-format trials frame (evaluations attached); none is a user error."""
    results = load_results(storage)
    if len(results.trials) == 0:
        raise HarnessError(
            f"no trials in {redact(storage)}: run `harness run` first"
            + (
                f" ({len(results.evaluations)} cell evaluation(s) stored: `harness report`)"
                if len(results.evaluations)
                else ""
            )
        )
    return results.trials


def load_results(storage: str, run_ids: list[str] | None = None) -> Results:
    """Trials, cell evaluations and manifests; a store holding neither is one error line."""
    from harness.report.results import load, results_of

    return results_of(load(storage, run_ids))


def write_report(
    trials: pd.DataFrame | Results,
    fmt: str = "table",
    *,
    versus: str | None = None,
    table: str = "all",
    out: str | Path | None = None,
    seed: int = 0,
    run_ids: list[str] | None = None,
    correlate: str | Path | None = None,
) -> str:
    """Render the requested tables (or, for html, the whole page); write them to `out` if
    given. Returns the text. The one path behind `harness report` and `harness.report()`."""
    from harness.report.results import results_of
    from harness.report.sections import report_text

    results = results_of(trials)
    which = None if table == "all" else (table,)
    if fmt == "html":
        from harness.report.html import study_page

        text = study_page(
            results, versus=versus, seed=seed, run_ids=run_ids, correlate=_cells(correlate)
        )
    else:
        text = report_text(results, fmt, versus=versus, seed=seed, which=which, run_ids=run_ids)
    if out is not None:
        write_text(out, text)
    return text


def _cells(correlate: str | Path | None) -> pd.DataFrame | None:
    if correlate is None:
        return None
    try:
        import pandas as pd

        return pd.read_csv(correlate)
    except (OSError, ValueError) as err:
        raise HarnessError(f"cannot read correlate CSV {correlate}: {err}") from None


def write_figures(
    trials: pd.DataFrame,
    out: str | Path,
    *,
    correlate: str | Path | None = None,
    seed: int = 0,
    dpi: int = 150,
    evaluations: pd.DataFrame | None = None,
    skipped: list[Any] | None = None,
) -> list[Path]:
    from harness.report.figures import make_figures

    cells = _cells(correlate)
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 2400:
        raise HarnessError(f"--dpi must be between 10 and 2400, got {dpi!r}")
    writable_dir(out, "--out")
    return make_figures(
        trials,
        out,
        correlate_cells=cells,
        seed=seed,
        dpi=dpi,
        evaluations=evaluations,
        skipped=skipped,
    )
