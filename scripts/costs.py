"""Where two costs quoted in the README go (figures printed, never asserted).

    python scripts/costs.py

- bo-gp: seconds in scikit-optimize's ask vs tell over 100 NB201 trials with random losses.
- NASWOT on the heaviest NB201 cell (all 3x3 convolutions, C=16, N=5, batch 128): the
  forward pass alone, forward + the harness's kernel (each shared input's part computed once),
  and forward + a kernel computed afresh at every matched module (one torch thread, best of 3).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

HEAVIEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|" + (
    "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)


def bo_gp_split(trials: int = 100) -> None:
    from harness.baselines.gp import gp_bayesopt
    from harness.spaces import SPACES

    strategy = gp_bayesopt(SPACES.get("nb201").param_space, 0)
    rng = np.random.default_rng(0)
    ask = tell = 0.0
    for _ in range(trials):
        t = time.perf_counter()
        suggestion = strategy.ask()
        ask += time.perf_counter() - t
        t = time.perf_counter()
        strategy.tell(suggestion.number, float(rng.random()))
        tell += time.perf_counter() - t
    print(f"bo-gp, {trials} trials: ask {ask:.1f} s, tell {tell:.1f} s")


def _best(fn: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _kernel_afresh(net: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """The kernel without reuse: every matched module computes its own part."""
    from harness.proxies.zero_cost.naswot import agreement_kernel, is_relu

    k = np.zeros((len(x), len(x)))

    def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], out: object) -> None:
        k[...] += agreement_kernel(inputs[0].reshape(len(x), -1) > 0).double().numpy()

    handles = [m.register_forward_hook(hook) for m in net.modules() if is_relu(m)]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    return k


def naswot_split() -> None:
    from harness.proxies.zero_cost.naswot import activation_kernel
    from harness.spaces import SPACES

    space = SPACES.get("nb201")
    net = space.network(space.parse(HEAVIEST), 10).train()
    x = torch.randn(128, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        forward = _best(lambda: net(x))
    reuse = _best(lambda: activation_kernel(net, x))
    afresh = _best(lambda: _kernel_afresh(net, x))
    print(
        f"naswot, heaviest cell: forward {forward:.2f} s, forward + kernel {reuse:.2f} s "
        f"(computed afresh at every module: {afresh:.2f} s)"
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    naswot_split()
    bo_gp_split()
