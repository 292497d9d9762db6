"""Device, precision and the record of what an evaluation ran on.

`auto` precision is bf16 autocast on a GPU that supports it, fp16 autocast (with a gradient
scaler) on an older GPU and fp32 on a CPU; bf16 on CPU is available explicitly (and tested).
The manifest records device name, driver, torch/CUDA/cuDNN versions, threads, the precision
and the determinism flags, so a number in the store says what produced it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from typing import Any

import torch

from harness import HarnessError
from harness.proxies.training import cpu_threads, device_label, resolve_device

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_precision(requested: str, device: torch.device) -> str:
    """fp32, bf16 or fp16 for this device; `auto` prefers bf16 on GPUs that have it."""
    if requested != "auto":
        if requested == "fp16" and device.type == "cpu":
            return "fp16"  # CPU fp16 autocast exists in recent torch; slow, but allowed
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast for bf16/fp16 on this device; a no-op for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A loss scaler, enabled only for fp16 (bf16 has fp32's exponent range)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


def set_determinism(deterministic: bool, device: torch.device) -> dict[str, Any]:
    """Set cuDNN's flags for this process and return every determinism flag in effect."""
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = deterministic
        torch.backends.cudnn.benchmark = not deterministic
    return determinism_flags()


def determinism_flags() -> dict[str, Any]:
    return {
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvidia_driver() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if lines else None


def device_manifest(device: torch.device, precision: str, channels_last: bool) -> dict[str, Any]:
    info: dict[str, Any] = {
        "device": str(device),
        "device_label": device_label(device),
        "precision": precision,
        "channels_last": channels_last,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "threads": torch.get_num_threads(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "determinism": determinism_flags(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            device_name=props.name,
            capability=f"{props.major}.{props.minor}",
            memory_gib=round(props.total_memory / 2**30, 1),
            driver=_nvidia_driver(),
        )
    else:
        info.update(device_name=_cpu_name(), driver=None)
    return info


def placement(workers: int, devices: str) -> list[str]:
    """The device of each worker: `auto` spreads workers round-robin over the GPUs (several
    per GPU when workers outnumber them) or puts them all on the CPU; else a comma list."""
    if devices == "auto":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        pool = [f"cuda:{i}" for i in range(n)] or ["cpu"]
    else:
        pool = [d.strip() for d in devices.split(",") if d.strip()]
        if not pool:
            raise HarnessError(f"--devices {devices!r} names no device")
        for d in pool:
            resolve_device(d)
    return round_robin(pool, workers)


def round_robin(pool: list[str], workers: int) -> list[str]:
    """Worker i on pool[i % len(pool)]: 4 workers on 2 GPUs put two trainings on each."""
    return [pool[i % len(pool)] for i in range(workers)]


#: run with `threads` intra-op threads (None: leave as is), restoring the count after
torch_threads = cpu_threads
