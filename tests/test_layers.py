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


def test_differentiated_pass_gives_torchs_gradients() -> None:
    """torch's channels-last backward sums overlapping windows in another order (measured:
    gradient proxies' scores moved), so a differentiated pass must not take it."""
    x = torch.randn(4, 8, 16, 16, requires_grad=True)
    assert not _nchw_on_cpu(x)
    with torch.no_grad():
        assert _nchw_on_cpu(x)
    pool = AvgPool2d(3, 1, 1, count_include_pad=False)
    pool(x).sum().backward()
    ref = x.detach().clone().requires_grad_(True)
    nn.AvgPool2d(3, 1, 1, count_include_pad=False)(ref).sum().backward()
    assert x.grad is not None and ref.grad is not None and torch.equal(x.grad, ref.grad)


GRAD_CASES = [
    dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),  # NB201's, DARTS's
    dict(kernel_size=5, stride=1, padding=2, count_include_pad=False),
    dict(kernel_size=2, stride=2, padding=0),  # NB201's residual reduction
]


@pytest.mark.parametrize("kw", GRAD_CASES)
@pytest.mark.parametrize("shape", [(16, 16, 32, 32), (3, 64, 8, 8), (2, 5, 6, 10)])
def test_written_out_backward_is_bit_identical(kw: dict, shape: tuple) -> None:
    """Output and input gradient equal torch's NCHW kernel's to the bit, and a second
    differentiation fails loudly instead of giving a wrong answer."""
    gen = torch.Generator().manual_seed(sum(shape) + kw["kernel_size"])
    x = torch.randn(*shape, generator=gen, requires_grad=True)
    ref = x.detach().clone().requires_grad_(True)
    ours, theirs = AvgPool2d(**kw)(x), nn.AvgPool2d(**kw)(ref)
    assert ours.grad_fn is not None and "SpacePool" in type(ours.grad_fn).__name__
    assert torch.equal(ours, theirs) and ours.stride() == theirs.stride()
    g = torch.randn(ours.shape, generator=gen)
    (got,) = torch.autograd.grad(ours, x, g)
    (want,) = torch.autograd.grad(theirs, ref, g)
    assert torch.equal(got, want)
    with pytest.raises(RuntimeError):
        (once,) = torch.autograd.grad(AvgPool2d(**kw)(x), x, g, create_graph=True)
        once.sum().backward()


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
        dict(kernel_size=3, stride=1, padding=1, count_include_pad=True),
        dict(kernel_size=2, stride=2, padding=0, ceil_mode=True),
    ],
)
def test_other_shapes_take_torchs_backward(kw: dict) -> None:
    x = torch.randn(2, 4, 7, 7, requires_grad=True)
    out = AvgPool2d(**kw)(x)
    assert out.grad_fn is not None and "SpacePool" not in type(out.grad_fn).__name__


@pytest.mark.parametrize("kw", GRAD_CASES)
def test_torch_func_transforms_pass_through(kw: dict) -> None:
    """VKDNW's fallback takes per-image Jacobians with vmap(jacrev(...)) through the pools."""
    from torch.func import jacrev, vmap

    x = torch.randn(3, 2, 6, 6, generator=torch.Generator().manual_seed(1))
    ours, theirs = AvgPool2d(**kw), nn.AvgPool2d(**kw)
    got = vmap(jacrev(lambda t: ours(t.unsqueeze(0)).flatten()))(x)
    want = vmap(jacrev(lambda t: theirs(t.unsqueeze(0)).flatten()))(x)
    assert torch.equal(got, want)
