"""Pooling layers shared by the spaces' networks: the same numbers, a faster CPU kernel.

On this torch build (2.13, CPU), 3x3 pooling of a contiguous NCHW tensor runs a scalar kernel
that is 6-12x slower than the vectorised channels-last one (max pool 86 ms against 7 ms, avg
pool 28 ms against 4 ms, batch 64, 32 channels, 32x32, one thread). These subclasses pool an
NCHW input in channels-last and hand back NCHW: the output is bit-identical (checked on
random inputs, `tests/test_layers.py`, and on all 240 zero-cost reference scores), only
faster, even counting the two copies.
A channels-last input (the trained proxies' networks) and any pass that will be
differentiated take the plain path, so only forward-only passes (NASWOT, SWAP, MeCo, AZ-NAS's
expressivity, the readouts) change speed, never a number.
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS_LAST = torch.channels_last


def _nchw_on_cpu(x: torch.Tensor) -> bool:
    """A CPU NCHW input that no gradient will flow back through: with the channels-last
    kernel in a differentiated pass, jacov, snip, grad-norm and zico scores of cells with an
    average pool moved by up to 9e-4 relative (measured; which step of the backward differs
    was not traced), so a pass that needs gradients keeps the plain kernel."""
    return (
        not (x.requires_grad and torch.is_grad_enabled())
        and x.dim() == 4
        and x.device.type == "cpu"
        and x.is_contiguous()
        and not x.is_contiguous(memory_format=CHANNELS_LAST)
    )


class AvgPool2d(nn.AvgPool2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _nchw_on_cpu(x):
            return super().forward(x.contiguous(memory_format=CHANNELS_LAST)).contiguous()
        return super().forward(x)


class MaxPool2d(nn.MaxPool2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _nchw_on_cpu(x):
            return super().forward(x.contiguous(memory_format=CHANNELS_LAST)).contiguous()
        return super().forward(x)
