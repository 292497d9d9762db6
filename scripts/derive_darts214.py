"""Build `harness/assets/darts214.npz` (the DARTS-space truth) from `../shared/data/darts/`.

    python scripts/derive_darts214.py [--src ../shared/data/darts]

Reads Yang et al. 2020's 214 cells (`yang2020_darts214.csv`: genotype, final-epoch test
accuracy), their 24 seed pairs and 32 depth pairs, checks that every genotype parses and that
the canonical keys are distinct, and writes one compressed npz with no pickled objects:
`genotype` (<U, DARTS text form as the source writes it), `key` (the harness's canonical
key), `test_acc_final` (float64, %), `index` (int32, the source's row), `seed_pairs`
(24 x 2) and `depth_pairs` (32 x 2: 8 cells, 20 cells), plus `source_sha256` (the four
source files' sha256, in the order of SOURCE_FILES).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SRC = REPO.parent / "shared" / "data" / "darts"
OUT = REPO / "harness" / "assets" / "darts214.npz"
SOURCE_FILES = (
    "yang2020_darts214.csv",
    "yang2020_seed_pairs.csv",
    "yang2020_depth_pairs.csv",
    "SOURCES.json",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(src: Path) -> dict[str, np.ndarray]:
    from harness.spaces import SPACES

    space = SPACES.get("darts")
    cells = pd.read_csv(src / "yang2020_darts214.csv").sort_values("index")
    keys = [space.canonical_key(space.parse(g)) for g in cells["genotype"]]
    if len(set(keys)) != len(keys):
        raise SystemExit(f"{len(keys) - len(set(keys))} canonical keys repeat")
    seeds = pd.read_csv(src / "yang2020_seed_pairs.csv").sort_values("pair")
    depth = pd.read_csv(src / "yang2020_depth_pairs.csv").sort_values("pair")
    return {
        "genotype": np.array(cells["genotype"].tolist()),
        "key": np.array(keys),
        "test_acc_final": cells["test_acc_final"].to_numpy(np.float64),
        "index": cells["index"].to_numpy(np.int32),
        "seed_pairs": seeds[["seed_a", "seed_b"]].to_numpy(np.float64),
        "depth_pairs": depth[["cells_8", "cells_20"]].to_numpy(np.float64),
        "source_sha256": np.array([sha256(src / f) for f in SOURCE_FILES]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(SRC))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    arrays = build(Path(args.src))
    np.savez_compressed(args.out, allow_pickle=False, **arrays)
    print(f"wrote {args.out}: {len(arrays['key'])} cells, sha256 {sha256(Path(args.out))}")


if __name__ == "__main__":
    main()
