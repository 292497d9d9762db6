"""What a proxy asks of the CPU, against what the CPU can do (`harness bench zero-cost`).

`count_flops` runs one evaluation under a dispatch mode that adds up the floating-point
operations of every convolution and matrix product it executes, forward and backward (torch's
own per-op formulas, `torch.utils.flop_counter.flop_registry`; 1 multiply-accumulate = 2
FLOPs), split by dtype. Element-wise work (BatchNorm, ReLU), eigen-decompositions and the
Python around them are not counted: they are what separates a proxy from its floor.

`measured_peak` times large matrix products and a large 3x3 convolution on the same torch
build and thread count: the best of them is the peak a proxy's count is held against, per
dtype (synflow runs in float64, the others in float32).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry


class DtypeFlops(TorchDispatchMode):
    """Counts registered ops' FLOPs by the dtype of their first tensor argument."""

    def __init__(self) -> None:
        super().__init__()
        self.flops: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        if packet in flop_registry:
            tensor = next((a for a in args if isinstance(a, torch.Tensor)), None)
            dtype = str(tensor.dtype).removeprefix("torch.") if tensor is not None else "?"
            self.flops[dtype] += int(flop_registry[packet](*args, **kwargs, out_val=out))
        return out


def count_flops(run: Callable[[], Any]) -> dict[str, int]:
    """FLOPs by dtype of the convolutions and matrix products `run()` executes."""
    mode = DtypeFlops()
    with mode:
        run()
    return dict(mode.flops)


def _best_rate(op: Callable[[], Any], flops: float, repeats: int) -> float:
    op()  # warm-up: kernel selection, allocation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        op()
        times.append(time.perf_counter() - t0)
    return flops / min(times)


def measured_peak(threads: int, repeats: int = 5) -> dict[str, dict[str, float]]:
    """GFLOP/s of a 1024^3 matrix product and of a 3x3 convolution (batch 64, 64 -> 64
    channels, 32x32, the size of NB201's middle stage) per dtype, at `threads` threads; 'peak'
    is the best of them."""
    from harness.proxies.training import cpu_threads

    out: dict[str, dict[str, float]] = {}
    gen = torch.Generator().manual_seed(0)
    with cpu_threads(threads), torch.no_grad():
        for dtype in (torch.float32, torch.float64):
            a = torch.randn(1024, 1024, generator=gen, dtype=dtype)
            x = torch.randn(64, 64, 32, 32, generator=gen, dtype=dtype)
            w = torch.randn(64, 64, 3, 3, generator=gen, dtype=dtype)
            conv_flops = 2.0 * 64 * 64 * 32 * 32 * 64 * 9
            rates = {
                "matmul": _best_rate(partial(torch.mm, a, a), 2.0 * 1024**3, repeats),
                "conv3x3": _best_rate(
                    partial(torch.nn.functional.conv2d, x, w, padding=1), conv_flops, repeats
                ),
            }
            rates = {k: v / 1e9 for k, v in rates.items()}
            rates["peak"] = max(rates.values())
            out[str(dtype).removeprefix("torch.")] = rates
    return out


def fraction_of_peak(
    flops: dict[str, int], seconds: float, peak: dict[str, dict[str, float]]
) -> float:
    """The share of the peak this many FLOPs in `seconds` would reach: the time the counted
    work needs at the peak of its dtype, over the time taken."""
    floor = sum(n / (peak[d]["peak"] * 1e9) for d, n in flops.items() if d in peak)
    return floor / seconds if seconds > 0 else float("nan")
