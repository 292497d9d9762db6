"""SimSiam: train a network from scratch with a non-contrastive Siamese loss, no labels.

Chen & He, CVPR 2021, "Exploring simple Siamese representation learning", as their code runs
it (facebookresearch/simsiam: simsiam/builder.py, main_simsiam.py) and as the paper's CIFAR
appendix sets it:

- two augmented views x1, x2 of each image, each through the encoder in its own forward pass
  (so each view has its own BatchNorm statistics, as their two `self.encoder(...)` calls);
- encoder = backbone + projector; predictor h on top; loss (`losses.simsiam_loss`)
  0.5 D(p1, stopgrad(z2)) + 0.5 D(p2, stopgrad(z1)), D = negative cosine similarity;
- projector: the paper's CIFAR variant has 2 layers: Linear(d, d, no bias) BN ReLU,
  Linear(d, proj_dim, no bias) BN (no affine), d = the backbone's feature width (their
  output fc keeps a frozen bias, which the following BN removes: the same function);
- predictor: Linear(proj_dim, pred_dim, no bias) BN ReLU, Linear(pred_dim, proj_dim), with
  the paper's proj_dim 2048 (setting `proj_dim`) and its bottleneck pred_dim = proj_dim / 4
  (their 2048 -> 512 -> 2048 bottleneck, kept as a ratio rather than a setting of its own).

Why SimSiam and not BYOL: the same Siamese bootstrapping family (BossNAS's) without the EMA
target network, so one network is trained per step exactly as the other trained proxies
train theirs, with one optimiser and no momentum schedule to choose.

Where it differs (every other setting is shared with the trained proxies so that the proxies
compare at equal budget):
- optimiser and budget: the template's SGD with the profile's lr (1e-3), momentum 0.9, no
  weight decay, constant lr for the predictor and the rest alike; theirs on CIFAR: lr 0.03 x
  batch/256, weight decay 5e-4, cosine decay, 800 epochs, ResNet-18 (d = 512);
- the backbone is the space's network (`network.features`, which for NB201 include its final
  BN + ReLU), so d is 4C (32 at quick, 64 at paper) against ResNet-18's 512, and the 2048-d
  projection widens it instead of keeping it;
- augmentation `strong` (the harness's SimCLR CIFAR recipe: random resized crop with scale
  0.08-1, flip, colour jitter 0.4/0.4/0.4/0.1 with p 0.8, grayscale p 0.2); SimSiam's crop
  scale is 0.2-1 (the rest the same; no blur on CIFAR); hue jitter is the harness's YIQ
  rotation, not torchvision's HSV shift;
- random streams are seeded torch generators (`trained.Streams`); no zero-init of residual BN.

Readouts in `Evaluation.extra`, directions fixed a priori (never from ground truth); the
`score` setting picks the search score:
- train-loss (minimize, the default): the last epoch's mean training loss per image (in
  [-1, 1]). The CSNAS authors score a candidate by its training loss, and the contrastive
  proxy does the same, so the default keeps the self-supervised proxies comparable;
- init-loss (minimize): the loss on the training images before any step (train mode, views
  from the readout stream, BatchNorm buffers restored);
- loss-drop (maximize): init-loss - train-loss;
- heldout-loss (minimize): the loss on the held-out images, eval mode, two views each from the
  readout stream;
- output-std (maximize): the paper's collapse monitor (their Fig. 2): the per-channel std of
  the l2-normalised projections z / ||z|| over the held-out images (eval mode, no
  augmentation), averaged over channels; 0 when collapsed, about 1/sqrt(proj_dim) when not;
- rankme (maximize): RankMe of the held-out images' backbone features (the template's,
  `harness.proxies.trained`).
SimSiam has no pretext accuracy. Loss readouts are per-image means (`EpochStats.per_image`).
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
from harness.proxies.losses import simsiam_loss
from harness.proxies.profiles import resolve
from harness.proxies.trained import Context, TrainedProxy, buffers_kept, in_order, mean_loss
from harness.proxies.training import EpochStats, batches, resolve_device

DEFAULTS: dict[str, Any] = {"score": "train-loss", "augment": "strong", "proj_dim": 2048}
#: the predictor's bottleneck: hidden width = proj_dim / PRED_RATIO (the paper's 2048 / 512)
PRED_RATIO = 4
#: score setting -> direction, fixed a priori (see the module docstring)
READOUTS: dict[str, Direction] = {
    "train-loss": "minimize",
    "init-loss": "minimize",
    "loss-drop": "maximize",
    "heldout-loss": "minimize",
    "output-std": "maximize",
    "rankme": "maximize",
}


class SimSiamNet(nn.Module):
    """Backbone features -> 2-layer projector (z) -> 2-layer bottleneck predictor (p)."""

    def __init__(self, network: nn.Module, proj_dim: int) -> None:
        super().__init__()
        pred_dim = max(1, proj_dim // PRED_RATIO)
        self.network = network
        d = int(network.feature_dim)  # type: ignore[arg-type]
        self.projector = nn.Sequential(
            nn.Linear(d, d, bias=False),
            nn.BatchNorm1d(d),
            nn.ReLU(),
            nn.Linear(d, proj_dim, bias=False),
            nn.BatchNorm1d(proj_dim, affine=False),
        )
        self.predictor = nn.Sequential(
            nn.Linear(proj_dim, pred_dim, bias=False),
            nn.BatchNorm1d(pred_dim),
            nn.ReLU(),
            nn.Linear(pred_dim, proj_dim),
        )

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.network.features(x))  # type: ignore[operator]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, p) of one view."""
        z = self.project(x)
        return z, self.predictor(z)


def output_std(z: torch.Tensor) -> float:
    """The paper's collapse monitor: mean over channels of std over images of z / ||z||."""
    u = F.normalize(z.to(torch.float64), dim=1)
    return float(u.std(0).mean())


class SimSiamRun:
    """One evaluation: SimSiam over two augmented views of the training subset."""

    def __init__(self, ctx: Context) -> None:
        s, split = ctx.settings, ctx.split
        self.ctx, self.s, self.x = ctx, s, split.train_x
        self.model: SimSiamNet = ctx.model  # type: ignore[assignment]
        self.aug = Augment(s["augment"], s["image_size"], split.mean, split.std)
        self.plain = self.aug.plain
        self.init_loss = float("nan")

    def _loss(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        x1, x2 = self.aug(images, gen), self.aug(images, gen)
        z1, p1 = self.model(x1)
        z2, p2 = self.model(x2)
        return simsiam_loss(p1, p2, z1, z2)

    @torch.no_grad()
    def setup(self) -> None:
        n, bs, gen = len(self.x), self.s["batch_size"], self.ctx.readout_gen
        with buffers_kept(self.model):
            self.init_loss = mean_loss(
                lambda idx: self._loss(self.x[idx], gen), batches(n, bs, gen)
            )

    def before_epoch(self) -> None:
        pass

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        return self._loss(self.x[idx], self.ctx.train_gen)

    @torch.no_grad()
    def finish(self, stats: list[EpochStats]) -> dict[str, Any]:
        self.model.eval()
        held, bs, gen = self.ctx.split.heldout_x, self.s["batch_size"], self.ctx.readout_gen
        parts = in_order(len(held), bs, held.device)
        heldout = mean_loss(lambda idx: self._loss(held[idx], gen), parts)
        z = [self.model.project(self.plain(held[idx])) for idx in parts]
        train_loss = stats[-1].per_image
        return {
            "train-loss": train_loss,
            "init-loss": self.init_loss,
            "loss-drop": self.init_loss - train_loss,
            "heldout-loss": heldout,
            "output-std": output_std(torch.cat(z)) if len(held) > 1 else float("nan"),
            "epoch_losses": [e.per_image for e in stats],
            "images_seen": 2 * len(self.x) * len(stats),
        }


@dataclass
class SimSiamProxy(TrainedProxy):
    name: ClassVar[str] = "simsiam"
    labels: ClassVar[bool] = False
    #: every readout recorded in `extra`, with its a-priori direction (`harness correlate`)
    readout_directions: ClassVar[dict[str, Direction]] = READOUTS

    def model(self, network: nn.Module) -> nn.Module:
        return SimSiamNet(network, self.config["proj_dim"])

    def run(self, ctx: Context) -> SimSiamRun:
        return SimSiamRun(ctx)


def simsiam(**overrides: Any) -> SimSiamProxy:
    """Registry factory: keyword settings overrides, including `profile=`."""
    s = resolve("simsiam", DEFAULTS, overrides)
    for key, choices in (("score", tuple(READOUTS)), ("augment", AUGMENTS)):
        if s[key] not in choices:
            raise HarnessError(f"unknown {key} {s[key]!r} (known: {', '.join(choices)})")
    v = s["proj_dim"]
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise HarnessError(f"setting proj_dim={v!r} for proxy simsiam must be an integer >= 1")
    if s["batch_size"] < 2 or s["train_images"] % s["batch_size"] == 1:
        # BatchNorm1d in the projector cannot normalise a training batch of one image
        raise HarnessError(
            f"proxy simsiam: train_images={s['train_images']} and batch_size="
            f"{s['batch_size']} leave a batch of one image (its projector's BatchNorm needs 2)"
        )
    resolve_device(s["device"])
    return SimSiamProxy(s)
