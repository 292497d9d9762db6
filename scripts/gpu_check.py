"""One prepared command for a session lent a GPU: what the DARTS study would cost there.

    python scripts/gpu_check.py [--device cuda] [--data PATH] [--out gpu_check.json]
    python scripts/gpu_check.py --tiny --device cpu      # the same logic, tiny sizes (tests)

Prints one table (and writes it as JSON with --out), every figure measured here:

1. `net`: training-step throughput of the proxies' search networks at the `paper` scale
   (NB201 C=16, N=5; DARTS C=32, 8 cells; batch 256, 32x32, SGD step on a cross-entropy head)
   in fp32 and in bf16 autocast + channels-last. The proxies themselves run fp32 today: the
   bf16 row says what switching would buy, not what they do.
2. `evaluate-step`: `harness evaluate`'s own training step for DARTS_V2 (C=36, 20 cells, batch
   96; `harness.bench.evaluate`), fp32 and bf16 + channels-last, with its 600-epoch projection.
3. `evaluate`: a real `harness evaluate --arch DARTS_V2 --epochs 2` on the given CIFAR-10 data
   (skipped, and said so, when none is found), wall seconds per epoch and the 600-epoch
   projection scaled to 50,000 training images.
4. `proxy`: the `paper`-profile contrastive proxy (the authors' pirl) on 10 of the 214 cells
   with truth, seconds per cell and the projected time for all 214.
5. `proxy xK`: K processes sharing the device, each scoring cells of the same 214: cells per
   hour against one process, i.e. how many cells to keep in flight per GPU.

Budget: about 5-8 minutes on one modern GPU (sizes chosen for that); `--tiny` shrinks every
part to seconds on a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
NB201_CELL = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "nor_conv_3x3~2|"
)
MODES = (("fp32", False), ("bf16", True))


@dataclass(frozen=True)
class Sizes:
    """Everything that makes the check long or short."""

    batch: int
    steps: int
    net_scales: dict[str, dict[str, int]]
    eval_steps: int
    eval_profile: str
    eval_epochs: int
    proxy_profile: str
    proxy_cells: int
    workers: tuple[int, ...]
    cells_per_worker: int


FULL = Sizes(
    batch=256,
    steps=10,
    net_scales={"nb201": {"C": 16, "N": 5}, "darts": {"C": 32, "layers": 8}},
    eval_steps=5,
    eval_profile="paper",
    eval_epochs=2,
    proxy_profile="paper",
    proxy_cells=10,
    workers=(2, 4),
    cells_per_worker=2,
)
TINY = Sizes(
    batch=4,
    steps=1,
    net_scales={"nb201": {"C": 4, "N": 1}, "darts": {"C": 4, "layers": 2}},
    eval_steps=1,
    eval_profile="smoke",
    eval_epochs=1,
    proxy_profile="smoke",
    proxy_cells=2,
    workers=(2,),
    cells_per_worker=1,
)


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bf16_ok(device: Any) -> bool:
    import torch

    return device.type != "cuda" or torch.cuda.is_bf16_supported()


# -- 1. search-network training step -------------------------------------------------------
def network_rate(
    space_name: str,
    arch: str,
    scale: dict[str, int],
    sizes: Sizes,
    mode: tuple[str, bool],
    dev: Any,
) -> float:
    """Images per second of forward + backward + SGD step of the space's network, batch
    `sizes.batch` of 32x32 images, median over `sizes.steps` timed steps after one warm-up."""
    import torch
    import torch.nn.functional as F

    from harness.spaces import SPACES

    precision, channels_last = mode
    space = SPACES.get(space_name)
    torch.manual_seed(0)
    net = space.network(space.parse(arch), 10, **scale).to(dev)
    memory = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=memory).train()
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    gen = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(sizes.batch, 3, 32, 32, device=dev, generator=gen)
    x = x.contiguous(memory_format=memory)
    y = torch.randint(0, 10, (sizes.batch,), device=dev, generator=gen)
    dtype = torch.bfloat16 if precision == "bf16" else None

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    step()
    _sync(dev)
    times = []
    for _ in range(sizes.steps):
        t0 = time.perf_counter()
        step()
        _sync(dev)
        times.append(time.perf_counter() - t0)
    return sizes.batch / statistics.median(times)


def net_rows(sizes: Sizes, dev: Any) -> list[dict[str, Any]]:
    rows = []
    for space_name, arch in (("nb201", NB201_CELL), ("darts", "DARTS_V2")):
        scale = sizes.net_scales[space_name]
        for mode in MODES:
            if mode[0] == "bf16" and not bf16_ok(dev):
                continue
            rate = network_rate(space_name, arch, scale, sizes, mode, dev)
            label = ",".join(f"{k}={v}" for k, v in scale.items())
            rows.append(
                {
                    "part": "net",
                    "case": f"{space_name} {arch if space_name == 'darts' else 'cell'} {label}",
                    "mode": mode[0] + ("+CL" if mode[1] else ""),
                    "img_per_s": rate,
                }
            )
    return rows


# -- 2./3. harness evaluate -----------------------------------------------------------------
def evaluate_step_rows(sizes: Sizes, dev: Any) -> list[dict[str, Any]]:
    """`harness.bench.evaluate`'s DARTS_V2 rows (fp32, bf16 + channels-last) at full scale;
    under --tiny the DARTS case is skipped (its network is the full 20-cell one)."""
    if sizes is TINY:
        return [{"part": "evaluate-step", "case": "DARTS_V2 C=36 L=20", "note": "skipped (tiny)"}]
    from harness.bench import evaluate as bench

    rows = []
    for precision, cl in (("fp32", False), ("bf16", True)):
        if precision == "bf16" and not bf16_ok(dev):
            continue
        task = bench._task("darts", "DARTS_V2", "darts", precision, cl)
        r = bench._time_steps(task, dev, sizes.eval_steps)
        epoch_s = 50_000 / r["train_ips"] + 10_000 / r["test_ips"]
        rows.append(
            {
                "part": "evaluate-step",
                "case": "DARTS_V2 C=36 L=20 batch 96",
                "mode": precision + ("+CL" if cl else ""),
                "img_per_s": r["train_ips"],
                "projected_h": 600 * epoch_s / 3600,
            }
        )
    return rows


def find_data(explicit: str | None) -> str | None:
    """--data, else $HARNESS_CIFAR10, else the shared CIFAR-10 subset beside or inside the
    checkout; None when there is none."""
    candidates = [explicit, os.environ.get("HARNESS_CIFAR10")]
    for root in (REPO.parent, REPO):
        candidates.append(str(root / "shared" / "data" / "cifar10" / "cifar10-subset.npz"))
    return next((c for c in candidates if c and Path(c).exists()), None)


def train_images(data: str) -> int:
    path = Path(data)
    if path.is_dir():
        return 50_000  # the official cifar-10-batches-py folder
    with np.load(path) as z:
        return int(z["x_train"].shape[0])


def _eval_precision(device: str) -> str:
    dev = _device(device)
    return "bf16" if dev.type == "cuda" and bf16_ok(dev) else "fp32"


def evaluate_row(sizes: Sizes, device: str, data: str | None) -> dict[str, Any]:
    """A real `harness evaluate` of DARTS_V2 in a fresh process and store; its wall seconds
    per epoch, scaled to 50,000 training images and 600 epochs."""
    row: dict[str, Any] = {"part": "evaluate", "case": f"DARTS_V2 {sizes.eval_epochs} epochs"}
    if sizes is TINY:
        data = "sample"  # the smoke profile's shipped sample
    if data is None:
        return {**row, "note": "skipped: no CIFAR-10 found (pass --data)"}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-m", "harness.cli", "evaluate", "--arch", "DARTS_V2",
            "--benchmark", "darts-cifar10", "--profile", sizes.eval_profile,
            "--epochs", str(sizes.eval_epochs), "--devices", device, "--quiet",
            "--storage", f"sqlite:///{tmp}/gpu.db", "--set", f"data={data}",
            "--set", f"precision={_eval_precision(device)}",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        return {**row, "note": f"failed: {(done.stderr or done.stdout).strip().splitlines()[-1]}"}
    match = re.search(r"test acc ([\d.]+)%.* ([\d.]+) s on (\S+)", done.stdout)
    trained_s = float(match.group(2)) if match else wall
    per_epoch = trained_s / sizes.eval_epochs
    n = 800 if data == "sample" else train_images(data)
    return {
        **row,
        "mode": _eval_precision(device),
        "s_per_epoch": per_epoch,
        "projected_h": 600 * per_epoch * 50_000 / n / 3600,
        "note": f"{n} train images; test acc {match.group(1) if match else '?'}%",
    }


# -- 4./5. the paper-profile DARTS proxy -----------------------------------------------------
def score_cells(indices: list[int], profile: str, device: str) -> list[float]:
    """Wall seconds of the authors' contrastive proxy on these of the 214 cells (proxy seed
    0); run in a worker process for the shared-device rows."""
    import torch

    from harness.benchmarks import BENCHMARKS
    from harness.proxies import make_proxy

    torch.set_num_threads(1)
    from harness.benchmarks.darts import DartsBenchmark

    bench = BENCHMARKS.get("darts-cifar10")
    assert isinstance(bench, DartsBenchmark)
    cells = bench.truth_cells()
    proxy = make_proxy("contrastive", profile=profile, device=device)
    walls = []
    for i in indices:
        ev = proxy.evaluate(cells[i], bench, 0)
        if ev.status != "ok":
            raise RuntimeError(f"cell {i}: {ev.status}")
        walls.append(ev.wall_s)
    return walls


def proxy_rows(sizes: Sizes, device: str) -> list[dict[str, Any]]:
    score_cells([0], sizes.proxy_profile, device)  # warm-up (kernels, allocator), untimed
    walls = score_cells(list(range(sizes.proxy_cells)), sizes.proxy_profile, device)
    serial = statistics.median(walls)
    rows = [
        {
            "part": "proxy",
            "case": f"contrastive pirl {sizes.proxy_profile}, {len(walls)} cells",
            "mode": "fp32",
            "s_per_cell": serial,
            "projected_h": 214 * serial / 3600,
            "note": "projected_h: all 214 cells, one process",
        }
    ]
    for k in sizes.workers:
        jobs = [
            list(
                range(
                    sizes.proxy_cells + w * sizes.cells_per_worker,
                    sizes.proxy_cells + (w + 1) * sizes.cells_per_worker,
                )
            )
            for w in range(k)
        ]
        t0 = time.perf_counter()
        with ProcessPoolExecutor(k, mp_context=get_context("spawn")) as pool:
            list(pool.map(score_cells, jobs, [sizes.proxy_profile] * k, [device] * k))
        wall = time.perf_counter() - t0  # includes k process start-ups: a lower bound on gain
        per_cell = wall / (k * sizes.cells_per_worker)
        rows.append(
            {
                "part": f"proxy x{k}",
                "case": f"{k} processes x {sizes.cells_per_worker} cells",
                "mode": "fp32",
                "s_per_cell": per_cell,
                "projected_h": 214 * per_cell / 3600,
                "note": f"{serial / per_cell:.2f}x one process's rate (start-up included)",
            }
        )
    return rows


# -- the table -------------------------------------------------------------------------------
def _device(name: str) -> Any:
    from harness.proxies.training import resolve_device

    return resolve_device(name)


def check(device: str, sizes: Sizes, data: str | None) -> list[dict[str, Any]]:
    dev = _device(device)
    rows = net_rows(sizes, dev)
    rows += evaluate_step_rows(sizes, dev)
    rows.append(evaluate_row(sizes, device, data))
    rows += proxy_rows(sizes, device)
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    cols = [
        ("part", "{}", 14), ("case", "{}", 38), ("mode", "{}", 8), ("img_per_s", "{:.0f}", 10),
        ("s_per_epoch", "{:.1f}", 11), ("s_per_cell", "{:.2f}", 10),
        ("projected_h", "{:.2f}", 11), ("note", "{}", 0),
    ]  # fmt: skip
    lines = ["  ".join(f"{c:<{w}}" for c, _, w in cols).rstrip()]
    for r in rows:
        cells = [fmt.format(r[c]) if r.get(c) is not None else "-" for c, fmt, _ in cols]
        lines.append("  ".join(f"{v:<{w}}" for v, (_, _, w) in zip(cells, cols)).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", default=None, help="CIFAR-10 for the evaluate row")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (CPU test)")
    parser.add_argument("--out", default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    from harness import HarnessError

    try:
        dev = _device(args.device)
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import torch

    header = f"device {dev}"
    if dev.type == "cuda":
        header += f" ({torch.cuda.get_device_name(dev)}), torch {torch.__version__}"
    print(header, flush=True)
    t0 = time.perf_counter()
    rows = check(args.device, TINY if args.tiny else FULL, find_data(args.data))
    print(format_table(rows))
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.out:
        Path(args.out).write_text(json.dumps({"device": header, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
