"""mylab-nas's proxies and strategy through the harness's conformance kit.

Run them with `python -m pytest examples/mylab-nas/tests` after `pip install -e
examples/mylab-nas` (the kit needs pytest: `pip install "csnas-harness[dev]"`); without
installing, put `examples/mylab-nas` on PYTHONPATH: each case names the plugin module, so
the kit imports it either way.
"""

from __future__ import annotations

from harness.testing import ProxyCase, ProxyConformance, StrategyCase, StrategyConformance

PLUGIN = ("mylab_nas",)


class TestHillClimb(StrategyConformance):
    # start=3: the failure and pending checks reach the hill-climbing steps within 3 trials
    case = StrategyCase("mylab-hillclimb", short_startup={"start": 3}, plugins=PLUGIN)


class TestConvPath(ProxyConformance):
    case = ProxyCase("conv-path", cells=10, plugins=PLUGIN)


class TestLogitSpread(ProxyConformance):
    # a narrow, shallow NB201 network and 16 images keep each evaluation to milliseconds
    case = ProxyCase(
        "logit-spread", settings={"scale": {"C": 4, "N": 1}, "batch_size": 16}, plugins=PLUGIN
    )


class TestLogitSpreadOnDarts(ProxyConformance):
    # built on the space's network builder, so it scores DARTS cells too
    case = ProxyCase(
        "logit-spread",
        settings={"scale": {"C": 4, "layers": 2}, "batch_size": 8},
        benchmark="darts-cifar10",
        cells=2,
        fresh_process=False,  # the NB201 case checks the same code in a fresh process
        plugins=PLUGIN,
    )
