"""Measured, never asserted: images/s of `evaluate`'s training step and the checkpoint cost.

For the DARTS evaluation network (DARTS_V2, C=36, 20 cells, batch 96) and the NB201 network
(C=16, N=5, batch 256) under their paper protocols: one SGD step exactly as `evaluate` runs it
(uint8 batch augmented on the device, forward with the auxiliary head, backward, clipping)
in fp32, fp32 channels-last and bf16 autocast + channels-last; test-time images/s; and the
projected hours of the published schedules from those. The checkpoint cost is the time to
write one full checkpoint atomically, against one epoch's time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from harness.evaluate import checkpoint as ckpt
from harness.evaluate.augment import eval_batch
from harness.evaluate.device import autocast, device_manifest, resolve_device, torch_threads
from harness.evaluate.protocols import PROTOCOLS
from harness.evaluate.trainer import Task, setup_state, split_output, train_step
from harness.spaces import SPACES

#: (label, space, cell, protocol, train images per epoch, test images per epoch)
CASES = (
    ("darts DARTS_V2 C=36 L=20", "darts", "DARTS_V2", "darts", 50_000, 10_000),
    (
        "nb201 C=16 N=5",
        "nb201",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "nor_conv_3x3~2|",
        "nb201",
        50_000,
        10_000,
    ),
)
MODES = (("fp32", False), ("fp32", True), ("bf16", True))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _task(space_name: str, cell: str, protocol: str, precision: str, cl: bool) -> Task:
    space = SPACES.get(space_name)
    proto = PROTOCOLS.get(protocol)
    settings = proto.resolve("paper", space_name, space.scale_keys, {})
    settings.update(precision=precision, channels_last=cl, data="unused")
    return Task(
        space=space, arch=space.parse(cell), num_classes=10, dataset="cifar10",
        protocol=protocol, settings=settings, checkpoint=Path("unused"), key="bench",
    )  # fmt: skip


def _time_steps(task: Task, device: torch.device, steps: int) -> dict[str, Any]:
    proto = PROTOCOLS.get(task.protocol)
    precision = task.settings["precision"]
    st = setup_state(task, proto, device, precision)
    if hasattr(st.model, "drop_path_prob"):
        st.model.drop_path_prob = task.settings["drop_path"]  # the costliest epochs
    batch = task.settings["batch_size"]
    gen = torch.Generator(device=device).manual_seed(0)
    images = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, device=device,
                           generator=gen)  # fmt: skip
    labels = torch.randint(0, 10, (batch,), device=device, generator=gen)
    stats = proto.stats("cifar10")
    st.model.train()
    train_step(st, images, labels, task.settings, stats, precision, device)  # warm-up
    _sync(device)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        train_step(st, images, labels, task.settings, stats, precision, device)
        _sync(device)
        times.append(time.perf_counter() - t0)
    st.model.eval()
    mem = torch.channels_last if task.settings["channels_last"] else torch.contiguous_format
    test_batch = task.settings["test_batch_size"]
    test_images = images.repeat((test_batch + batch - 1) // batch, 1, 1, 1)[:test_batch]
    with torch.no_grad(), autocast(precision, device):
        x = eval_batch(test_images, *stats).contiguous(memory_format=mem)
        split_output(st.model(x))
        _sync(device)
        t0 = time.perf_counter()
        split_output(st.model(x))
        _sync(device)
        test_s = time.perf_counter() - t0
    step = statistics.median(times)
    return {"train_ips": batch / step, "test_ips": test_batch / test_s, "step_s": step,
            "state": st}  # fmt: skip


def _checkpoint_cost(st: Any, device: torch.device, repeats: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pt"
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ckpt.save_atomic(st.snapshot(device, "bench"), path)
            times.append(time.perf_counter() - t0)
        size = path.stat().st_size
    return {"checkpoint_s": statistics.median(times), "checkpoint_mb": size / 2**20}


def run_bench(steps: int = 3, threads: int | None = None, device: str = "auto") -> dict:
    dev = resolve_device(device)
    rows = []
    with torch_threads(threads):
        for label, space_name, cell, protocol, n_train, n_test in CASES:
            if space_name not in SPACES:
                rows.append({"case": label, "skipped": f"space {space_name} not registered"})
                continue
            epochs = PROTOCOLS.get(protocol).profiles["paper"]["epochs"]
            for precision, cl in MODES:
                if (
                    precision == "bf16"
                    and dev.type == "cuda"
                    and not torch.cuda.is_bf16_supported()
                ):
                    continue
                r = _time_steps(_task(space_name, cell, protocol, precision, cl), dev, steps)
                epoch_s = n_train / r["train_ips"] + n_test / r["test_ips"]
                row = {"case": label, "precision": precision, "channels_last": cl,
                       "epochs": epochs, "train_ips": r["train_ips"], "test_ips": r["test_ips"],
                       "epoch_s": epoch_s, "projected_h": epochs * epoch_s / 3600}  # fmt: skip
                cost = _checkpoint_cost(r["state"], dev)
                row.update(cost, checkpoint_pct=100 * cost["checkpoint_s"] / epoch_s)
                rows.append(row)
        info = device_manifest(dev, "various", True)
    return {"device": info, "steps": steps, "rows": rows}


def format_lines(figures: dict) -> list[str]:
    d = figures["device"]
    lines = [
        f"device {d['device_label']} ({d['device_name']}), torch {d['torch']}, "
        f"{figures['steps']} timed steps per case (median)",
        f"{'case':26s} {'mode':12s} {'train img/s':>11s} {'test img/s':>10s} "
        f"{'epoch s':>9s} {'hours':>8s} {'ckpt s':>7s} {'ckpt %':>7s} {'ckpt MB':>8s}",
    ]
    for r in figures["rows"]:
        if "skipped" in r:
            lines.append(f"{r['case']:26s} skipped: {r['skipped']}")
            continue
        mode = r["precision"] + ("+CL" if r["channels_last"] else "")
        lines.append(
            f"{r['case']:26s} {mode:12s} {r['train_ips']:11.1f} {r['test_ips']:10.1f} "
            f"{r['epoch_s']:9.1f} {r['projected_h']:8.1f} {r['checkpoint_s']:7.3f} "
            f"{r['checkpoint_pct']:6.3f}% {r['checkpoint_mb']:8.1f}"
        )
    lines.append("hours: the protocol's paper epochs (600 DARTS, 200 NB201) at these rates, "
                 "50k train + 10k test images per epoch")  # fmt: skip
    return lines
