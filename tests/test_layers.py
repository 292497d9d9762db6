"""The spaces' pooling layers give bit-identical outputs to torch's through the faster
channels-last kernel, and keep the plain kernel wherever a gradient will flow."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from harness.spaces.layers import AvgPool2d, MaxPool2d, _nchw_on_cpu

CASES = [
    (AvgPool2d, nn.AvgPool2d, dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
    (AvgPool2d, nn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (AvgPool2d, nn.AvgPool2d, dict(kernel_size=2, stride=2, padding=0)),
    (MaxPool2d, nn.MaxPool2d, dict(kernel_size=3, stride=1, padding=1)),
    (MaxPool2d, nn.MaxPool2d, dict(kernel_size=3, stride=2, padding=1)),
]


@pytest.mark.parametrize("ours, theirs, kw", CASES)
@pytest.mark.parametrize("shape", [(16, 16, 32, 32), (3, 64, 8, 8), (2, 5, 7, 9)])
def test_bit_identical_and_nchw_out(ours: type, theirs: type, kw: dict, shape: tuple) -> None:
    gen = torch.Generator().manual_seed(sum(shape))
    x = torch.randn(*shape, generator=gen)
    with torch.no_grad():
        got, want = ours(**kw)(x), theirs(**kw)(x)
    assert _nchw_on_cpu(x)
    assert torch.equal(got, want)
    assert got.is_contiguous() and got.stride() == want.stride()


def test_channels_last_input_takes_the_plain_path_and_stays_channels_last() -> None:
    x = torch.randn(4, 8, 16, 16).contiguous(memory_format=torch.channels_last)
    assert not _nchw_on_cpu(x)
    out = AvgPool2d(3, 1, 1, count_include_pad=False)(x)
    assert out.is_contiguous(memory_format=torch.channels_last)


def test_differentiated_pass_keeps_the_plain_kernel() -> None:
    """Its backward would sum overlapping windows in another order (measured: gradient
    proxies' scores moved), so a pass that needs gradients is left alone."""
    x = torch.randn(4, 8, 16, 16, requires_grad=True)
    assert not _nchw_on_cpu(x)
    with torch.no_grad():
        assert _nchw_on_cpu(x)
    pool = AvgPool2d(3, 1, 1, count_include_pad=False)
    pool(x).sum().backward()
    ref = x.detach().clone().requires_grad_(True)
    nn.AvgPool2d(3, 1, 1, count_include_pad=False)(ref).sum().backward()
    assert x.grad is not None and ref.grad is not None and torch.equal(x.grad, ref.grad)
