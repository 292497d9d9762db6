"""How fast are the trained proxies here, and how much does the on-device pipeline buy?

For each profile and trained proxy: seconds per cell and training images per second (image
views through forward+backward), and the same training through a naive pipeline (a torch
DataLoader over a Dataset that transforms one PIL image at a time, as the CSNAS authors' code
does with torchvision) as a speed ratio. Networks come from the benchmark's space at the
proxy's scale, exactly as the proxies build them. Paper scale trains `paper_epochs` epochs
(default 1) and extrapolates seconds per cell to the profile's epochs; the rows say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageEnhance, ImageOps

from harness.benchmarks import BENCHMARKS
from harness.correlate import sample_unique_cells
from harness.data.augment import IMAGENET_MEAN, IMAGENET_STD
from harness.proxies import build_proxy, make_proxy
from harness.proxies.losses import (
    Memory,
    csnas_loss,
    negative_indices,
    negative_positions,
    nt_xent,
)
from harness.proxies.trained import Streams, network_scale, space_of
from harness.proxies.training import images_for, make_split


class NaiveDataset(torch.utils.data.Dataset):
    """Per-image PIL transforms in __getitem__, like torchvision pipelines."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, s: dict[str, Any], mean, std, views):
        self.x, self.y, self.s, self.views = x, y, s, views
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)
        self.rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return len(self.x)

    def _view(self, img: Image.Image) -> torch.Tensor:
        rng, size = self.rng, self.s["image_size"]
        if self.s["augment"] == "strong":
            area = rng.uniform(0.08, 1.0) * 32 * 32
            ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
            w = int(min(32, round(np.sqrt(area * ratio))))
            h = int(min(32, round(np.sqrt(area / ratio))))
            left, top = int(rng.integers(0, 33 - w)), int(rng.integers(0, 33 - h))
            img = img.resize(
                (size, size), Image.Resampling.BILINEAR, box=(left, top, left + w, top + h)
            )
            if rng.random() < 0.5:
                img = ImageOps.mirror(img)
            if rng.random() < 0.8:
                for enhance in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
                    img = enhance(img).enhance(rng.uniform(0.6, 1.4))
        else:
            if size != 32:
                img = img.resize((size, size), Image.Resampling.BILINEAR)
            if rng.random() < 0.5:
                img = ImageOps.mirror(img)
        if rng.random() < 0.2:
            img = img.convert("L").convert("RGB")
        t = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)
        return (t.float() / 255 - self.mean) / self.std

    def _csnas(self, img: Image.Image) -> list[torch.Tensor]:
        """JigsawLoader's original and two patches (their order shuffled), per image."""
        rng, size = self.rng, self.s["image_size"]
        img = img.resize((size, size), Image.Resampling.BILINEAR) if size != 32 else img
        aug = img
        for flip in (ImageOps.mirror, ImageOps.flip, lambda im: im.convert("L").convert("RGB")):
            aug = flip(aug) if rng.random() < 0.5 else aug
        patches = [img, aug] if rng.random() < 0.5 else [aug, img]
        original = img
        for flip in (ImageOps.mirror, ImageOps.flip):
            original = flip(original) if rng.random() < 0.5 else original
        mean, std = (
            torch.tensor(IMAGENET_MEAN).view(3, 1, 1),
            torch.tensor(IMAGENET_STD).view(3, 1, 1),
        )
        out = []
        for view in (original, *patches):
            v = torch.from_numpy(np.asarray(view, dtype=np.uint8).copy()).permute(2, 0, 1)
            out.append((v.float() / 255 - mean) / std)
        return out

    def __getitem__(self, i: int):
        img = Image.fromarray(self.x[i])
        if self.s.get("augment") == "csnas":
            views = self._csnas(img)
        else:
            views = [self._view(img) for _ in range(self.views)]
        return (i, *views, -1 if self.y is None else int(self.y[i]))


#: the proxies whose training the naive loop reproduces (the authors' pirl, simclr and the
#: supervised control); the others are timed without a naive comparison
NAIVE_LOOPS = ("contrastive", "supervised")


def naive_train(
    proxy_name: str,
    s: dict[str, Any],
    arch: Any,
    bench: Any,
    seed: int,
    channels_last: bool = False,
) -> float:
    """Seconds to build and train the proxy's network through the naive pipeline; with
    `channels_last` the network step is the proxy's own, so only the input pipeline differs.
    The pirl variant runs the authors' loop: memory filled first, three forward passes."""
    start = time.perf_counter()
    data = images_for(s["data"])
    streams = Streams.from_seed(seed)
    split = make_split(
        data, s["train_images"], s["heldout_images"], streams.subset, torch.device("cpu"), False
    )
    x = data.x_train[split.train_index]
    contrastive = proxy_name == "contrastive"
    y = None if contrastive else data.y_train[split.train_index]
    ds = NaiveDataset(x, y, s, split.mean, split.std, views=2 if contrastive else 1)
    loader = torch.utils.data.DataLoader(ds, batch_size=s["batch_size"], shuffle=True)
    space = space_of(bench)
    proxy = build_proxy(proxy_name, **s)
    torch.manual_seed(streams.init)
    model = proxy.model(space.network(arch, split.num_classes, **network_scale(space, s)))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)  # type: ignore[call-overload]
    opt = torch.optim.SGD(model.parameters(), lr=s["lr"], momentum=s["momentum"])
    pirl = contrastive and s["variant"] == "pirl"
    memory = Memory(len(x), s["proj_dim"], s["memory_weight"]) if pirl else None
    positions = None
    model.train()
    if memory is not None:
        k = min(2 * (s["batch_size"] - 1), len(x) - 1)
        positions = torch.tensor(negative_positions(len(x), k))
        with torch.no_grad():
            memory.initialize(
                (idx, model(orig.contiguous(memory_format=fmt))) for idx, orig, *_ in loader
            )
    for _ in range(s["epochs"]):
        if memory is not None:
            memory.update_weighted_count()
        for batch in loader:
            opt.zero_grad()
            loss = _naive_loss(model, batch, s, fmt, memory, positions)
            float(loss.detach())
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def _naive_loss(
    model: Any, batch: Any, s: dict[str, Any], fmt: Any, memory: Any, positions: Any
) -> torch.Tensor:
    """One batch's loss as the naive loop computes it: the authors' pirl (memory bank, three
    forward passes), SimCLR's NT-Xent, or cross-entropy."""
    if memory is not None:
        idx, orig, pa, pb, _ = (
            b.contiguous(memory_format=fmt) if b.dim() == 4 else b for b in batch
        )
        z_o, z_p = model(orig), model.fused(pa, pb)
        neg = negative_indices(positions, idx)
        loss = csnas_loss(memory.rows(idx), z_p, z_o, memory.table(), neg, s["temperature"])
        memory.update(idx, z_o)
        return loss
    if len(batch) == 4:  # contrastive: two views
        _, v1, v2, _ = batch
        z1, z2 = model(torch.cat([v1, v2]).contiguous(memory_format=fmt)).chunk(2)
        return nt_xent(z1, z2, s["temperature"])
    _, v, labels = batch
    return F.cross_entropy(model(v.contiguous(memory_format=fmt)), labels)


def bench_proxies(
    profiles: Sequence[str] = ("quick", "paper"),
    proxies: Sequence[str] = ("contrastive", "contrastive/simclr", "supervised"),
    cells: int = 2,
    paper_cells: int = 1,
    seed: int = 0,
    naive: bool = True,
    paper_epochs: int | None = 1,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    benchmark: str = "nb201-cifar10",
) -> list[dict[str, Any]]:
    """One row per (profile, proxy): s/cell, images/s, naive s/cell and the speed-ups, on the
    benchmark's space (NB201 cells, or DARTS genotypes on `darts-cifar10`).

    `proxies` are registry names, optionally `/variant` for `contrastive`. `speedup` is the
    naive pipeline (the authors' way: DataLoader, per-image PIL transforms, NCHW network) over
    ours; `pipeline_speedup` gives the naive pipeline our channels-last network step, so it
    isolates the input pipeline."""
    if threads is not None:
        torch.set_num_threads(threads)  # the naive pipeline (the proxies pin their own)
    bench = BENCHMARKS.get(benchmark)
    all_archs = sample_unique_cells(max(cells, paper_cells), seed, bench)
    # warm up torch's lazy initialisation once, outside the timings
    make_proxy("contrastive", profile="smoke").evaluate(all_archs[0], bench, seed)
    rows: list[dict[str, Any]] = []
    for profile in profiles:
        archs = all_archs[: paper_cells if profile == "paper" else cells]
        # and once more at this profile's scale (kernel selection, allocator growth): the first
        # timed proxy would otherwise pay it alone
        make_proxy("contrastive", profile=profile, epochs=1).evaluate(archs[0], bench, seed)
        for spec in proxies:
            row = _time_proxy(spec, profile, paper_epochs, archs, bench, seed, naive, threads)
            rows.append(row)
            if progress is not None:
                progress(format_table([row], header=not rows[:-1]))
    return rows


def _time_proxy(
    spec: str,
    profile: str,
    paper_epochs: int | None,
    archs: list[Any],
    bench: Any,
    seed: int,
    naive: bool,
    threads: int | None = None,
) -> dict[str, Any]:
    """One row: `spec` ("name" or "name/variant") at `profile` on `archs`, timed (an epoch
    count cut for the paper profile is scaled back up), with the naive pipeline beside it."""
    name, _, variant = spec.partition("/")
    overrides: dict[str, Any] = {"profile": profile}
    if threads is not None:
        overrides["threads"] = threads
    if variant:
        overrides["variant"] = variant
    full = make_proxy(name, **overrides).settings()
    if profile == "paper" and paper_epochs is not None:
        overrides["epochs"] = min(paper_epochs, full["epochs"])
    proxy = make_proxy(name, **overrides)
    s = proxy.settings()
    scale = full["epochs"] / s["epochs"]
    walls, images = [], 0
    for arch in archs:
        ev = proxy.evaluate(arch, bench, seed)
        walls.append(ev.wall_s)
        images += int(ev.extra.get("images_seen", 0))
    row: dict[str, Any] = {
        "profile": profile,
        "proxy": name + (f"/{s['variant']}" if "variant" in s else ""),
        "scale": ",".join(f"{k}={v}" for k, v in network_scale(space_of(bench), s).items()),
        "size": s["image_size"],
        "images": s["train_images"],
        "epochs": full["epochs"],
        "cells": len(archs),
        "s_per_cell": float(np.mean(walls)) * scale,
        "images_per_s": images / float(np.sum(walls)),
        "extrapolated": scale != 1,
        "threads": s["threads"],
    }
    if naive and name in NAIVE_LOOPS:
        nwalls = [naive_train(name, s, arch, bench, seed) for arch in archs]
        row["naive_s_per_cell"] = float(np.mean(nwalls)) * scale
        row["speedup"] = float(np.sum(nwalls) / np.sum(walls))
        cl = [naive_train(name, s, arch, bench, seed, channels_last=True) for arch in archs]
        row["pipeline_speedup"] = float(np.sum(cl) / np.sum(walls))
    return row


def format_table(rows: list[dict[str, Any]], header: bool = True) -> str:
    cols = [
        ("profile", "{}"), ("proxy", "{}"), ("scale", "{}"), ("size", "{}"),
        ("images", "{}"), ("epochs", "{}"), ("s_per_cell", "{:.2f}"), ("images_per_s", "{:.0f}"),
        ("naive_s_per_cell", "{:.2f}"), ("speedup", "{:.1f}x"), ("pipeline_speedup", "{:.1f}x"),
        ("extrapolated", "{}"),
        ("threads", "{}"),
    ]  # fmt: skip
    widths = {"proxy": 18, "profile": 8, "scale": 9, "s_per_cell": 10, "images_per_s": 12}
    lines = []
    if header:
        lines.append("  ".join(f"{c:>{widths.get(c, max(len(c), 7))}}" for c, _ in cols))
    for r in rows:
        cells = [fmt.format(r[c]) if c in r else "-" for c, fmt in cols]
        lines.append(
            "  ".join(f"{v:>{widths.get(c, max(len(c), 7))}}" for (c, _), v in zip(cols, cells))
        )
    return "\n".join(lines)
