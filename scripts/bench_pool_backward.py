"""Milliseconds of an average pool's input gradient: torch's NCHW backward against the one
`harness.spaces.layers.AvgPool2d` writes out (same bits), one thread, best of 20.

    python scripts/bench_pool_backward.py

Run it on a quiet machine (the figures in results/reference/zero_cost/speed.md came from it).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from harness.spaces.layers import AvgPool2d


def best_ms(pool: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> float:
    out = pool(x)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        torch.autograd.grad(out, x, grad, retain_graph=True)
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def main() -> None:
    torch.set_num_threads(1)
    kw = dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)
    for shape in [(64, 16, 32, 32), (64, 32, 16, 16), (64, 64, 8, 8)]:
        x = torch.randn(*shape, requires_grad=True)
        grad = torch.randn(*shape)
        theirs, ours = best_ms(nn.AvgPool2d(**kw), x, grad), best_ms(AvgPool2d(**kw), x, grad)
        print(f"3x3 avg pool backward {shape}: torch {theirs:.1f} ms, written out {ours:.1f} ms")


if __name__ == "__main__":
    main()
