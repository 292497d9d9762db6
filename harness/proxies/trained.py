"""One evaluation template for the trained proxies (`contrastive`, `supervised`).

The base owns everything the two share: timer, device, the seeded data split, the network
built by the benchmark's space under a seeded init, the optimiser, the training loop, the
failure handling and the Evaluation. A proxy supplies only a `Run`: its network head
(`model`), what happens before training and at each epoch start, the training step, and the
readouts that give the score. Nothing here knows a space's types: the network comes from
`SPACES.get(benchmark.space).network(arch, num_classes, **scale)`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
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


@dataclass(frozen=True)
class Context:
    """What a Run is built from."""

    model: nn.Module
    split: Split
    settings: dict[str, Any]
    device: torch.device
    train_gen: torch.Generator
    readout_gen: torch.Generator


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


@dataclass
class TrainedProxy:
    """The template; subclasses set `name`, `labels` and implement `direction`, `model`, `run`
    and `score_key`."""

    config: dict[str, Any]
    deterministic: bool = False
    name: ClassVar[str] = "trained"
    #: whether training reads labels (then labels_used = the training subset's size)
    labels: ClassVar[bool] = False

    @property
    def direction(self) -> Direction:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        return dict(self.config)

    def model(self, network: nn.Module) -> nn.Module:
        """The trained module around the space's network (built under the init seed)."""
        raise NotImplementedError

    def run(self, ctx: Context) -> Run:
        raise NotImplementedError

    def score_key(self) -> str:
        raise NotImplementedError

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
        model = place_model(
            lambda: self.model(space.network(arch, split.num_classes, **scale)),
            streams.init,
            device,
        )
        ctx = Context(
            model=model,
            split=split,
            settings=s,
            device=device,
            train_gen=generator(streams.train, device),
            readout_gen=generator(streams.readout, device),
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
