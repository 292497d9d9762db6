"""The DARTS evaluation-network ops (`cnn/operations.py`, affine BatchNorm throughout).

Pools carry no BatchNorm here: only DARTS's search-time MixedOp appends one, and a genotype is
always built as an evaluation network. In a reduction cell the ops reading the two previous
cells (inputs 0, 1) have stride 2, and skip_connect becomes a FactorizedReduce.
"""

from __future__ import annotations

import torch
from torch import nn

from harness.spaces.layers import AvgPool2d, MaxPool2d

#: (kernel, dilation) of the conv ops; padding keeps the spatial size at stride 1
_SEP = {"sep_conv_3x3": 3, "sep_conv_5x5": 5}
_DIL = {"dil_conv_3x3": 3, "dil_conv_5x5": 5}


class ReLUConvBN(nn.Sequential):
    """ReLU, conv without bias, BatchNorm: the cells' 1x1 preprocessing."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )


def _dw_pw(c: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> list[nn.Module]:
    """ReLU, depthwise conv, pointwise conv, BatchNorm."""
    return [
        nn.ReLU(inplace=False),
        nn.Conv2d(
            c, c, kernel, stride=stride, padding=padding, dilation=dilation, groups=c, bias=False
        ),
        nn.Conv2d(c, c, 1, bias=False),
        nn.BatchNorm2d(c),
    ]


class SepConv(nn.Sequential):
    """Two stacked depthwise-separable convs (the first carries the stride), as in DARTS."""

    def __init__(self, c: int, kernel: int, stride: int) -> None:
        pad = kernel // 2
        super().__init__(*_dw_pw(c, kernel, stride, pad), *_dw_pw(c, kernel, 1, pad))


class DilConv(nn.Sequential):
    """One dilated (rate 2) depthwise-separable conv."""

    def __init__(self, c: int, kernel: int, stride: int) -> None:
        super().__init__(*_dw_pw(c, kernel, stride, padding=kernel - 1, dilation=2))


class FactorizedReduce(nn.Module):
    """Halve the resolution with two offset stride-2 1x1 convs whose outputs are concatenated."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even channel count, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def make_op(op: str, c: int, stride: int) -> nn.Module:
    if op == "max_pool_3x3":
        return MaxPool2d(3, stride=stride, padding=1)
    if op == "avg_pool_3x3":
        return AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if op == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    if op in _SEP:
        return SepConv(c, _SEP[op], stride)
    if op in _DIL:
        return DilConv(c, _DIL[op], stride)
    raise ValueError(f"unknown DARTS op {op!r}")
