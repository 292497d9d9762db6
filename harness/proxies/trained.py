"""One evaluation template for the trained proxies (`contrastive`, `supervised`, `rotation`,
`simsiam`).

The base owns everything the two share: timer, device, the seeded data split, the network
built by the benchmark's space under a seeded init, the optimiser, the training loop, the
failure handling and the Evaluation. A proxy supplies only a `Run`: its network head
(`model`), what happens before training and at each epoch start, the training step, and the
readouts that give the score. Nothing here knows a space's types: the network comes from
`SPACES.get(benchmark.space).network(arch, num_classes, **scale)`.

After training the template adds one readout every trained proxy shares, `rankme` (Garrido
et al., ICML 2023, "RankMe: assessing the downstream performance of pretrained
self-supervised representations by their rank"): the effective rank of the embeddings of the
held-out images. The embedding is the same for every proxy: the space's network's pooled
features (`network.features`, width `feature_dim`), i.e. what the supervised classifier reads
and what the contrastive, rotation and Siamese heads read, before any head. A head differs
between proxies (a 256-d linear projection, a 4-way classifier, a 2048-d MLP), so only the
backbone's output is comparable across losses, and it is what a searched cell contributes.
Images: the held-out images (disjoint from the training subset), eval mode, no augmentation,
normalised as the proxy's training views are (`Run.plain`). No random number is drawn, so
RankMe leaves the training and readout streams, and every other readout, unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from harness import HarnessError
from harness.proxies.base import Direction, Evaluation
from harness.proxies.training import (
    Diverged,
    EpochStats,
    Split,
    Timer,
    device_label,
    generator,
    images_for,
    make_split,
    pinned_threads,
    place_model,
    resolve_device,
    seeds,
    sgd,
    timed_evaluation,
    train_epochs,
)


@dataclass(frozen=True)
class Streams:
    """Independent seeds of one evaluation: weight init, training subset, the training
    stream (batch order, augmentation), and the readouts' own stream, so that computing
    readouts never changes the training trajectory."""

    init: int
    subset: int
    train: int
    readout: int

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        return cls(*seeds(seed, 4))


class Run(Protocol):
    """What a trained proxy supplies for one evaluation (built after the network)."""

    def setup(self) -> None:
        """Before the first epoch (e.g. fill a memory bank, measure the untrained network)."""

    def before_epoch(self) -> None: ...

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        """The training loss of the batch `idx` (indices into the training subset)."""
        ...

    def finish(self, stats: list[EpochStats]) -> dict[str, Any]:
        """All readouts after training, by score name (floats) plus any other extra."""
        ...

    def plain(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images as the network's input without augmentation (resized and normalised
        as the training views are): what the shared `rankme` readout embeds."""
        ...


@dataclass(frozen=True)
class Context:
    """What a Run is built from."""

    model: nn.Module
    split: Split
    settings: dict[str, Any]
    device: torch.device
    train_gen: torch.Generator
    readout_gen: torch.Generator
    #: the space's network inside `model` (the backbone whose features `rankme` reads);
    #: None means `model` itself
    network: nn.Module | None = None


def network_scale(space: Any, settings: dict[str, Any]) -> dict[str, int]:
    """The space's default scale for the profile, overridden by explicit settings of the keys
    this space declares (keys other spaces declare are ignored)."""
    scale = dict(space.proxy_scale(str(settings["profile"])))
    scale.update({k: settings[k] for k in space.scale_keys if k in settings})
    return scale


def space_of(benchmark: Any) -> Any:
    from harness.spaces import SPACES

    if benchmark is None or not hasattr(benchmark, "space"):
        raise HarnessError("a trained proxy needs a benchmark (it names the search space)")
    return SPACES.get(benchmark.space)


@contextmanager
def buffers_kept(model: nn.Module) -> Iterator[None]:
    """Restore the model's buffers (BatchNorm running statistics) on exit: a readout pass in
    train mode must leave no trace in the trained network."""
    saved = {name: b.clone() for name, b in model.named_buffers()}
    try:
        yield
    finally:
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(saved[name])


def finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@torch.no_grad()
def mean_loss(loss: Callable[[torch.Tensor], torch.Tensor], parts: Iterable[torch.Tensor]) -> float:
    """The mean per image of `loss(idx)` (a batch mean) over the index batches `parts`, without
    gradient: the per-image aggregate of the rotation and Siamese readouts."""
    total, count = 0.0, 0
    for idx in parts:
        total += float(loss(idx)) * len(idx)
        count += len(idx)
    return total / count if count else float("nan")


def in_order(n: int, batch_size: int, device: torch.device) -> list[torch.Tensor]:
    """Index batches 0..n-1 in order: a pass that draws no random number."""
    return list(torch.arange(n, device=device).split(batch_size))


#: the epsilon of RankMe's p_k (Garrido et al. 2023, eq. 1; "1e-7 for float32")
RANKME_EPS = 1e-7


def rankme(z: torch.Tensor, eps: float = RANKME_EPS) -> float:
    """RankMe(Z) = exp(-sum_k p_k log p_k), p_k = sigma_k(Z) / ||sigma(Z)||_1 + eps, over the
    min(N, K) singular values of the (N, K) embedding matrix, uncentred, as the paper defines
    it. Computed in float64 (the paper's code works in float32). A zero matrix (rank 0, where
    p_k is 0/0) gives 0.0."""
    s = torch.linalg.svdvals(z.detach().to(torch.float64))
    total = s.sum()
    if not total > 0:
        return 0.0
    p = s / total + eps
    return float(torch.exp(-(p * p.log()).sum()))


@torch.no_grad()
def embeddings(
    network: nn.Module,
    plain: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    batch_size: int,
) -> torch.Tensor:
    """The network's pooled features of `images` (eval mode, no augmentation), in order."""
    was_training = network.training
    network.eval()
    try:
        parts = [network.features(plain(x)) for x in images.split(batch_size)]  # type: ignore[operator]
    finally:
        network.train(was_training)
    return torch.cat(parts).float()


@dataclass
class TrainedProxy:
    """The template; subclasses set `name`, `labels`, `readout_directions` and implement
    `model` and `run`. By default the `score` setting names the readout that is the score and
    its declared direction is the score's; a proxy with a fixed score overrides `direction` and
    `score_key`."""

    config: dict[str, Any]
    deterministic: bool = False
    name: ClassVar[str] = "trained"
    #: whether training reads labels (then labels_used = the training subset's size)
    labels: ClassVar[bool] = False
    #: every readout recorded in `extra`, with its a-priori direction (`harness correlate`)
    readout_directions: ClassVar[dict[str, Direction]] = {}

    @property
    def direction(self) -> Direction:
        return self.readout_directions[self.config["score"]]

    def settings(self) -> dict[str, Any]:
        return dict(self.config)

    def model(self, network: nn.Module) -> nn.Module:
        """The trained module around the space's network (built under the init seed)."""
        raise NotImplementedError

    def run(self, ctx: Context) -> Run:
        raise NotImplementedError

    def score_key(self) -> str:
        return str(self.config["score"])

    @pinned_threads
    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation:
        s = self.config
        timer = Timer()
        device = resolve_device(s["device"])
        space = space_of(benchmark)
        streams = Streams.from_seed(seed)
        split = make_split(
            images_for(s["data"]),
            s["train_images"],
            s["heldout_images"],
            streams.subset,
            device,
            labels=self.labels,
        )
        scale = network_scale(space, s)
        built: list[nn.Module] = []

        def build() -> nn.Module:
            built.append(space.network(arch, split.num_classes, **scale))
            return self.model(built[0])

        # `.to()` moves modules in place: built[0] is the placed model's backbone
        model = place_model(build, streams.init, device)
        ctx = Context(
            model=model,
            split=split,
            settings=s,
            device=device,
            train_gen=generator(streams.train, device),
            readout_gen=generator(streams.readout, device),
            network=built[0],
        )
        common: dict[str, Any] = {
            "labels_used": len(split.train_x) if self.labels else 0,
            "device": device_label(device),
        }
        extra: dict[str, Any] = {"data_source": split.source, "scale": scale}
        try:
            score = self._train(ctx, extra)
        except Diverged as err:
            return timed_evaluation(self.direction, timer, common, extra, error=str(err))
        return timed_evaluation(self.direction, timer, common, extra, score=score)

    def _train(self, ctx: Context, extra: dict[str, Any]) -> float:
        s = ctx.settings
        run = self.run(ctx)
        opt = sgd(ctx.model, s)
        ctx.model.train()
        clock = Timer()
        run.setup()
        setup_s = clock.elapsed
        stats = train_epochs(
            run.step,
            opt,
            len(ctx.split.train_x),
            s["batch_size"],
            s["epochs"],
            ctx.train_gen,
            before_epoch=run.before_epoch,
        )
        train_s = clock.elapsed - setup_s
        readouts = run.finish(stats)
        readouts["rankme"] = self._rankme(ctx, run)
        # where an evaluation's time goes (setup: pirl's memory-bank pass and the init-loss
        # readout; readouts: held-out loss, instance accuracy); the rest of wall_s is data
        # and network building
        extra["phase_s"] = {
            "setup": setup_s,
            "train": train_s,
            "readouts": clock.elapsed - setup_s - train_s,
        }
        extra.update(steps=sum(e.batches for e in stats))
        extra.update(
            {k: finite_or_none(v) if isinstance(v, float) else v for k, v in readouts.items()}
        )
        score = readouts[self.score_key()]
        if not math.isfinite(score):
            raise Diverged(f"non-finite {self.score_key()} {score}")
        return float(score)

    @staticmethod
    def _rankme(ctx: Context, run: Run) -> float:
        """RankMe of the held-out images' backbone features (see the module docstring)."""
        x = ctx.split.heldout_x
        if len(x) == 0:
            return float("nan")
        network = ctx.network if ctx.network is not None else ctx.model
        return rankme(embeddings(network, run.plain, x, int(ctx.settings["batch_size"])))
