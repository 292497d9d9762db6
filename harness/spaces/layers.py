"""Pooling layers shared by the spaces' networks: the same numbers, a faster CPU kernel.

On this torch build (2.13, CPU), 3x3 pooling of a contiguous NCHW tensor runs a scalar kernel
that is 6-12x slower than the vectorised channels-last one (max pool 86 ms against 7 ms, avg
pool 28 ms against 4 ms, batch 64, 32 channels, 32x32, one thread). These subclasses pool an
NCHW input in channels-last and hand back NCHW: the output is bit-identical (checked on
random inputs, `tests/test_layers.py`, and on all 240 zero-cost reference scores), only
faster, even counting the two copies.
A channels-last input (the trained proxies' networks) takes the plain path.

A pass that will be differentiated keeps torch's own arithmetic too: torch's channels-last
backward moved gradient proxies' scores (below), so the two average pools of the spaces
(3x3, stride 1, padding 1, padding not counted; 2x2, stride 2) get their backward written out
instead: the NCHW kernel adds grad / (window size) of each output, in raster order, into
every input of its window, which for these shapes is a sum pool of grad / (window size) over
the same window, and torch's channels-last forward kernel sums a window in the same raster
order. Bit-identical gradients (`tests/test_layers.py`, and the 240 zero-cost reference
scores, gradient proxies included), and faster (`python scripts/bench_pool_backward.py`
prints torch's and this backward's milliseconds). Other shapes take the plain path.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

CHANNELS_LAST = torch.channels_last


def _differentiated(x: torch.Tensor) -> bool:
    return x.requires_grad and torch.is_grad_enabled()


def _nchw_cpu(x: torch.Tensor) -> bool:
    try:
        return (
            x.dim() == 4
            and x.device.type == "cpu"
            and x.is_contiguous()
            and not x.is_contiguous(memory_format=CHANNELS_LAST)
        )
    except RuntimeError:  # inside torch.func's vmap a tensor has no memory format to ask
        return False


def _nchw_on_cpu(x: torch.Tensor) -> bool:
    """A CPU NCHW input that no gradient will flow back through: with torch's channels-last
    kernel in a differentiated pass, jacov, snip, grad-norm and zico scores of cells with an
    average pool moved by up to 9e-4 relative (measured; which step of its backward differs
    was not traced), so a differentiated pass goes through `_SpacePool` or the plain kernel."""
    return not _differentiated(x) and _nchw_cpu(x)


def _pool_shape(pool: nn.AvgPool2d, x: torch.Tensor) -> str | None:
    """'same' (3x3-like: odd kernel, stride 1, padding k // 2, padding not counted), 'tile'
    (kernel = stride, no padding, the size divisible), or None (the plain path)."""
    k, st, pad = pool.kernel_size, pool.stride, pool.padding
    if pool.ceil_mode or pool.divisor_override is not None:
        return None
    if not (isinstance(k, int) and isinstance(st, int) and isinstance(pad, int)):
        return None
    if st == 1 and k % 2 == 1 and pad == k // 2 and not pool.count_include_pad:
        return "same"
    if k == st and pad == 0 and x.shape[2] % k == 0 and x.shape[3] % k == 0:
        return "tile"
    return None


def _channels_last(t: torch.Tensor) -> torch.Tensor:
    """`t` in channels-last; as it is under vmap (the generated vmap rule of `_SpacePool`),
    where a tensor has no memory format: the NCHW kernels then sum in the same order."""
    try:
        return t.contiguous(memory_format=CHANNELS_LAST)
    except RuntimeError:
        return t


class _SpacePool(torch.autograd.Function):
    """Average pool through the channels-last forward kernel, with the NCHW kernel's
    backward written out for the 'same' and 'tile' shapes (bit-identical, faster). In the
    setup_context form, which torch.func's grad transforms require, with a generated vmap
    rule for jacrev's vmapped backward; a vmapped input never reaches it (`_nchw_cpu` is
    False under vmap), and a vmapped gradient stays NCHW (`_channels_last`)."""

    generate_vmap_rule = True  # jacrev vmaps the backward over its cotangents

    @staticmethod
    def forward(x: torch.Tensor, k: int, pad: int, shape: str) -> torch.Tensor:
        stride = 1 if shape == "same" else k
        out = F.avg_pool2d(_channels_last(x), k, stride, pad, count_include_pad=False)
        return out.contiguous()

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        x, ctx.k, ctx.pad, ctx.shape = inputs
        ctx.size = tuple(x.shape[-2:])

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        k, pad = ctx.k, ctx.pad
        if ctx.shape == "tile":
            share = grad / (k * k)
            return share.repeat_interleave(k, -2).repeat_interleave(k, -1), None, None, None
        ones = torch.ones((1, 1, *ctx.size), dtype=grad.dtype)
        size = F.avg_pool2d(ones, k, 1, pad, count_include_pad=True, divisor_override=1)
        share = _channels_last(grad / size)
        summed = F.avg_pool2d(share, k, 1, pad, count_include_pad=True, divisor_override=1)
        return summed.contiguous(), None, None, None


class AvgPool2d(nn.AvgPool2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not _nchw_cpu(x):
            return super().forward(x)
        if not _differentiated(x):
            return super().forward(x.contiguous(memory_format=CHANNELS_LAST)).contiguous()
        shape = _pool_shape(self, x)
        if shape is None:
            return super().forward(x)
        k, pad = self.kernel_size, self.padding
        assert isinstance(k, int) and isinstance(pad, int)  # `_pool_shape` checked
        return _SpacePool.apply(x, k, pad, shape)


class MaxPool2d(nn.MaxPool2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _nchw_on_cpu(x):
            return super().forward(x.contiguous(memory_format=CHANNELS_LAST)).contiguous()
        return super().forward(x)
