"""`harness export`: the store's trials, trained cells, their curves or manifests as text,
produced a batch of runs at a time, so an export of millions of trials holds one batch.

The text is the same as rendering the whole frame at once: CSV has one header, JSON one array
(tests/test_report_scale.py compares them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd

from harness.report.results import (
    attach_evaluations,
    evaluation_curves,
    evaluations_frame,
    run_index,
)
from harness.store.base import Store


def _json_records(frames: Iterator[pd.DataFrame]) -> Iterator[str]:
    """`DataFrame.to_json(orient="records", indent=1)` of the frames' concatenation."""
    first = True
    for frame in frames:
        body = frame.to_json(orient="records", indent=1)
        inner = body[1:-1].strip("\n")  # "[\n {...},\n {...}\n]" -> " {...},\n {...}"
        if not inner:
            continue
        yield ("[\n" if first else ",\n") + inner
        first = False
    yield "[]" if first else "\n]"


def _csv(frames: Iterator[pd.DataFrame]) -> Iterator[str]:
    header = True
    for frame in frames:
        yield frame.to_csv(index=False, header=header)
        header = False
    if header:  # no rows at all: what an empty frame writes
        yield pd.DataFrame().to_csv(index=False)


def trial_frames(store: Store) -> Iterator[pd.DataFrame]:
    """Every trial row with its run's trained cell attached, a batch of runs at a time."""
    index = run_index(store.iter_runs(keys=("config",)))
    evaluations = evaluations_frame(store.cell_evaluations())
    for frame in store.iter_trials_frames():
        yield attach_evaluations(frame, evaluations, index)


def manifest_chunks(store: Store) -> Iterator[str]:
    """Every run's manifest as one JSON array (`json.dumps(list, indent=1, sort_keys=True)`)."""
    first = True
    for run in store.iter_runs():
        text = json.dumps(run["manifest"], indent=1, sort_keys=True, default=str)
        yield ("[\n" if first else ",\n") + "\n".join(" " + line for line in text.split("\n"))
        first = False
    yield "[]" if first else "\n]"


def export_chunks(store: Store, fmt: str, what: str) -> Iterator[str]:
    """The text of `harness export` (`what`: trials, evaluations, curves, manifests)."""
    if what == "manifests":
        yield from manifest_chunks(store)
        return
    if what == "trials":
        frames: Iterator[pd.DataFrame] = trial_frames(store)
    else:
        evaluations = evaluations_frame(store.cell_evaluations())
        if what == "curves":
            frame = evaluation_curves(evaluations)
        else:
            frame = evaluations.drop(columns=["created"], errors="ignore")
            if fmt == "csv":
                # nested (--curves, json); absent when the store holds no trained cell
                frame = frame.drop(columns=["curve", "manifest"], errors="ignore")
        frames = iter([frame])
    yield from (_csv(frames) if fmt == "csv" else _json_records(frames))
