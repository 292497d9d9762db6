"""`conv-path`: how many convolutions the deepest path of an NB201 cell goes through.

A label-free, data-free structural proxy: deeper stacks of parameterised ops tend to train to
higher accuracy on NB201 (a known, weak signal). A 3x3 conv counts 1, a 1x1 conv 0.5; `none`
edges cut a path; skip and pooling edges pass through at no credit. Ties are what they are:
the search breaks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import HarnessError
from harness.proxies import Evaluation

WEIGHT = {"nor_conv_3x3": 1.0, "nor_conv_1x1": 0.5, "skip_connect": 0.0, "avg_pool_3x3": 0.0}


@dataclass
class ConvPath:
    name: str = "conv-path"
    direction: str = "maximize"
    deterministic: bool = True  # a pure function of the cell: no cache needed
    needs_table: bool = False

    def settings(self) -> dict[str, Any]:
        return {}

    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation:
        if benchmark.space != "nb201":
            raise HarnessError(f"conv-path scores NB201 cells, not {benchmark.space}")
        best = {0: 0.0}  # node -> best conv credit of a path from the input to it
        for node in (1, 2, 3):
            reach = [
                best[src] + WEIGHT[op]
                for op, src in arch.node_inputs(node)
                if op != "none" and src in best
            ]
            if reach:
                best[node] = max(reach)
        score = best.get(3, -1.0)  # -1: the output is cut off from the input
        return Evaluation(score=score, direction="maximize", labels_used=0, device="cpu")


def conv_path(**settings: Any) -> ConvPath:
    if settings:
        raise HarnessError(f"proxy conv-path has no settings, got {sorted(settings)}")
    return ConvPath()
