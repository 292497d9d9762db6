"""Regression reference for the zero-cost proxies: scores of 20 seeded unique NB201 cells.

    python scripts/reference_zero_cost.py write   # (re)compute and commit the reference file
    python scripts/reference_zero_cost.py check   # recompute; exit 1 on any difference

Every proxy runs at a reduced scale (C=8, N=1; SWAP 4 repeats; other settings the proxy's
defaults) so the check takes seconds on a CPU; the settings are stored with each row and the
check recomputes with exactly those. One thread, CPU, proxy seed 0. `check` compares with a
relative tolerance of 1e-6 (absolute 1e-9) and names every row that differs.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from harness.benchmarks import BENCHMARKS
from harness.proxies import make_proxy
from harness.proxies.zero_cost import ZERO_COST
from harness.spaces import SPACES

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "results" / "reference" / "zero_cost" / "reference_scores.csv"
BENCHMARK = "nb201-cifar10"
N_CELLS, CELL_SEED, PROXY_SEED = 20, 0, 0
SCALE = {"scale": {"C": 8, "N": 1}}
EXTRA = {"swap": {"repeats": 4}}
FIELDS = ["proxy", "arch", "seed", "status", "score", "settings"]


def cells() -> list[str]:
    space = SPACES.get(BENCHMARKS.get(BENCHMARK).space)
    rng = np.random.default_rng(CELL_SEED)
    return [space.format(a) for a in space.sample_unique(N_CELLS, rng)]


def evaluate(proxy: str, arch: str, seed: int, settings: dict) -> tuple[str, float]:
    """One score on one CPU thread (thread count changes float summation order)."""
    bench = BENCHMARKS.get(BENCHMARK)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cell = SPACES.get(bench.space).parse(arch)
        ev = make_proxy(proxy, **settings).evaluate(cell, bench, seed)
    finally:
        torch.set_num_threads(threads)
    return ev.status, ev.score


def write(path: Path) -> None:
    rows = []
    for arch in cells():
        for proxy in ZERO_COST:
            settings = {**SCALE, **EXTRA.get(proxy, {})}
            status, score = evaluate(proxy, arch, PROXY_SEED, settings)
            rows.append(
                dict(
                    proxy=proxy,
                    arch=arch,
                    seed=PROXY_SEED,
                    status=status,
                    score=repr(score),
                    settings=json.dumps(settings, sort_keys=True),
                )
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} scores to {path}")


def check(path: Path, n_cells: int | None, rtol: float, atol: float) -> int:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if n_cells is not None:
        keep = list(dict.fromkeys(r["arch"] for r in rows))[:n_cells]
        rows = [r for r in rows if r["arch"] in keep]
    bad = 0
    for r in rows:
        status, score = evaluate(r["proxy"], r["arch"], int(r["seed"]), json.loads(r["settings"]))
        want = float(r["score"])
        same = status == r["status"] and (
            score == want or math.isclose(score, want, rel_tol=rtol, abs_tol=atol)
        )
        if not same:
            bad += 1
            print(f"DIFF {r['proxy']} {r['arch']}: {status} {score!r} != {r['status']} {want!r}")
    print(f"checked {len(rows)} scores: {bad} differ (rtol {rtol}, atol {atol})")
    return 1 if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("--file", type=Path, default=REFERENCE)
    parser.add_argument("--cells", type=int, default=None, help="check only the first N cells")
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--atol", type=float, default=1e-9)
    args = parser.parse_args()
    if args.action == "write":
        write(args.file)
    else:
        sys.exit(check(args.file, args.cells, args.rtol, args.atol))


if __name__ == "__main__":
    main()
