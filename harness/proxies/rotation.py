"""Rotation prediction: train a network from scratch to tell which of 4 rotations it sees.

The pretext task of Liu et al., ECCV 2020, "Are labels necessary for neural architecture
search?" (UnNAS), as their code runs it (facebookresearch/unnas: pycls/datasets/prepare.py
`prepare_rot`, `prepare_im`; cifar10.py; loader.py's rot collate; models/common.py
`Classifier`; core/trainer.py; configs/sample_based/*/cifar10/rot/*.yaml):

- every training image is augmented once, then shown in all 4 rotations (0, 90, 180, 270
  degrees, np.rot90 from the height towards the width axis), labels 0..3, the 4 consecutive
  in one batch: a batch of B images is one forward pass of 4B (they do not sample one
  rotation per image);
- head: global average pooling + Linear(features -> 4), their `Classifier` with NUM_CLASSES 4;
  here the space's network's pooled features (`network.features`, which for NB201 include its
  final BN + ReLU) feed a new Linear(feature_dim -> 4); the network's own 10-way classifier is
  left unused;
- loss: cross-entropy (nn.CrossEntropyLoss, mean over the 4B images);
- augmentation (`augment="unnas"`, the default): their CIFAR recipe, normalise, horizontal
  flip p=0.5, then a random crop of the image size from the image zero-padded by 4 pixels
  (zeros after normalisation, i.e. the mean colour); their offset is
  np.random.randint(0, h - size), which never reaches the last offset 2 x pad, and so is ours;
- their held-out figure: top-1 accuracy over all 4 rotations of each test image, eval mode,
  no augmentation (our `rot-acc`, on held-out training-split images).

Where it differs from their code (every other setting is shared with the trained proxies so
that the proxies compare at equal budget):
- optimiser and budget: the template's SGD with the profile's lr (1e-3), momentum 0.9, no
  weight decay, constant lr, `epochs` epochs of `train_images` images, `batch_size` images (x 4
  rotations) per step; theirs: SGD lr 0.025 nesterov, momentum 0.9, weight decay 5e-4, cosine
  schedule, 100 epochs on all 50k images, 32 images (128 rotated) per step, on their DARTS
  and NAS-Bench-101 networks (NB201 is not in their study);
- the crop pad scales with the image size: round(4 x image_size / 32), so 2 at 16x16 (quick);
- normalisation with the data's mean and std (`Split.mean/std`) instead of their fixed
  CIFAR-10 statistics (125.3, 123.0, 113.9) / (63.0, 62.1, 66.7) / 255; images resized to
  `image_size` first (bilinear, antialiased);
- random streams are seeded torch generators (`trained.Streams`), not numpy's global state;
  BatchNorm statistics are the batch's (they use precise BN statistics over 1024 images
  before each test, we the running averages);
- `augment` may also be one of the harness's recipes (strong, weak, none).

Readouts in `Evaluation.extra`, directions fixed a priori (never from ground truth); the
`score` setting picks the search score:
- train-loss (minimize, the default): the last epoch's mean training loss per image. The
  CSNAS authors score a candidate by its training loss, and the contrastive proxy does the
  same, so the default keeps the self-supervised proxies comparable;
- init-loss (minimize): the same loss on the training images before any step (train mode,
  augmented from the readout stream, BatchNorm buffers restored);
- loss-drop (maximize): init-loss - train-loss;
- heldout-loss (minimize): the loss on the held-out images, all 4 rotations, eval mode, no
  augmentation (draws no random number);
- rot-acc (maximize): share of the held-out images' 4 x N rotations predicted right, the same
  pass (the pretext task's own accuracy: chance is 0.25);
- rankme (maximize): RankMe of the held-out images' backbone features, unrotated (the
  template's, `harness.proxies.trained`).
Loss readouts are per-image means (`EpochStats.per_image`, ln 4 = 1.386 at chance), not the
CSNAS authors' per-batch figure; for fixed settings the two rank cells identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from harness import HarnessError
from harness.data.augment import AUGMENTS, Augment, hflip
from harness.proxies.base import Direction
from harness.proxies.losses import ROTATIONS, rotation_loss, rotations
from harness.proxies.profiles import resolve
from harness.proxies.trained import (
    Context,
    TrainedProxy,
    buffers_kept,
    in_order,
    mean_loss,
)
from harness.proxies.training import EpochStats, batches, resolve_device

DEFAULTS: dict[str, Any] = {"score": "train-loss", "augment": "unnas"}
#: score setting -> direction, fixed a priori (see the module docstring)
READOUTS: dict[str, Direction] = {
    "train-loss": "minimize",
    "init-loss": "minimize",
    "loss-drop": "maximize",
    "heldout-loss": "minimize",
    "rot-acc": "maximize",
    "rankme": "maximize",
}
RECIPES = ("unnas", *AUGMENTS)
#: unnas's zero padding before the random crop, at 32x32
UNNAS_PAD = 4


def unnas_pad(image_size: int) -> int:
    """Their 4-pixel pad at 32x32, scaled to the image size (at least 1)."""
    return max(1, round(UNNAS_PAD * image_size / 32))


def pad_crop(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """pycls `random_crop(im, size, pad_size)`: zero-pad by `pad`, crop the original size at
    offsets drawn from 0..2 pad - 1 (np.random.randint(0, h - size): the last offset is never
    drawn), one (y, x) offset per image, y first as theirs."""
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad, (n,), generator=gen, device=x.device)
    dx = torch.randint(0, 2 * pad, (n,), generator=gen, device=x.device)
    rows = (dy.view(-1, 1) + torch.arange(h, device=x.device)).view(n, 1, h, 1)
    cols = (dx.view(-1, 1) + torch.arange(w, device=x.device)).view(n, 1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    channel = torch.arange(x.shape[1], device=x.device).view(1, -1, 1, 1)
    return padded[batch, channel, rows, cols]


class RotationNet(nn.Module):
    """The space's network's pooled features + Linear(feature_dim -> 4) (unnas's head)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        self.head = nn.Linear(int(network.feature_dim), ROTATIONS)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.network.features(x))  # type: ignore[operator]


class RotationRun:
    """One evaluation: 4-way rotation prediction over the training subset."""

    def __init__(self, ctx: Context) -> None:
        s, split = ctx.settings, ctx.split
        self.ctx, self.s, self.x = ctx, s, split.train_x
        self.model = ctx.model
        self.plain = Augment("none", s["image_size"], split.mean, split.std).plain
        recipe = s["augment"]
        self.aug: Augment | None = (
            None if recipe == "unnas" else Augment(recipe, s["image_size"], split.mean, split.std)
        )
        self.pad = unnas_pad(s["image_size"])
        self.init_loss = float("nan")

    def augment(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """The training view of uint8 images (before rotating)."""
        if self.aug is not None:
            return self.aug(images, gen)
        # theirs: colour-normalise, flip, then the padded crop (zeros = the mean colour)
        x = hflip(self.plain(images), gen)
        return pad_crop(x, self.pad, gen)

    def _logits(self, views: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = rotations(views)
        return self.model(images), labels

    def _loss(self, views: torch.Tensor) -> torch.Tensor:
        return rotation_loss(*self._logits(views))

    @torch.no_grad()
    def setup(self) -> None:
        n, bs, gen = len(self.x), self.s["batch_size"], self.ctx.readout_gen
        with buffers_kept(self.model):
            self.init_loss = mean_loss(
                lambda idx: self._loss(self.augment(self.x[idx], gen)), batches(n, bs, gen)
            )

    def before_epoch(self) -> None:
        pass

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        return self._loss(self.augment(self.x[idx], self.ctx.train_gen))

    @torch.no_grad()
    def finish(self, stats: list[EpochStats]) -> dict[str, Any]:
        self.model.eval()
        held = self.ctx.split.heldout_x
        total, correct = 0.0, 0
        for idx in in_order(len(held), self.s["batch_size"], held.device):
            logits, labels = self._logits(self.plain(held[idx]))
            total += float(rotation_loss(logits, labels)) * len(idx)
            correct += int((logits.argmax(1) == labels).sum())
        n = len(held)
        train_loss = stats[-1].per_image
        return {
            "train-loss": train_loss,
            "init-loss": self.init_loss,
            "loss-drop": self.init_loss - train_loss,
            "heldout-loss": total / n if n else float("nan"),
            "rot-acc": correct / (ROTATIONS * n) if n else float("nan"),
            "epoch_losses": [e.per_image for e in stats],
            "images_seen": ROTATIONS * len(self.x) * len(stats),
        }


@dataclass
class RotationProxy(TrainedProxy):
    name: ClassVar[str] = "rotation"
    labels: ClassVar[bool] = False
    #: every readout recorded in `extra`, with its a-priori direction (`harness correlate`)
    readout_directions: ClassVar[dict[str, Direction]] = READOUTS

    def model(self, network: nn.Module) -> nn.Module:
        return RotationNet(network)

    def run(self, ctx: Context) -> RotationRun:
        return RotationRun(ctx)


def rotation(**overrides: Any) -> RotationProxy:
    """Registry factory: keyword settings overrides, including `profile=`."""
    s = resolve("rotation", DEFAULTS, overrides)
    for key, choices in (("score", tuple(READOUTS)), ("augment", RECIPES)):
        if s[key] not in choices:
            raise HarnessError(f"unknown {key} {s[key]!r} (known: {', '.join(choices)})")
    resolve_device(s["device"])
    return RotationProxy(s)
