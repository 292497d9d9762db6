"""EPE-NAS (Lopes et al. 2021, "Efficient performance estimation without training"), as
NASLib `epe_nas` computes it (taken there from the authors' `search.py`).

J is the gradient of the summed logits with respect to each input image (as jacov); the rows
are grouped by the images' labels. For each class c with rows J_c, s_c = sum over the entries
of log(|corrcoef(J_c)| + 1e-5), divided by the number of rows when the network has more than
100 outputs. Score: sum_c |s_c| for up to 100 outputs; for more (ImageNet16-120),
sum over ordered class pairs of |s_c - s_c'| / number of classes scored. A class with one
image contributes log(1 + 1e-5) for up to 100 outputs and is skipped above (NASLib's
`len()` of a 0-d array raises and the class is dropped); the number of outputs is the
network's (NASLib's `y.shape[-1]`).

Read in NASLib (`naslib/predictors/utils/pruners/measures/epe_nas.py`, `predictive.py`
`find_measures`: the score is used as is, `zerocost.py`) and the authors' `search.py`
(VascoLopes/EPE-NAS). Differences:

- Batch 256, the authors' `search.py` (batch and evaluate size 256), of the shipped images,
  no augmentation; NASLib's benchmark scores used one batch of 32 from its CIFAR loader
  (train transforms). The score grows with the batch (about B^2 / classes correlation
  entries), so only ranks compare across batches.
- Labels: the harness's images are CIFAR-10 on every benchmark (the shipped sample), so on
  nb201-cifar100 / nb201-imagenet16 the rows fall into at most 10 classes of the 100 / 120
  outputs; NASLib groups by the dataset's own labels (a batch of 32 meets about 28 of 100
  classes, most with one image).
- The authors' `search.py` calls the score with `labels=None` and the default
  `n_classes=10` (so the >100-output branch never runs there); NASLib passes the labels and
  the network's outputs: the harness follows NASLib.
- NASLib writes -1e8 for a NaN score (a constant Jacobian row, e.g. a cell with no path from
  input to output, where NASLib's `x.grad` is None); here it is a failed Evaluation (both
  rank it last).

Train-mode BatchNorm, PyTorch's default init. Uses labels: `labels_used` = batch size.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy, resolve

BATCH = 256
DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": BATCH}
K = 1e-5
#: above this many network outputs NASLib uses the pairwise form (their n_classes > 100)
PAIRWISE_ABOVE = 100


def jacobian_and_outputs(net: nn.Module, x: torch.Tensor) -> tuple[np.ndarray, int]:
    """d(sum of outputs)/d(input) per image, flattened to (B, pixels) (zeros when the output
    does not depend on the input), and the number of outputs per image."""
    x = x.detach().clone().requires_grad_(True)
    y = net(x)
    if y.requires_grad:
        y.backward(torch.ones_like(y))
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    return grad.detach().reshape(len(x), -1).cpu().numpy(), int(y.shape[-1])


def class_term(rows: np.ndarray, pairwise: bool) -> float | None:
    """s_c for one class's Jacobian rows (m, pixels); None when NASLib drops the class."""
    if len(rows) == 1:
        if pairwise:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(rows[0])
        return float(np.log(abs(r) + K))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(rows)
    s = float(np.sum(np.log(np.abs(corr) + K)))
    return s / len(rows) if pairwise else s


def epe_score(jacobian: np.ndarray, labels: np.ndarray, n_outputs: int) -> float:
    """The per-class correlation score (module docstring); NaN when a correlation is."""
    pairwise = n_outputs > PAIRWISE_ABOVE
    terms = []
    for c in dict.fromkeys(labels.tolist()):  # classes in order of first appearance
        t = class_term(jacobian[labels == c], pairwise)
        if t is not None:
            terms.append(t)
    if not pairwise:
        return float(sum(abs(t) for t in terms))
    if not terms:
        return 0.0
    v = np.asarray(terms)
    return float(np.abs(v[:, None] - v[None, :]).sum() / len(v))


def measure(ctx: Context) -> float:
    assert ctx.batch is not None and ctx.batch.y is not None
    jac, n_outputs = jacobian_and_outputs(ctx.net, ctx.batch.x)
    score = epe_score(jac, ctx.batch.y.cpu().numpy(), n_outputs)
    return score if math.isfinite(score) else float("nan")


def epe_nas_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve("epe-nas", DEFAULTS, overrides)
    return ZeroCostProxy("epe-nas", settings, measure, needs="labels")
