"""The environment that produced a result: packages, Python, CPU, SIMD kernels, BLAS, torch.

Recorded in every run's manifest and beside the committed reference experiment, so a result
that does not reproduce elsewhere can be traced to what differs. Two parts matter most:

- `libraries()`: versions of the libraries that decide a trajectory or a score; they are part
  of a run's identity (harness.identity), so an upgrade gives new runs, never old results.
- the kernels: numpy dispatches its ufuncs to the widest SIMD target the CPU has (AVX2 or
  AVX-512 on x86-64), torch's ATen and oneDNN do the same; the last bit of a float can differ
  between them (measured: optuna's TPE breaks an exact tie between two categories by that
  bit, see results/reference/README.md). `NPY_DISABLE_CPU_FEATURES`, `ATEN_CPU_CAPABILITY`
  and `ONEDNN_MAX_CPU_ISA` let one machine run another machine's kernels.
- the BLAS/LAPACK paths, which those do not pin: torch's MKL picks its code path by the CPU's
  vendor (measured: on an AMD EPYC, `MKL_CBWR=AVX2` changes the eigenvalues AZ-NAS takes,
  and with them whether 2 of 3 probed cells score NaN), numpy's OpenBLAS by its core type
  (`OPENBLAS_CORETYPE`; Haswell and SkylakeX give different float32 products there). So the
  vendor and OpenBLAS's core are kernel keys too, and `MKL_CBWR` pins MKL's path.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import __version__

#: the libraries whose version can change a trial or a score (strategies' and proxies' code
#: paths); a strategy or proxy narrows this with a `libraries` attribute
RESULT_LIBRARIES = (
    "numpy",
    "scipy",
    "optuna",
    "hyperopt",
    "scikit-optimize",
    "scikit-learn",
    "torch",
    "pandas",
)
#: environment variables that choose kernels or thread counts
KERNEL_VARIABLES = (
    "NPY_DISABLE_CPU_FEATURES",
    "NPY_ENABLE_CPU_FEATURES",
    "ATEN_CPU_CAPABILITY",
    "ONEDNN_MAX_CPU_ISA",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "PYTHONHASHSEED",
)


def version_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


@lru_cache(maxsize=1)
def libraries() -> dict[str, str]:
    """Python and the result-deciding libraries' versions (cheap: no import of any of them)."""
    out = {"python": platform.python_version()}
    out.update({d: version_of(d) for d in RESULT_LIBRARIES})
    return out


@lru_cache(maxsize=1)
def packages() -> dict[str, str]:
    """Every installed distribution and its version (what `pip freeze` would list)."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name, version = _name_and_version(dist)
        if name:
            found.setdefault(name.lower(), version)
    return dict(sorted(found.items()))


def _name_and_version(dist: metadata.Distribution) -> tuple[str | None, str]:
    """A distribution's Name and Version headers, read from its metadata file's header block
    (`dist.metadata` parses the whole file, long description included, with the email
    parser: most of a manifest's start-up); the full parse where either is not found."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    head: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version"):
            head.setdefault(key, value.strip())
    if "Name" in head and "Version" in head:
        return head["Name"], head["Version"]
    return dist.metadata["Name"], dist.version


def _cpuinfo(key: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_vendor() -> str | None:
    """GenuineIntel, AuthenticAMD, ...: MKL chooses its kernels by it (None where unknown)."""
    return _cpuinfo("vendor_id")


def numpy_simd() -> dict[str, Any]:
    """numpy's compiled baseline and the dispatch targets this CPU runs (after
    NPY_DISABLE_CPU_FEATURES): the widest one picks the kernels of most float ufuncs."""
    try:
        from numpy._core import _multiarray_umath as umath  # type: ignore[attr-defined]
    except ImportError:  # numpy < 2
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    features = umath.__cpu_features__
    dispatched = [t for t in umath.__cpu_dispatch__ if features.get(t)]
    return {
        "baseline": list(umath.__cpu_baseline__),
        "dispatched": dispatched,
        "widest": dispatched[-1] if dispatched else "baseline",
    }


def blas() -> list[dict[str, Any]]:
    """BLAS/OpenMP libraries loaded by numpy (and torch, when imported), via threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: info.get(k) for k in keys if k in info} for info in threadpool_info()]


def torch_build() -> dict[str, Any]:
    """torch's version, CPU kernel level (ATen) and threads; imports torch, so only called
    where a result used it or a full record is asked for."""
    try:
        import torch
    except ImportError:
        return {"version": "absent"}
    return {
        "version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cuda": torch.version.cuda,
        "mkldnn": torch.backends.mkldnn.is_available(),
    }


def package_checkout() -> Path | None:
    """The repository checkout the harness package runs from, or None.

    The package IS a checkout when its folder's parent holds the repository: a `.git` and
    csnas-harness's `pyproject.toml` (an editable install, `pip install -e .`, or the source
    tree on PYTHONPATH). Then the code that ran is that checkout's commit plus its edits, so a
    manifest records them. An installed wheel lives in site-packages, which holds neither; its
    code is identified by the package version alone, and git is never asked about a folder
    outside the package (site-packages may sit inside some unrelated repository)."""
    root = Path(__file__).resolve().parents[1]
    project = root / "pyproject.toml"
    if not (root / ".git").exists() or not project.is_file():
        return None
    try:
        text = project.read_text(encoding="utf-8")
    except OSError:
        return None
    return root if re.search(r'^name\s*=\s*"csnas-harness"', text, re.MULTILINE) else None


@lru_cache(maxsize=4)
def git_commit(path: Path | None = None) -> dict[str, Any] | None:
    """The harness checkout's commit and whether it has uncommitted changes: of `path`, else
    of `package_checkout()` (None when the package is not a checkout, or outside git).
    Read without git's optional locks: a plain `git status` takes index.lock to refresh the
    index, and a process killed meanwhile would leave the lock in the user's checkout."""
    found = path or package_checkout()
    if found is None:
        return None
    root = found.resolve()
    if not (root / ".git").exists():
        return None

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit or None, "dirty": dirty}


def environment(with_torch: bool = True) -> dict[str, Any]:
    """The full record: what a manifest and the reference experiment carry."""
    return {
        "harness": __version__,
        "git": git_commit(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_vendor": cpu_vendor(),
        "cpu_count": os.cpu_count(),
        "numpy_simd": numpy_simd(),
        "blas": blas(),
        "torch": torch_build() if with_torch else None,
        "variables": {k: os.environ[k] for k in KERNEL_VARIABLES if k in os.environ},
        "libraries": libraries(),
        "packages": dict(packages()),
    }


#: what must match for trials to be expected bit-identical (see differences())
_KERNEL_KEYS = (
    ("numpy_simd", "widest"),
    ("torch", "cpu_capability"),
    ("variables", "ONEDNN_MAX_CPU_ISA"),
    ("variables", "MKL_CBWR"),
    ("variables", "OPENBLAS_CORETYPE"),
    ("machine",),
)
#: kernel keys that records written before they were recorded lack: compared where both have one
_LATER_KEYS = (("cpu_vendor",), ("blas_cores",))


def differences(
    recorded: dict[str, Any], here: dict[str, Any], include_cpu: bool = True
) -> list[str]:
    """What differs between two records: library versions and kernels (either can change a
    result's last bits; none differing means results are expected bit-identical), then, with
    `include_cpu`, the CPU model (for information: the kernel keys are what decide the bits)."""
    out = []
    for lib in sorted(set(recorded.get("libraries", {})) | set(here.get("libraries", {}))):
        a, b = recorded.get("libraries", {}).get(lib), here.get("libraries", {}).get(lib)
        if a != b:
            out.append(f"{lib} {a} (recorded) vs {b} (here)")
    for path in _KERNEL_KEYS + _LATER_KEYS:
        a, b = _kernel(recorded, path), _kernel(here, path)
        if (path[0] == "torch" or path in _LATER_KEYS) and (a is None or b is None):
            continue  # one record was made without importing torch, or before the key existed
        if a != b:
            out.append(f"{'.'.join(path)} {a} (recorded) vs {b} (here)")
    if include_cpu and recorded.get("cpu") != here.get("cpu"):
        out.append(f"cpu {recorded.get('cpu')!r} (recorded) vs {here.get('cpu')!r} (here)")
    return out


def _blas_cores(record: dict[str, Any]) -> str | None:
    """The core types the BLAS libraries chose, where they say; a set, since how many
    libraries are loaded (scipy's OpenBLAS beside numpy's) varies within one machine."""
    cores = {str(b["architecture"]) for b in record.get("blas", []) if b.get("architecture")}
    return ",".join(sorted(cores)) or None


def _kernel(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    return _blas_cores(record) if path == ("blas_cores",) else _dig(record, path)


def _dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
