"""The supervised control: the contrastive proxy's network, data subset, steps, optimiser and
augmentation, trained with cross-entropy on the subset's labels; score = held-out accuracy.

`labels_used` is the number of labeled training images. Held-out accuracy is measured on the
first `heldout_images` test images (fixed across seeds), in eval mode, without augmentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from harness.data.augment import AUGMENTS, Augment
from harness.proxies.base import Direction, Evaluation
from harness.proxies.contrastive import _check_choice
from harness.proxies.profiles import resolve
from harness.proxies.training import (
    Diverged,
    Timer,
    device_label,
    generator,
    images_for,
    make_split,
    place_model,
    resolve_device,
    seeds,
    sgd,
    timed_evaluation,
    train_epochs,
)
from harness.spaces.nb201 import NB201Cell
from harness.spaces.nb201.network import NB201Network


@dataclass
class SupervisedProxy:
    config: dict[str, Any]
    name: str = "supervised"
    direction: Direction = "maximize"
    deterministic: bool = False

    def settings(self) -> dict[str, Any]:
        return dict(self.config)

    def evaluate(self, arch: NB201Cell, benchmark: Any, seed: int) -> Evaluation:
        s = self.config
        timer = Timer()
        device = resolve_device(s["device"])
        # the same child seeds as `contrastive`: same init stream, subset and augmentation
        init_seed, subset_seed, aug_seed, _, _ = seeds(seed, 5)
        data = images_for(s["data"])
        split = make_split(
            data, s["train_images"], s["heldout_images"], subset_seed, device, labels=True
        )
        assert split.train_y is not None and split.heldout_y is not None
        aug = Augment(s["augment"], s["image_size"], split.mean, split.std)
        model = place_model(
            lambda: NB201Network(arch, c=s["C"], n=s["N"], num_classes=split.num_classes),
            init_seed,
            device,
        )
        opt = sgd(model, s)
        gen = generator(aug_seed, device)
        train_y = split.train_y

        def step(idx: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(model(aug(split.train_x[idx], gen)), train_y[idx])

        common: dict[str, Any] = {"labels_used": len(split.train_x), "device": device_label(device)}
        extra: dict[str, Any] = {"data_source": split.source}
        model.train()
        try:
            losses, steps = train_epochs(
                step, opt, len(split.train_x), s["batch_size"], s["epochs"], gen
            )
        except Diverged as err:
            return timed_evaluation(self.direction, timer, common, extra, error=str(err))
        model.eval()
        with torch.no_grad():
            pred = model(aug.plain(split.heldout_x)).argmax(1)
            acc = float((pred == split.heldout_y).float().mean()) * 100.0
        extra.update(epoch_losses=losses, steps=steps, images_seen=len(split.train_x) * s["epochs"])
        return timed_evaluation(self.direction, timer, common, extra, score=acc)


def supervised(**overrides: Any) -> SupervisedProxy:
    """Registry factory: keyword settings overrides, including `profile=`."""
    s = resolve("supervised", {}, overrides)
    _check_choice(s, "augment", AUGMENTS)
    resolve_device(s["device"])
    return SupervisedProxy(s)
