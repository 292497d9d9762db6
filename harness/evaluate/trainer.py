"""Train one returned cell from scratch under a protocol: resumable epoch by epoch.

Images stay uint8 on the training device; each step indexes a batch, augments it there and
steps SGD under the protocol's cosine schedule, optionally in bf16/fp16 autocast and
channels-last. After every epoch the test accuracy is taken (every `eval_every` epochs) and a
checkpoint is written atomically; a rerun of the same evaluation continues from it, and on a
CPU ends with exactly the numbers an uninterrupted run gives.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from harness import HarnessError
from harness.evaluate import checkpoint as ckpt
from harness.evaluate.augment import eval_batch, train_batch
from harness.evaluate.data import EvalData, load_eval_data
from harness.evaluate.device import (
    autocast,
    device_label,
    device_manifest,
    grad_scaler,
    resolve_precision,
    set_determinism,
)
from harness.evaluate.protocols import PROTOCOLS, TrainingProtocol

#: curve fields that depend on the clock, not on the computation
TIMING_FIELDS = ("epoch_s", "images_per_s", "checkpoint_s")


class Diverged(HarnessError):
    """A non-finite training loss: the evaluation is stored as failed."""


@dataclass
class TrainResult:
    """The last epoch's test accuracy (%), test-time parameters, seconds spent in epochs and
    checkpoints over all sessions, the device, the per-epoch curve and the manifest."""

    test_acc: float
    params: int
    wall_s: float
    device: str
    curve: list[dict[str, Any]]
    manifest: dict[str, Any]


@dataclass
class Task:
    """One training: a cell of a space, a protocol's resolved settings, where to checkpoint."""

    space: Any
    arch: Any
    num_classes: int
    dataset: str
    protocol: str
    settings: dict[str, Any]
    checkpoint: Path
    key: str
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def streams(seed: int) -> dict[str, int]:
    """Independent seeds for weight init, data subset, batch order, augmentation, drop-path."""
    names = ("init", "subset", "order", "augment", "torch")
    values = np.random.SeedSequence(int(seed)).generate_state(len(names), dtype=np.uint32)
    return {n: int(v) for n, v in zip(names, values)}


def build_network(space: Any, arch: Any, num_classes: int, settings: dict[str, Any]) -> Any:
    """The space's evaluation network where it has one (DARTS: auxiliary head, drop-path),
    else its `network`; at the scale keys found in `settings`."""
    scale = {k: int(settings[k]) for k in space.scale_keys if k in settings}
    make = getattr(space, "evaluation_network", None)
    if make is not None:
        return make(arch, num_classes, **scale)
    return space.network(arch, num_classes, **scale)


def count_params(model: torch.nn.Module) -> int:
    """Parameters of the network used at test time (an auxiliary head is left out, as DARTS
    reports its sizes)."""
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith("auxiliary"))


def split_output(out: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(out, tuple):
        return out[0], out[1]
    return out, None


@dataclass
class TrainingState:
    model: Any
    optimizer: torch.optim.SGD
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    gens: dict[str, torch.Generator]
    epoch: int = 0
    wall_s: float = 0.0
    sessions: int = 0
    curve: list[dict[str, Any]] = field(default_factory=list)

    def snapshot(self, device: torch.device, key: str) -> dict[str, Any]:
        return {
            "key": key,
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": ckpt.rng_state(device, self.gens),
            "wall_s": self.wall_s,
            "sessions": self.sessions,
            "curve": self.curve,
        }

    def restore(self, saved: dict[str, Any], device: torch.device) -> None:
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.scaler.load_state_dict(saved["scaler"])
        ckpt.restore_rng(saved["rng"], device, self.gens)
        self.epoch = int(saved["epoch"])
        self.wall_s = float(saved["wall_s"])
        self.sessions = int(saved["sessions"])
        self.curve = list(saved["curve"])


def setup_state(
    task: Task, protocol: TrainingProtocol, device: torch.device, precision: str
) -> TrainingState:
    s = task.settings
    seeds = streams(s["seed"])
    torch.manual_seed(seeds["init"])
    model = build_network(task.space, task.arch, task.num_classes, s)
    fmt = torch.channels_last if s["channels_last"] else torch.contiguous_format
    model = model.to(device, memory_format=fmt)
    torch.manual_seed(seeds["torch"])  # the drop-path stream from here on
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=s["lr"],
        momentum=s["momentum"],
        weight_decay=s["weight_decay"],
        nesterov=s["nesterov"],
    )
    epochs = s["epochs"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda e: protocol.lr_factor(e, epochs)
    )
    gens = {
        "order": torch.Generator(device=device).manual_seed(seeds["order"]),
        "augment": torch.Generator(device=device).manual_seed(seeds["augment"]),
    }
    return TrainingState(model, optimizer, scheduler, grad_scaler(precision, device), gens)


def evaluate_accuracy(
    model: Any, data: EvalData, stats: tuple, batch_size: int, precision: str, device
) -> float:
    """Top-1 test accuracy (%) in eval mode (no drop-path, no auxiliary head)."""
    model.eval()
    correct = 0
    mem = torch.channels_last if _is_channels_last(model) else torch.contiguous_format
    with torch.no_grad(), autocast(precision, device):
        for start in range(0, len(data.test_x), batch_size):
            x = eval_batch(data.test_x[start : start + batch_size], stats[0], stats[1])
            logits, _ = split_output(model(x.contiguous(memory_format=mem)))
            correct += int((logits.argmax(1) == data.test_y[start : start + batch_size]).sum())
    return 100.0 * correct / len(data.test_x)


def _is_channels_last(model: Any) -> bool:
    for p in model.parameters():
        if p.dim() == 4:
            return p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()
    return False


#: steps between reading the running loss back from the device (progress bar, divergence)
SYNC_EVERY = 20


def train_step(
    st: TrainingState,
    images: torch.Tensor,
    y: torch.Tensor,
    s: dict[str, Any],
    stats: tuple,
    precision: str,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step on a uint8 batch (augmented on the device); returns the batch's summed
    loss and correct count as device tensors, so the host does not wait on every step."""
    mem = torch.channels_last if s["channels_last"] else torch.contiguous_format
    x = train_batch(
        images,
        st.gens["augment"],
        stats[0],
        stats[1],
        padding=s["crop_padding"],
        flip=s["flip"],
        cutout_length=s["cutout"],
    ).contiguous(memory_format=mem)
    st.optimizer.zero_grad(set_to_none=True)
    with autocast(precision, device):
        logits, aux = split_output(st.model(x))
        loss = F.cross_entropy(logits, y)
        if aux is not None and s["aux_weight"] > 0:
            loss = loss + s["aux_weight"] * F.cross_entropy(aux, y)
    st.scaler.scale(loss).backward()
    if s["grad_clip"] > 0:
        st.scaler.unscale_(st.optimizer)
        torch.nn.utils.clip_grad_norm_(st.model.parameters(), s["grad_clip"])
    st.scaler.step(st.optimizer)
    st.scaler.update()
    n = len(y)
    return loss.detach().float() * n, (logits.detach().argmax(1) == y).sum()


def _train_epoch(
    st: TrainingState, data: EvalData, task: Task, stats: tuple, precision: str, device, bar: Any
) -> tuple[float, float]:
    """One epoch; returns (mean loss per image, train accuracy %). Raises Diverged on a
    non-finite loss (checked every SYNC_EVERY steps and at the end)."""
    s = task.settings
    st.model.train()
    order = torch.randperm(data.n_train, generator=st.gens["order"], device=device)
    total = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for step, start in enumerate(range(0, data.n_train, s["batch_size"])):
        idx = order[start : start + s["batch_size"]]
        loss, right = train_step(st, data.train_x[idx], data.train_y[idx], s, stats, precision,
                                 device)  # fmt: skip
        total += loss
        correct += right
        seen += len(idx)
        bar.update(len(idx))
        if (step + 1) % SYNC_EVERY == 0 or start + s["batch_size"] >= data.n_train:
            mean = float(total) / seen
            if not math.isfinite(mean):
                raise Diverged(f"non-finite training loss in epoch {st.epoch + 1}")
            bar.set_postfix_str(f"epoch {st.epoch + 1}/{s['epochs']} loss {mean:.3f}")
    return float(total) / seen, 100.0 * int(correct) / seen


def train(task: Task, device: torch.device, progress: bool = True, position: int = 0):
    """Train (or resume) `task` on `device`; returns a TrainResult. The caller's torch RNG is
    left as it was."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        return _train(task, device, progress, position)


def _train(task: Task, device: torch.device, progress: bool, position: int) -> TrainResult:
    s = task.settings
    protocol = PROTOCOLS.get(task.protocol)
    precision = resolve_precision(s["precision"], device)
    flags = set_determinism(s["deterministic"], device)
    stats = protocol.stats(task.dataset)
    data = load_eval_data(
        s["data"],
        task.num_classes,
        s["train_images"],
        s["test_images"],
        streams(s["seed"])["subset"],
        device,
    )
    st = setup_state(task, protocol, device, precision)
    _resume(st, task, precision, device)
    st.sessions += 1
    resumed_at = st.epoch
    epochs = s["epochs"]
    bar = _bar(progress, epochs * data.n_train, st.epoch * data.n_train, task.label, position)
    try:
        while st.epoch < epochs:
            _one_epoch(st, data, task, protocol, stats, precision, device, bar)
    finally:
        bar.close()
    manifest = {
        **device_manifest(device, precision, s["channels_last"]),
        "determinism": flags,
        "protocol": protocol.name,
        "protocol_reference": protocol.reference,
        "protocol_notes": list(protocol.notes),
        "data_source": data.source,
        "data_note": data.note,
        "train_images": data.n_train,
        "test_images": len(data.test_x),
        "params_total": sum(p.numel() for p in st.model.parameters()),
        "sessions": st.sessions,
        "resumed_at_epoch": resumed_at or None,
        "checkpoint_s_total": sum(r.get("checkpoint_s", 0.0) for r in st.curve),
        **task.extra,
    }
    return TrainResult(
        test_acc=float(st.curve[-1]["test_acc"]),
        params=count_params(st.model),
        wall_s=st.wall_s,
        device=device_label(device),
        curve=st.curve,
        manifest=manifest,
    )


def _resume(st: TrainingState, task: Task, precision: str, device: torch.device) -> None:
    """Load the task's checkpoint into `st` if there is one (and it is this task's)."""
    saved = ckpt.load(task.checkpoint)
    if saved is None:
        return
    if saved.get("key") != task.key:
        raise HarnessError(
            f"checkpoint {task.checkpoint} belongs to another evaluation; move it away"
        )
    if saved.get("precision", precision) != precision:
        raise HarnessError(
            f"checkpoint {task.checkpoint} was trained in {saved['precision']}, this "
            f"device resolves to {precision}: set precision={saved['precision']}"
        )
    st.restore(saved, device)


def _one_epoch(
    st: TrainingState,
    data: EvalData,
    task: Task,
    protocol: TrainingProtocol,
    stats: tuple,
    precision: str,
    device: torch.device,
    bar: Any,
) -> None:
    s = task.settings
    epochs = s["epochs"]
    t0 = time.perf_counter()
    drop = protocol.drop_path_at(st.epoch, epochs, s["drop_path"])
    if hasattr(st.model, "drop_path_prob"):
        st.model.drop_path_prob = drop
    lr = float(st.optimizer.param_groups[0]["lr"])
    loss, train_acc = _train_epoch(st, data, task, stats, precision, device, bar)
    train_s = time.perf_counter() - t0
    st.scheduler.step()
    st.epoch += 1
    test_acc = None
    if st.epoch % s["eval_every"] == 0 or st.epoch == epochs:
        test_acc = evaluate_accuracy(st.model, data, stats, s["test_batch_size"], precision, device)
    epoch_s = time.perf_counter() - t0
    st.curve.append(
        {
            "epoch": st.epoch,
            "lr": lr,
            "drop_path": drop,
            "train_loss": loss,
            "train_acc": train_acc,
            "test_acc": test_acc,
            "epoch_s": epoch_s,
            "images_per_s": data.n_train / train_s if train_s > 0 else None,
        }
    )
    st.wall_s += epoch_s
    t1 = time.perf_counter()
    state = st.snapshot(device, task.key)
    state["precision"] = precision
    ckpt.save_atomic(state, task.checkpoint)
    spent = time.perf_counter() - t1
    st.curve[-1]["checkpoint_s"] = spent
    st.wall_s += spent


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(enabled: bool, total: int, initial: int, label: str, position: int) -> Any:
    if not enabled:
        return _NullBar()
    import sys

    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=label or "evaluate",
        unit="img",
        unit_scale=True,
        file=sys.stderr,
        dynamic_ncols=True,
        position=position,
        leave=position == 0,
    )
