"""The search the budget ladder triggered, beside the label-free track (docs/findings/ladder.md).

    python scripts/ladder_search.py --storage sqlite:///results/ladder-search.db \
        [--track results/reference/proxy-track/trials.csv.gz] \
        [--out results/reference/ladder/search]

Reads the finished runs of the search (CSNAS's hyperopt TPE with the authors' pirl loss, read
out as its loss drop at the ladder's 10,000 image-epoch rung: 1,000 images x 10 epochs), keeps
one experiment per seed slot (the newest, as `harness report` does), names the method
`METHOD`, and writes beside the committed label-free track's NB201 CIFAR-10 rows:

- `trials.csv.gz`: the search's trials (every trial, as the track's file);
- `summary.{md,csv}`: each method's returned cell over the 10 seeds (the search and the
  track's methods on CIFAR-10);
- `compare.{md,csv}`: paired t-tests of the search against the two methods fixed before it
  ran (`csnas` at the `quick` profile, and `random` reading NB201's 12-epoch table), Holm over
  those two;
- `visited.csv`: per run, the Spearman of the loss drop with the table's validation accuracy
  over the distinct cells the run visited, the share of them worse than the returned cell,
  the best visited, and whether the returned cell leaves node 1 empty (`none` on edge 1<-0).

Lives outside the package: it reads this checkout's committed track.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pandas as pd

from harness.report.frame import one_identity
from harness.report.sections import report_tables
from harness.store import open_store

REPO = Path(__file__).resolve().parents[1]
TRACK = REPO / "results" / "reference" / "proxy-track" / "trials.csv.gz"
OUT = REPO / "results" / "reference" / "ladder" / "search"
BENCHMARK = "nb201-cifar10"
#: the search's name in the tables: CSNAS at the ladder rung that triggered it
METHOD = "csnas-10k-loss-drop"
#: the methods it is tested against, fixed on the ladder page before any result
VERSUS = ("csnas", "random")


def search_trials(storage: str) -> pd.DataFrame:
    """Every trial of the newest experiment's finished runs, with the file's dtypes."""
    store = open_store(storage, create=False)
    try:
        runs = [r for r in store.iter_runs(keys=("config",)) if r["status"] == "done"]
        frame = store.trials_frame([str(r["run_id"]) for r in runs])
    finally:
        store.close()
    frame["run_created"] = frame["run_id"].map({r["run_id"]: r["created"] for r in runs})
    kept, _ = one_identity(frame)
    kept = pd.read_csv(io.StringIO(kept.drop(columns="run_created").to_csv(index=False)))
    return kept.assign(method=METHOD)


def visited(search: pd.DataFrame) -> pd.DataFrame:
    """What each run saw: how the proxy ranked its own visited cells, and what it returned."""
    from scipy.stats import spearmanr

    rows = []
    for repetition, run in search[search["status"] == "ok"].groupby("repetition"):
        cells = run.drop_duplicates("arch_key")
        returned = cells.loc[cells["score"].idxmax()]
        rows.append(
            {
                "repetition": repetition,
                "distinct_cells": len(cells),
                "rho_visited": spearmanr(cells["score"], cells["truth"])[0],
                "returned_truth": returned["truth"],
                "share_visited_worse": float((cells["truth"] < returned["truth"]).mean()),
                "best_visited_truth": cells["truth"].max(),
                "returned_node1_empty": str(returned["arch"]).startswith("|none~0|"),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--track", type=Path, default=TRACK)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    search = search_trials(args.storage)
    track = pd.read_csv(args.track)
    track = track[track["benchmark"] == BENCHMARK]
    both = pd.concat([track, search], ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    search.to_csv(
        args.out / "trials.csv.gz", index=False, compression={"method": "gzip", "mtime": 0}
    )
    pinned = both[both["method"].isin((METHOD, *VERSUS))]
    for fmt in ("md", "csv"):
        summary = report_tables(both, fmt, versus=METHOD, which=("summary",))["summary"]
        (args.out / f"summary.{fmt}").write_text(summary)
        tests = report_tables(pinned, fmt, versus=METHOD, which=("compare",))["compare"]
        (args.out / f"compare.{fmt}").write_text(tests)
    visited(search).to_csv(args.out / "visited.csv", index=False, float_format="%.4f")
    runs = search.drop_duplicates("run_id")
    print(f"wrote {args.out}: {len(runs)} runs, {len(search)} trials of {METHOD}")


if __name__ == "__main__":
    main()
