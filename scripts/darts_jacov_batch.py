"""jacov on NB301 cells at NASLib's batch 32 against the committed batch-64 scores and NASLib's.

    python scripts/darts_jacov_batch.py [--cells 30] [--naslib FILE]

The first N of the 100 seeded NASLib cells of `harness study darts naslib-scores`, proxy seed
0, one thread. Prints the mean score (scale check against NASLib's) and three Spearman rhos:
batch 32 vs NASLib, batch 64 (committed) vs NASLib, batch 32 vs batch 64. The figures quoted
in results/reference/darts/zero_cost/README.md came from `--cells 30`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from scipy import stats

from harness.benchmarks import BENCHMARKS
from harness.proxies import make_proxy
from harness.spaces import SPACES
from harness.studies.darts import NASLIB_SCORES, naslib_cells, study_dir

REPO = Path(__file__).resolve().parents[1]
#: the project's shared data beside the checkout
NASLIB = REPO.parent / "shared" / "data" / "darts" / "naslib_nb301_zc.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=30)
    parser.add_argument("--naslib", type=Path, default=NASLIB, help="naslib_nb301_zc.csv.gz")
    args = parser.parse_args()
    n = args.cells
    bench = BENCHMARKS.get("darts-cifar10")
    space = SPACES.get(bench.space)
    proxy = make_proxy("jacov", batch_size=32, threads=1)
    committed = pd.read_csv(study_dir(REPO) / NASLIB_SCORES)
    b64 = committed[committed.proxy == "jacov"].set_index("naslib_idx")["score"]
    rows = [
        (proxy.evaluate(space.parse(r.genotype), bench, 0).score, r.naslib_jacov, b64[r.naslib_idx])
        for r in naslib_cells(args.naslib, 100).iloc[:n].itertuples()
    ]
    d = pd.DataFrame(rows, columns=["b32", "naslib", "b64"])
    print(f"cells {len(d)}: mean batch-32 {d.b32.mean():.3f}, NASLib {d.naslib.mean():.3f}")
    for a, b in (("b32", "naslib"), ("b64", "naslib"), ("b32", "b64")):
        print(f"spearman {a} vs {b}: {stats.spearmanr(d[a], d[b]).statistic:.2f}")


if __name__ == "__main__":
    main()
