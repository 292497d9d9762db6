"""Torch networks for NAS-Bench-201 cells on the official NB201 macro skeleton.

Mirrors the official `TinyNetwork`/`InferCell`/`ResNetBasicblock` layout (stem conv+BN, three
stages of N cells at C, 2C, 4C separated by stride-2 residual blocks, BN+ReLU, global pooling,
linear classifier), so that at C=16, N=5 the parameter count equals the benchmark's
`params_c10_M`. C and N are scale knobs for cheap proxies.
"""

from __future__ import annotations

import torch
from torch import nn

from harness.spaces.layers import AvgPool2d
from harness.spaces.nb201.cell import EDGES, NB201Cell


class ReLUConvBN(nn.Sequential):
    """The official `ReLUConvBN`: ReLU, conv without bias, affine BatchNorm."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class ResNetBasicblock(nn.Module):
    """The official stride-2 reduction block: two ReLU-Conv-BN 3x3, avgpool+1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, stride=1)
        self.downsample = nn.Sequential(
            AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def make_op(op: str, c: int) -> nn.Module | None:
    """One edge op at C channels; `none` is None (the edge contributes zero, no compute)."""
    if op == "none":
        return None
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3)
    if op == "avg_pool_3x3":
        return AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {op!r}")


class CellModule(nn.Module):
    """A NB201 cell: node j is the sum of its input edges' outputs; node 3 is the output.

    `none` edges are skipped rather than multiplied by zero; a node with no live input is
    zero, and ops downstream of it still run (as in the official net, where a BN after a zero
    input emits its bias), so the function computed equals the official one.
    """

    def __init__(self, cell: NB201Cell, c: int) -> None:
        super().__init__()
        self.edges = nn.ModuleDict()
        self.wiring: list[tuple[int, int, str | None]] = []
        for op, (dst, src) in zip(cell.ops, EDGES):
            module = make_op(op, c)
            key = f"{dst}_{src}"
            if module is not None:
                self.edges[key] = module
            self.wiring.append((dst, src, key if module is not None else None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor] = [x]
        for dst in (1, 2, 3):
            total: torch.Tensor | None = None
            for d, src, key in self.wiring:
                if d != dst or key is None:
                    continue
                out = self.edges[key](nodes[src])
                total = out if total is None else total + out
            nodes.append(total if total is not None else torch.zeros_like(x))
        return nodes[3]


class NB201Network(nn.Module):
    """The NB201 macro skeleton around one cell; `features` gives the pooled embedding."""

    def __init__(self, cell: NB201Cell, c: int = 16, n: int = 5, num_classes: int = 10) -> None:
        super().__init__()
        if c < 1 or n < 1 or num_classes < 1:
            raise ValueError(f"C, N and num_classes must be positive, got {c}, {n}, {num_classes}")
        self.cell = cell
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers: list[nn.Module] = []
        c_prev = c
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                layers.append(ResNetBasicblock(c_prev, width))
            layers.extend(CellModule(cell, width) for _ in range(n))
            c_prev = width
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)
        self.feature_dim = c_prev

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled feature vector (N, 4C): the input to the classifier or a contrastive head."""
        out = self.lastact(self.cells(self.stem(x)))
        return self.global_pooling(out).flatten(1)

    embedding = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def param_count(cell: NB201Cell, c: int = 16, n: int = 5, num_classes: int = 10) -> int:
    """Parameter count of the network, built on the meta device (no allocation, no init)."""
    with torch.device("meta"):
        return count_params(NB201Network(cell, c=c, n=n, num_classes=num_classes))
