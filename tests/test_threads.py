"""CPU threads are a proxy setting, so scores never depend on the machine's core count, and
`harness run` uses the cores through several runs at once with the trials of a serial run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.benchmarks import BENCHMARKS
from harness.executors import auto_workers, usable_cores
from harness.proxies import PROXIES, make_proxy
from harness.runner import make_plan
from harness.spaces import SPACES

BENCH = BENCHMARKS.get("nb201-cifar10")
CELL = SPACES.get("nb201").sample_unique(1, np.random.default_rng(3))[0]


def test_every_computed_builtin_proxy_has_a_threads_setting() -> None:
    for name in PROXIES.names():
        proxy = make_proxy(name)
        if PROXIES.origin(name) == "built-in" and not getattr(proxy, "needs_table", False):
            assert proxy.settings()["threads"] == 1, name


def test_thread_count_changes_a_trained_score_so_it_is_pinned() -> None:
    """The summation order moves the contrastive loss (why the setting exists) ..."""
    one = make_proxy("contrastive", profile="smoke", threads=1).evaluate(CELL, BENCH, 1)
    two = make_proxy("contrastive", profile="smoke", threads=2).evaluate(CELL, BENCH, 1)
    assert one.score != two.score
    assert (one.device, two.device) == ("cpu:1t", "cpu:2t")


def test_the_callers_thread_count_does_not_reach_the_score() -> None:
    """... and the caller's torch setting no longer does: same score, count restored."""
    proxy = make_proxy("contrastive", profile="smoke")
    before = torch.get_num_threads()
    scores = []
    try:
        for threads in (2, 1):
            torch.set_num_threads(threads)
            scores.append(proxy.evaluate(CELL, BENCH, 1).score)
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert scores[0] == scores[1]


def test_threads_setting_is_checked() -> None:
    from harness import HarnessError

    for name in ("contrastive", "naswot", "synflow", "params"):
        with pytest.raises(HarnessError, match="threads"):
            make_proxy(name, threads=0)


def test_auto_workers() -> None:
    cores = usable_cores()
    assert auto_workers(make_plan(["tpe", "rea"], ["nb201-cifar10"], seeds=5)) == 1
    csnas = make_plan(["csnas"], ["nb201-cifar10"], seeds=5)
    assert auto_workers(csnas) == min(cores, 5)
    one = make_plan(["csnas"], ["nb201-cifar10"], seeds=1)
    assert auto_workers(one) == 1


def local_naswot(**settings: object) -> object:
    return make_proxy("naswot", **settings)


def test_auto_workers_stays_serial_for_a_proxy_workers_cannot_build() -> None:
    """A proxy registered in this process only (no plugin) exists nowhere else."""
    from harness.methods import METHODS, Method

    name = "test-threads-local"
    PROXIES.register(name, local_naswot)
    METHODS.register(name, Method(name, "random", name, "test: a local proxy"))
    try:
        plan = make_plan([name], ["nb201-cifar10"], seeds=4)
        assert auto_workers(plan) == 1
    finally:
        METHODS.unregister(name)
        PROXIES.unregister(name)


def test_count_flops_of_a_linear_layer_forward_and_backward() -> None:
    """Linear(4 -> 3) on a batch of 2: forward 2*2*4*3 = 48 FLOPs; backward its input and
    weight gradients, 48 each."""
    from harness.bench.peak import count_flops, fraction_of_peak

    layer = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4, requires_grad=True)

    def step() -> None:
        layer(x).sum().backward()

    assert count_flops(lambda: layer(x)) == {"float32": 48}
    assert count_flops(step) == {"float32": 144}
    assert count_flops(lambda: layer.double()(x.double())) == {"float64": 48}
    peak = {"float32": {"peak": 2.0}, "float64": {"peak": 1.0}}
    # 4e9 float32 FLOPs take 2 s at the peak, 1e9 float64 ones 1 s: 3 s of 6 is half
    assert fraction_of_peak({"float32": 4 * 10**9, "float64": 10**9}, 6.0, peak) == 0.5
