"""The supervised control: the same network, data subset, steps and optimiser as the
contrastive proxy, trained with cross-entropy on the subset's labels; score = held-out accuracy.

`labels_used` is the number of labeled training images. The held-out images come from the
training split, disjoint from the training subset (see `training.make_split`): the proxy never
sees a test image, so the benchmark's test-set report metric stays untouched. Accuracy is
measured in eval mode, without augmentation.

Readout `rankme` (maximize; added by the template, `harness.proxies.trained`): RankMe of the
held-out images' pooled features, the classifier's input, after training. It reads no label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from harness import HarnessError
from harness.data.augment import AUGMENTS, Augment
from harness.proxies.base import Direction
from harness.proxies.profiles import resolve
from harness.proxies.trained import Context, TrainedProxy
from harness.proxies.training import EpochStats, resolve_device


class SupervisedRun:
    def __init__(self, ctx: Context) -> None:
        s, split = ctx.settings, ctx.split
        assert split.train_y is not None and split.heldout_y is not None
        self.ctx, self.x, self.y = ctx, split.train_x, split.train_y
        self.aug = Augment(s["augment"], s["image_size"], split.mean, split.std)
        self.plain = self.aug.plain

    def setup(self) -> None:
        pass

    def before_epoch(self) -> None:
        pass

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(
            self.ctx.model(self.aug(self.x[idx], self.ctx.train_gen)), self.y[idx]
        )

    @torch.no_grad()
    def finish(self, stats: list[EpochStats]) -> dict[str, Any]:
        split, model = self.ctx.split, self.ctx.model
        model.eval()
        correct = 0
        for x, y in zip(
            split.heldout_x.split(self.ctx.settings["batch_size"]),
            split.heldout_y.split(self.ctx.settings["batch_size"]),  # type: ignore[union-attr]
        ):
            correct += int((model(self.aug.plain(x)).argmax(1) == y).sum())
        n = len(split.heldout_x)
        return {
            "heldout-acc": 100.0 * correct / n if n else float("nan"),
            "epoch_losses": [e.per_image for e in stats],
            "images_seen": len(self.x) * len(stats),
        }


@dataclass
class SupervisedProxy(TrainedProxy):
    name: ClassVar[str] = "supervised"
    labels: ClassVar[bool] = True
    #: readouts beside the score (heldout-acc), with their a-priori directions
    readout_directions: ClassVar[dict[str, Direction]] = {"rankme": "maximize"}

    @property
    def direction(self) -> Direction:
        return "maximize"

    def score_key(self) -> str:
        return "heldout-acc"

    def model(self, network: nn.Module) -> nn.Module:
        return network

    def run(self, ctx: Context) -> SupervisedRun:
        return SupervisedRun(ctx)


def supervised(**overrides: Any) -> SupervisedProxy:
    """Registry factory: keyword settings overrides, including `profile=`."""
    s = resolve("supervised", {}, overrides)
    if s["augment"] not in AUGMENTS:
        raise HarnessError(f"unknown augment {s['augment']!r} (known: {', '.join(AUGMENTS)})")
    resolve_device(s["device"])
    return SupervisedProxy(s)
