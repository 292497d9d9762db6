"""The CSNAS proxy: train a network from scratch with a contrastive loss, no labels.

Variants:
- `pirl` (default; what method `csnas` runs) is the CSNAS authors' procedure as their code
  runs it (namnguyen0510/CSNAS, search/search.py, ssl_utils.py, model_generator.py): the
  space's network embeds each view through a Linear(features -> 256) projection; the two
  JigsawLoader patches are embedded separately and fused by Linear(512 -> 256); a memory bank
  filled with the untrained network's embeddings; loss 0.5 NCE(memory, patches) + 0.5
  NCE(memory, original) at t=0.07 against 2 x (batch - 1) negatives drawn with seed 7 (see
  `harness.proxies.losses`); the score is their last-epoch figure, running_loss / batches.
- `simclr` is ours: SimCLR's NT-Xent over two strongly augmented views, t=0.5, 2-layer MLP
  head, both views in one forward pass.

Every evaluation records all readouts in `Evaluation.extra`; the `score` setting picks one,
with a direction fixed a priori (never chosen from ground truth):
- train-loss (minimize): the last epoch's training loss, the authors' score;
- heldout-loss (minimize): the loss on held-out training-split images, eval mode (for pirl,
  ours: held-out images have no bank entry, so the anchor is their own original-view
  embedding and the positive the fused patches, against the bank's seed-7 negatives);
- init-loss (minimize): the same loss on the training images before any step (train mode,
  as the training loss; BatchNorm buffers restored, own random stream);
- loss-drop (maximize): init-loss - train-loss, how much the network learns;
- inst-acc (maximize): share of training images whose positive beats all their negatives
  after training, eval mode (pirl: memory entry vs the seed-7 negatives, original view;
  simclr: twin view vs the other 2B-2 views of its batch);
- init-cosine (minimize): mean cosine between embeddings of different training images at
  initialisation (pirl: the bank as filled; simclr: un-augmented images, train mode). As in
  NASWOT, a network that keeps different inputs apart before training is taken as better;
- rankme (maximize): RankMe of the held-out images' backbone features after training, added
  by the template for every trained proxy (`harness.proxies.trained`); pirl's images are
  normalised with ImageNet statistics as its views are, simclr's with the data's. A higher
  effective rank is taken as a less collapsed, better representation (Garrido et al. 2023).
Loss readouts aggregate batches as the authors' score does (`EpochStats.per_batch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from harness import HarnessError
from harness.data.augment import AUGMENTS, IMAGENET_MEAN, IMAGENET_STD, Augment, csnas_views
from harness.proxies.base import Direction
from harness.proxies.losses import (
    LOSS_WEIGHT,
    Memory,
    csnas_loss,
    nce_logits,
    negative_indices,
    negative_positions,
    nt_xent,
    nt_xent_logits,
    nt_xent_targets,
    unit,
)
from harness.proxies.profiles import resolve
from harness.proxies.trained import Context, TrainedProxy, buffers_kept
from harness.proxies.training import EpochStats, batches, resolve_device

DEFAULTS: dict[str, Any] = {
    "variant": "pirl",
    "score": "train-loss",
    "temperature": 0.07,
    "memory_weight": 0.5,
    "negatives": "auto",
    "proj_dim": 256,
    "head": "linear",
    "augment": "csnas",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "pirl": {"temperature": 0.07, "augment": "csnas", "head": "linear", "proj_dim": 256},
    "simclr": {"temperature": 0.5, "augment": "strong", "head": "mlp", "proj_dim": 128},
}
#: score setting -> direction, fixed a priori (see the module docstring)
SCORES: dict[str, Direction] = {
    "train-loss": "minimize",
    "heldout-loss": "minimize",
    "init-loss": "minimize",
    "loss-drop": "maximize",
    "inst-acc": "maximize",
    "init-cosine": "minimize",
}
#: every readout in `extra` with its a-priori direction: the scores plus the template's rankme
READOUTS: dict[str, Direction] = {**SCORES, "rankme": "maximize"}
HEADS = ("linear", "mlp")


def _check_choice(settings: dict[str, Any], key: str, choices: tuple[str, ...]) -> None:
    if settings[key] not in choices:
        raise HarnessError(f"unknown {key} {settings[key]!r} (known: {', '.join(choices)})")


class Embedder(nn.Module):
    """The space's network as a feature extractor with a projection head; for pirl also the
    authors' Siamese fuse layer, Linear(2 x dim -> dim), over the two patch embeddings."""

    def __init__(self, network: nn.Module, head: str, dim: int, fuse: bool) -> None:
        super().__init__()
        self.network = network
        d = int(network.feature_dim)  # type: ignore[arg-type]
        self.head: nn.Module = (
            nn.Linear(d, dim)
            if head == "linear"
            else nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, dim))
        )
        self.fuse = nn.Linear(2 * dim, dim) if fuse else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.network.features(x))  # type: ignore[operator]

    def fused(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Each patch through the network on its own (own BatchNorm statistics), then fused."""
        assert self.fuse is not None
        return self.fuse(torch.cat([self(a), self(b)], 1))


def mean_pairwise_cosine(z: torch.Tensor) -> float:
    """Mean cos(z_i, z_j) over ordered pairs i != j, from the sum of unit vectors."""
    u = unit(z.to(torch.float64))
    n = len(u)
    total = u.sum(0).pow(2).sum() - u.pow(2).sum()
    return float(total / (n * (n - 1)))


def _loss_pass(
    loss: Callable[[torch.Tensor], torch.Tensor], n: int, batch_size: int, gen: torch.Generator
) -> float:
    """The authors' aggregate of `loss` over one shuffled pass: sum(loss x size) / batches."""
    total, count = 0.0, 0
    for idx in batches(n, batch_size, gen):
        total += float(loss(idx)) * len(idx)
        count += 1
    return EpochStats(total, n, count).per_batch


class PirlRun:
    """The authors' procedure (see the module docstring and `harness.proxies.losses`)."""

    def __init__(self, ctx: Context) -> None:
        s = ctx.settings
        self.ctx, self.s = ctx, s
        self.x = ctx.split.train_x
        n = len(self.x)
        if n < 2:
            raise HarnessError("the pirl variant needs at least 2 training images")
        k = 2 * (s["batch_size"] - 1) if s["negatives"] == "auto" else int(s["negatives"])
        # their random.sample raises when k exceeds the n - 1 other images: take them all
        self.k = min(k, n - 1)
        self.positions = torch.tensor(negative_positions(n, self.k), device=ctx.device)
        self.memory = Memory(n, s["proj_dim"], s["memory_weight"], ctx.device)
        self.model: Embedder = ctx.model  # type: ignore[assignment]
        self.init_cosine = float("nan")
        self.init_loss = float("nan")
        # csnas_views without its flips, swaps and grayscale: resized, ImageNet-normalised
        self.plain = Augment("none", s["image_size"], IMAGENET_MEAN, IMAGENET_STD).plain

    def _views(self, x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
        return csnas_views(x, self.s["image_size"], gen)

    def _loss(self, idx: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        original, patch_a, patch_b = self._views(self.x[idx], gen)
        z_original = self.model(original)
        z_patches = self.model.fused(patch_a, patch_b)
        loss = csnas_loss(
            self.memory.rows(idx),
            z_patches,
            z_original,
            self.memory.table(),
            negative_indices(self.positions, idx),
            self.s["temperature"],
            LOSS_WEIGHT,
        )
        return loss, z_original

    @torch.no_grad()
    def setup(self) -> None:
        """Memory.initialize (train mode, no_grad, original view), then the init readouts."""
        gen, n, bs = self.ctx.train_gen, len(self.x), self.s["batch_size"]
        self.memory.initialize(
            (idx, self.model(self._views(self.x[idx], gen)[0])) for idx in batches(n, bs, gen)
        )
        self.init_cosine = mean_pairwise_cosine(self.memory.memory)
        with buffers_kept(self.model):
            self.init_loss = _loss_pass(
                lambda idx: self._loss(idx, self.ctx.readout_gen)[0], n, bs, self.ctx.readout_gen
            )

    def before_epoch(self) -> None:
        self.memory.update_weighted_count()

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        loss, z_original = self._loss(idx, self.ctx.train_gen)
        # their update follows optimizer.step() with the pre-step output; the loss already
        # holds its own copies of the bank, so updating here is the same
        self.memory.update(idx, z_original)
        return loss

    @torch.no_grad()
    def finish(self, stats: list[EpochStats]) -> dict[str, Any]:
        self.model.eval()
        train_loss = stats[-1].per_batch
        return {
            "train-loss": train_loss,
            "init-loss": self.init_loss,
            "loss-drop": self.init_loss - train_loss,
            "heldout-loss": self._heldout_loss(),
            "inst-acc": self._inst_acc(),
            "init-cosine": self.init_cosine,
            "epoch_losses": [e.per_batch for e in stats],
            "train_loss_per_image": stats[-1].per_image,
            "negatives": self.k,
            "images_seen": 3 * len(self.x) * len(stats),  # original + 2 patches, each step
            "variant": "pirl",
        }

    def _inst_acc(self) -> float:
        correct, gen, table = 0, self.ctx.readout_gen, self.memory.table()
        for idx in torch.arange(len(self.x), device=self.ctx.device).split(self.s["batch_size"]):
            z = self.model(self._views(self.x[idx], gen)[0])
            logits = nce_logits(
                self.memory.rows(idx), z, table, negative_indices(self.positions, idx)
            )
            correct += int((logits[:, 0] > logits[:, 1:].max(1).values).sum())
        return correct / len(self.x)

    def _heldout_loss(self) -> float:
        x, gen, table = self.ctx.split.heldout_x, self.ctx.readout_gen, self.memory.table()
        if len(x) == 0:
            return float("nan")

        def loss(idx: torch.Tensor) -> torch.Tensor:
            original, patch_a, patch_b = self._views(x[idx], gen)
            z_o, z_p = self.model(original), self.model.fused(patch_a, patch_b)
            neg_idx = self.positions.view(1, -1).expand(len(idx), -1)
            logits = nce_logits(z_o, z_p, table, neg_idx, self.s["temperature"])
            return F.cross_entropy(logits, torch.zeros_like(idx))

        return _loss_pass(loss, len(x), self.s["batch_size"], gen)


class SimclrRun:
    """NT-Xent over two augmented views in one forward pass (ours, not the authors')."""

    def __init__(self, ctx: Context) -> None:
        s = ctx.settings
        self.ctx, self.s, self.x = ctx, s, ctx.split.train_x
        self.aug = Augment(s["augment"], s["image_size"], ctx.split.mean, ctx.split.std)
        self.plain = self.aug.plain
        self.model = ctx.model
        self.init_cosine = float("nan")
        self.init_loss = float("nan")

    def _pair(self, x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        z1, z2 = self.model(torch.cat([self.aug(x, gen), self.aug(x, gen)])).chunk(2)
        return z1, z2

    def _loss(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return nt_xent(*self._pair(x, gen), self.s["temperature"])

    @torch.no_grad()
    def setup(self) -> None:
        n, bs, gen = len(self.x), self.s["batch_size"], self.ctx.readout_gen
        with buffers_kept(self.model):
            z = torch.cat([self.model(self.aug.plain(self.x[i])) for i in batches(n, bs, gen)])
            self.init_cosine = mean_pairwise_cosine(z)
            self.init_loss = _loss_pass(lambda idx: self._loss(self.x[idx], gen), n, bs, gen)

    def before_epoch(self) -> None:
        pass

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        return self._loss(self.x[idx], self.ctx.train_gen)

    @torch.no_grad()
    def finish(self, stats: list[EpochStats]) -> dict[str, Any]:
        self.model.eval()
        gen, bs = self.ctx.readout_gen, self.s["batch_size"]
        heldout = self.ctx.split.heldout_x
        correct = 0
        for idx in torch.arange(len(self.x), device=self.ctx.device).split(bs):
            logits = nt_xent_logits(*self._pair(self.x[idx], gen), self.s["temperature"])
            correct += int((logits.argmax(1) == nt_xent_targets(len(idx), logits)).sum())
        held = (
            _loss_pass(lambda idx: self._loss(heldout[idx], gen), len(heldout), bs, gen)
            if len(heldout)
            else float("nan")
        )
        train_loss = stats[-1].per_batch
        return {
            "train-loss": train_loss,
            "init-loss": self.init_loss,
            "loss-drop": self.init_loss - train_loss,
            "heldout-loss": held,
            "inst-acc": correct / (2 * len(self.x)),
            "init-cosine": self.init_cosine,
            "epoch_losses": [e.per_batch for e in stats],
            "train_loss_per_image": stats[-1].per_image,
            "images_seen": 2 * len(self.x) * len(stats),
            "variant": "simclr",
        }


@dataclass
class ContrastiveProxy(TrainedProxy):
    name: ClassVar[str] = "contrastive"
    labels: ClassVar[bool] = False
    #: every readout recorded in `extra`, with its a-priori direction (`harness correlate`)
    readout_directions: ClassVar[dict[str, Direction]] = READOUTS

    def model(self, network: nn.Module) -> nn.Module:
        s = self.config
        return Embedder(network, s["head"], s["proj_dim"], fuse=s["variant"] == "pirl")

    def run(self, ctx: Context) -> PirlRun | SimclrRun:
        return PirlRun(ctx) if self.config["variant"] == "pirl" else SimclrRun(ctx)


def contrastive(**overrides: Any) -> ContrastiveProxy:
    """Registry factory: keyword settings overrides, including `profile=`."""
    s = resolve("contrastive", DEFAULTS, overrides, VARIANTS, switch="variant")
    _check_choice(s, "score", tuple(READOUTS))
    _check_choice(s, "head", HEADS)
    if s["variant"] == "pirl":
        if s["augment"] != "csnas":
            raise HarnessError("variant pirl uses the authors' views: augment must be 'csnas'")
    else:
        _check_choice(s, "augment", AUGMENTS)
    negatives = s["negatives"]
    if negatives != "auto" and (
        isinstance(negatives, bool) or not isinstance(negatives, int) or negatives < 1
    ):
        raise HarnessError(f"setting negatives={negatives!r} must be 'auto' or an integer >= 1")
    proj = s["proj_dim"]
    if isinstance(proj, bool) or not isinstance(proj, int) or proj < 1:
        raise HarnessError(f"setting proj_dim={proj!r} for proxy contrastive must be >= 1")
    t = s["temperature"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < float(t) <= 1e3:
        raise HarnessError(f"setting temperature={t!r} for proxy contrastive must be in (0, 1e3]")
    s["temperature"] = float(t)
    w = s["memory_weight"]
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < float(w) <= 1:
        raise HarnessError(f"setting memory_weight={w!r} for proxy contrastive must be in (0, 1]")
    s["memory_weight"] = float(w)
    resolve_device(s["device"])
    return ContrastiveProxy(s)
