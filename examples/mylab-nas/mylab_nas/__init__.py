"""mylab-nas: an example plugin for csnas-harness.

Importing this module registers, with the harness's public registries:
- the proxy `conv-path` (label-free, no data: the conv ops on the cell's deepest path),
- the proxy `logit-spread` (label-free, torch: the spread of an untrained network's logits
  over a seeded batch, built on `harness.contracts.ZeroCostProxy`),
- the strategy `mylab-hillclimb` (seeded first-improvement hill climbing),
- the methods `conv-path-rea` (regularised evolution on conv-path) and `conv-path-ls`.

Installed (`pip install -e examples/mylab-nas`) it loads through its entry point; without
installing, `harness --plugin mylab_nas ...` with the folder on PYTHONPATH does the same.
`tests/` runs each proxy and the strategy through the conformance kit (`harness.testing`).
"""

from __future__ import annotations

from typing import Any

from harness.methods import METHODS, Method
from harness.proxies import PROXIES
from harness.strategies import STRATEGIES
from mylab_nas.proxy import conv_path
from mylab_nas.strategy import hill_climb


def logit_spread(**overrides: Any) -> Any:
    """`logit-spread`'s factory, importing torch only when the proxy is built: the harness
    imports every plugin on first use of a registry, table-lookup runs included."""
    from mylab_nas.logit_spread import logit_spread as factory

    return factory(**overrides)


PROXIES.register("conv-path", conv_path, tags=("label-free",))
PROXIES.register("logit-spread", logit_spread, tags=("label-free",))
STRATEGIES.register("mylab-hillclimb", hill_climb)
METHODS.register(
    "conv-path-rea",
    Method("conv-path-rea", "rea", "conv-path", "regularised evolution on mylab's conv-path"),
)
METHODS.register(
    "conv-path-ls",
    Method("conv-path-ls", "mylab-hillclimb", "conv-path", "mylab's hill climbing on conv-path"),
)
