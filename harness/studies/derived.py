"""Rankings the papers build from recorded numbers over a studied population of cells (not
per-trial scores): AZ-NAS's log-rank aggregate of its four components, and VKDNW's single and
aggregated rankings. Shared by the NB201 and DARTS studies."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DERIVED = ("az-nas:population", "vkdnw:single", "vkdnw:agg")


def wide_scores(cells: pd.DataFrame, names: list[str]) -> pd.DataFrame | None:
    """Seed-0 scores per cell (rows: arch) of the named proxies; a failed readout is -inf,
    as the authors' code turns a NaN component into -inf; None if one is missing."""
    part = cells[cells["proxy"].isin(names) & cells["seed"].eq(0)]
    if set(part["proxy"]) != set(names):
        return None
    score = part["score"].where(part["status"].eq("ok"), -math.inf)
    return part.assign(score=score).pivot_table(index="arch", columns="proxy", values="score")


def derived(cells: pd.DataFrame) -> pd.DataFrame:
    """Rankings the papers build from recorded numbers, over the studied cells:
    `az-nas:population` (AZ-NAS's log-rank aggregate of its four components over the cells,
    as their NB201 evaluation), `vkdnw:single` ((aleph, entropy) ranked lexicographically)
    and `vkdnw:agg` (log-rank aggregate of the entropy and AZ-NAS's four components)."""
    from harness.proxies.zero_cost.az_nas import COMPONENTS, population_log_rank

    az = [f"az-nas:{c}" for c in COMPONENTS]
    out = []

    def log_rank(wide: pd.DataFrame) -> np.ndarray:  # over every column the recipe needs
        return population_log_rank({k: wide[k].to_numpy() for k in wide.columns})

    recipes = {
        "az-nas:population": (az, log_rank),
        "vkdnw:single": (["vkdnw", "vkdnw:vkdnw_dim"], _lexicographic),
        "vkdnw:agg": ([*az, "vkdnw"], log_rank),
    }
    for name, (needs, make) in recipes.items():
        wide = wide_scores(cells, needs)
        if wide is None:
            continue
        wide = wide[needs]  # the recipe's column order: log_rank sums in it
        base = cells[cells["proxy"].eq(needs[0]) & cells["seed"].eq(0)].set_index("arch")
        rows = (
            base.loc[wide.index]
            .reset_index()
            .assign(proxy=name, score=make(wide), direction="maximize", status="ok", labels_used=0)
        )
        out.append(rows)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cells.columns)


def _lexicographic(wide: pd.DataFrame) -> np.ndarray:
    """aleph first, the entropy (< log 9, 9 deciles) breaking its ties."""
    return (wide["vkdnw:vkdnw_dim"] + wide["vkdnw"] / (math.log(9) * 1.001)).to_numpy()
