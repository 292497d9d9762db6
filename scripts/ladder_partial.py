"""How much of a ladder readout's ranking is network size: per proxy readout at one rung, its
Spearman rho with the truth, with the parameter count, and its partial Spearman with the truth
given the parameter count.

    python scripts/ladder_partial.py [--cells results/reference/ladder/cpu/cells.csv.gz]
        [--rung 5000x10] [--out FILE.csv]

Reads the committed `cells.csv.gz` of `harness study ladder write` (its `params` and
`lookup-12` rows give the parameter count and the truth of each cell). Scores are seed means,
oriented so that positive means "better score, better cell" as in `summary.csv`; the partial
coefficient is (r_st - r_sp r_tp) / sqrt((1 - r_sp^2)(1 - r_tp^2)) of the three Spearman
coefficients (s readout, t truth, p parameters). No intervals: `summary.csv` has them for rho.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr


def partial_table(cells: pd.DataFrame, rung: str) -> pd.DataFrame:
    params = cells[cells.proxy == "params"].set_index("arch").score
    truth = cells[cells.proxy == "lookup-12"].set_index("arch").truth
    tp = float(spearmanr(truth, params[truth.index])[0])
    rows = []
    for proxy, group in cells[cells.rung == rung].groupby("proxy"):
        score = group.groupby("arch").score.mean()
        if group.direction.iloc[0] == "minimize":
            score = -score
        st = float(spearmanr(score, truth[score.index])[0])
        sp = float(spearmanr(score, params[score.index])[0])
        partial = (st - sp * tp) / math.sqrt((1 - sp**2) * (1 - tp**2))
        rows.append(dict(proxy=proxy, rung=rung, cells=len(score), rho_truth=st,
                         rho_params=sp, partial_rho_given_params=partial))  # fmt: skip
    return pd.DataFrame(rows).round(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=Path,
                        default=Path("results/reference/ladder/cpu/cells.csv.gz"))  # fmt: skip
    parser.add_argument("--rung", default="5000x10")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    table = partial_table(pd.read_csv(args.cells), args.rung)
    if table.empty:
        raise SystemExit(f"--rung {args.rung!r}: no rows of that rung in {args.cells}")
    print(table.to_string(index=False))
    if args.out is not None:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
