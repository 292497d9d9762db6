"""DARTS networks for a genotype: DARTS's `NetworkCIFAR` layout (and the CSNAS candidate).

Stem conv 3x3 to 3C channels + BN, then `layers` cells with reduction cells (stride 2, channels
doubled) at layers//3 and 2*layers//3; each cell preprocesses its two inputs to C channels
(1x1 ReLUConvBN, or FactorizedReduce when the cell before the previous one was at twice the
resolution), and outputs the concatenation of its 4 nodes (4C channels). Global average pooling
and a linear classifier follow. The auxiliary head (after cell 2*layers//3) and drop-path exist
for the evaluation protocol. Module registration order follows DARTS's, so parameter lists line
up one to one with the reference model's.

`DartsNetwork` is the space's network for proxies: forward gives logits only, `features` the
pooled embedding. At C=32, layers=8 its features are the CSNAS authors' `NetworkCandidate`
output (512-d). `EvaluationNetwork` returns `(logits, aux_logits)` as DARTS's does.
"""

from __future__ import annotations

import torch
from torch import nn

from harness.spaces.darts.genotype import CONCAT, N_NODES, Genotype
from harness.spaces.darts.ops import FactorizedReduce, ReLUConvBN, make_op

STEM_MULTIPLIER = 3


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability `drop_prob`, rescaling the rest (DARTS's drop_path)."""
    if drop_prob <= 0.0:
        return x
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class Cell(nn.Module):
    """One normal or reduction cell of a genotype."""

    def __init__(
        self, genotype: Genotype, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0: nn.Module = (
            FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        )
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0)
        pairs = genotype.reduce if reduction else genotype.normal
        self.indices = tuple(src for _, src in pairs)
        self.ops = nn.ModuleList(
            make_op(op, c, 2 if reduction and src < 2 else 1) for op, src in pairs
        )
        self.multiplier = len(CONCAT)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(N_NODES):
            total = None
            for k in (2 * i, 2 * i + 1):
                op = self.ops[k]
                h = op(states[self.indices[k]])
                if self.training and drop_prob > 0.0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            assert total is not None
            states.append(total)
        return torch.cat([states[i] for i in CONCAT], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """DARTS's auxiliary classifier, for 8x8 inputs (after the second reduction)."""

    def __init__(self, c: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


def reduction_layers(layers: int) -> tuple[int, int]:
    return layers // 3, 2 * layers // 3


class DartsNetwork(nn.Module):
    """NetworkCIFAR around one genotype; forward gives logits, `features` the pooled embedding."""

    def __init__(
        self,
        genotype: Genotype,
        c: int = 32,
        layers: int = 8,
        num_classes: int = 10,
        auxiliary: bool = False,
        drop_path_prob: float = 0.0,
    ) -> None:
        super().__init__()
        for name, v in (("C", c), ("layers", layers), ("num_classes", num_classes)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.genotype = genotype
        self.layers = layers
        self.auxiliary = auxiliary
        self.drop_path_prob = drop_path_prob
        c_curr = STEM_MULTIPLIER * c
        self.stem = nn.Sequential(
            nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr)
        )
        c_pp, c_p, c_curr = c_curr, c_curr, c
        self.cells = nn.ModuleList()
        reduction_prev = False
        c_aux = c_p
        for i in range(layers):
            reduction = i in reduction_layers(layers)
            if reduction:
                c_curr *= 2
            cell = Cell(genotype, c_pp, c_p, c_curr, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c_curr
            if i == reduction_layers(layers)[1]:
                c_aux = c_p
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)
        self.feature_dim = c_p

    def _run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(pooled features, auxiliary logits or None)."""
        aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == reduction_layers(self.layers)[1] and self.auxiliary and self.training:
                aux = self.auxiliary_head(s1)
        return self.global_pooling(s1).flatten(1), aux

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features (N, feature_dim): the classifier's or a contrastive head's input."""
        return self._run(x)[0]

    def cell_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The stem's output then each cell's, in order: the chain of feature maps that
        feature-map proxies (AZ-NAS) read, since a cell here takes two inputs (the outputs
        of the two cells before it), not one."""
        outs = [self.stem(x)]
        s0 = s1 = outs[0]
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            outs.append(s1)
        return outs

    embedding = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class EvaluationNetwork(DartsNetwork):
    """The DARTS evaluation network: forward gives (logits, aux_logits), aux None outside
    training or without the head, exactly as DARTS's `NetworkCIFAR.forward`."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:  # type: ignore[override]
        pooled, aux = self._run(x)
        return self.classifier(pooled), aux


def evaluation_network(
    genotype: Genotype | str,
    num_classes: int = 10,
    C: int = 36,
    layers: int = 20,
    auxiliary: bool = True,
    drop_path_prob: float = 0.2,
) -> EvaluationNetwork:
    """DARTS's CIFAR evaluation network (train.py defaults: C=36, 20 cells, auxiliary, 0.2).

    DARTS's train.py ramps `drop_path_prob` linearly from 0 each epoch
    (`model.drop_path_prob = args.drop_path_prob * epoch / args.epochs`); set the attribute.
    """
    from harness.spaces.darts.genotype import parse_genotype

    g = parse_genotype(genotype) if isinstance(genotype, str) else genotype
    return EvaluationNetwork(g, C, layers, num_classes, auxiliary, drop_path_prob)


def count_params(module: nn.Module, skip_auxiliary: bool = True) -> int:
    """Parameters, without the auxiliary head (as DARTS's count_parameters_in_MB reports them)."""
    return sum(
        p.numel()
        for name, p in module.named_parameters()
        if not (skip_auxiliary and name.startswith("auxiliary_head."))
    )


def param_count(genotype: Genotype, C: int = 36, layers: int = 20, num_classes: int = 10) -> int:
    """Parameter count at a scale, built on the meta device (no allocation, no init)."""
    with torch.device("meta"):
        return count_params(DartsNetwork(genotype, C, layers, num_classes))
