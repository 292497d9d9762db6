"""The CSNAS proxy: train a cell from scratch with a contrastive loss, no labels; score = loss.

Variants: `pirl` (the authors' code: memory-bank NCE, t=0.07, memory EMA 0.5, weak
augmentation, linear 128-d head) and `simclr` (NT-Xent over both views, t=0.5, strong
augmentation, 2-layer MLP head). Both views of a batch go through one forward pass. Scores:
`train-loss` (last epoch's mean training loss, the authors' choice) or `heldout-loss` (the loss
on fixed held-out images in eval mode: NT-Xent, or PIRL's view-pair term against bank
negatives). Lower is better; whether it ranks cells well is what `harness correlate` measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from harness import HarnessError
from harness.data.augment import AUGMENTS, Augment
from harness.proxies.base import Direction, Evaluation
from harness.proxies.losses import MemoryBank, nt_xent, pair_probs, pirl_nce
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

DEFAULTS: dict[str, Any] = {
    "variant": "pirl",
    "score": "train-loss",
    "temperature": 0.07,
    "memory_ema": 0.5,
    "negatives": 1000,
    "proj_dim": 128,
    "head": "linear",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "pirl": {"temperature": 0.07, "augment": "weak", "head": "linear"},
    "simclr": {"temperature": 0.5, "augment": "strong", "head": "mlp"},
}
SCORES = ("train-loss", "heldout-loss")
HEADS = ("linear", "mlp")


def _check_choice(settings: dict[str, Any], key: str, choices: tuple[str, ...]) -> None:
    if settings[key] not in choices:
        raise HarnessError(f"unknown {key} {settings[key]!r} (known: {', '.join(choices)})")


def embedder(arch: NB201Cell, s: dict[str, Any]) -> NB201Network:
    """The NB201 network whose classifier is replaced by a projection head."""
    net = NB201Network(arch, c=s["C"], n=s["N"], num_classes=s["proj_dim"])
    if s["head"] == "mlp":
        d = net.feature_dim
        head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, s["proj_dim"]))
        net.classifier = head  # type: ignore[assignment]
    return net


@dataclass
class ContrastiveProxy:
    config: dict[str, Any]
    name: str = "contrastive"
    direction: Direction = "minimize"
    deterministic: bool = False

    def settings(self) -> dict[str, Any]:
        return dict(self.config)

    def evaluate(self, arch: NB201Cell, benchmark: Any, seed: int) -> Evaluation:
        s = self.config
        timer = Timer()
        device = resolve_device(s["device"])
        init_seed, subset_seed, aug_seed, bank_seed, eval_seed = seeds(seed, 5)
        split = make_split(
            images_for(s["data"]),
            s["train_images"],
            s["heldout_images"],
            subset_seed,
            device,
            labels=False,
        )
        aug = Augment(s["augment"], s["image_size"], split.mean, split.std)
        model = place_model(lambda: embedder(arch, s), init_seed, device)
        opt = sgd(model, s)
        gen = generator(aug_seed, device)
        pirl = s["variant"] == "pirl"
        bank = (
            MemoryBank(
                len(split.train_x),
                s["proj_dim"],
                generator(bank_seed, device),
                ema=s["memory_ema"],
                device=device,
            )
            if pirl
            else None
        )

        def step(idx: torch.Tensor) -> torch.Tensor:
            x = split.train_x[idx]
            z1, z2 = model(torch.cat([aug(x, gen), aug(x, gen)])).chunk(2)
            if bank is None:
                return nt_xent(z1, z2, s["temperature"])
            loss = pirl_nce(z1, z2, bank[idx], bank.negatives(s["negatives"]), s["temperature"])
            bank.update(idx, z1)
            return loss

        extra: dict[str, Any] = {"data_source": split.source, "variant": s["variant"]}
        common: dict[str, Any] = {"labels_used": 0, "device": device_label(device)}
        model.train()
        try:
            losses, steps = train_epochs(
                step, opt, len(split.train_x), s["batch_size"], s["epochs"], gen
            )
            extra.update(epoch_losses=losses, steps=steps)
            if s["score"] == "train-loss":
                score = losses[-1]
            else:
                score = self._heldout_loss(model, split.heldout_x, aug, bank, eval_seed, device)
                if not torch.isfinite(torch.tensor(score)):
                    raise Diverged(f"non-finite held-out loss {score}")
        except Diverged as err:
            return timed_evaluation(self.direction, timer, common, extra, error=str(err))
        extra["images_seen"] = 2 * len(split.train_x) * s["epochs"]
        return timed_evaluation(self.direction, timer, common, extra, score=float(score))

    @torch.no_grad()
    def _heldout_loss(
        self,
        model: nn.Module,
        x: torch.Tensor,
        aug: Augment,
        bank: MemoryBank | None,
        eval_seed: int,
        device: torch.device,
    ) -> float:
        s = self.config
        gen = generator(eval_seed, device)
        model.eval()
        z1, z2 = model(torch.cat([aug(x, gen), aug(x, gen)])).chunk(2)
        if bank is None:
            return float(nt_xent(z1, z2, s["temperature"]))
        probs = pair_probs(z1, z2, bank.negatives(s["negatives"]), s["temperature"])
        return float(-torch.log(probs).mean())


def contrastive(**overrides: Any) -> ContrastiveProxy:
    """Registry factory: keyword settings overrides, including `profile=`."""
    s = resolve("contrastive", DEFAULTS, overrides, VARIANTS, switch="variant")
    _check_choice(s, "score", SCORES)
    _check_choice(s, "head", HEADS)
    _check_choice(s, "augment", AUGMENTS)
    for key in ("proj_dim", "negatives"):
        if isinstance(s[key], bool) or not isinstance(s[key], int) or s[key] < 1:
            raise HarnessError(f"setting {key}={s[key]!r} for proxy contrastive must be >= 1")
    for key in ("temperature", "memory_ema"):
        if not isinstance(s[key], (int, float)) or not 0 < float(s[key]) <= 1e3:
            raise HarnessError(f"setting {key}={s[key]!r} for proxy contrastive must be > 0")
        s[key] = float(s[key])
    if s["memory_ema"] >= 1:
        raise HarnessError(f"setting memory_ema={s['memory_ema']} must be below 1")
    resolve_device(s["device"])
    return ContrastiveProxy(s)
