"""The installed package works anywhere: a wheel built from this tree, installed into a fresh
virtualenv (torch from the lock first, then the wheel, both with `-c constraints.txt`), runs the
documented commands from an empty folder with no checkout in sight, and the commands that exist
to regenerate or check the repository's committed results say in one line (exit 2) that they
need a checkout, before doing any work. The wheel installs one import name, `harness`.

Slow (about two minutes: the venv and its install are most of it; pip's cache or the local
wheel folder makes torch quick).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: what the build reads: the metadata, the package list and the two source folders
SOURCES = ("pyproject.toml", "setup.py", "README.md", "harness", "baselines")
#: loaded by every Python started in the empty folder: IP connections fail (the commands are
#: documented as offline after the install); Unix sockets (the process executor) still work
NO_NETWORK = """
import socket

def _refuse(self, *args, **kwargs):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise OSError("network disabled by tests/test_wheel.py")
    return _connect(self, *args, **kwargs)

_connect = socket.socket.connect
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _torch_pin() -> str:
    text = (REPO / "constraints.txt").read_text()
    found = re.search(r"^torch==\S+", text, re.MULTILINE)
    assert found, "constraints.txt pins no torch"
    return found.group(0)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The wheel (built from a copy of the tree, so the build leaves nothing in it) and a
    fresh venv with torch and the wheel installed from the lock."""
    top = tmp_path_factory.mktemp("wheel")
    src, dist = top / "src", top / "dist"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    # an isolated build, as a user's: the build backend comes from the index (the test's own
    # environment may hold an older setuptools than pyproject.toml asks for)
    build = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)]
    done = _run(build, src)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = dist.glob("*.whl")
    venv = top / "venv"
    done = _run([sys.executable, "-m", "venv", str(venv)], top)
    assert done.returncode == 0, done.stderr
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    lock = ["-c", str(REPO / "constraints.txt")]
    for what in (_torch_pin(), str(wheel)):
        done = _run([*pip, what, *lock], top, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    empty = top / "empty"
    empty.mkdir()
    blocker = top / "no-network"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(NO_NETWORK)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HARNESS_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(blocker),
        "MPLBACKEND": "Agg",
    }
    return SimpleNamespace(wheel=wheel, venv=venv, empty=empty, env=env)


def harness(ns: SimpleNamespace, *args: str, env: dict[str, str] | None = None):
    return _run([str(ns.venv / "bin" / "harness"), *args], ns.empty, env or ns.env)


def python(ns: SimpleNamespace, code: str):
    """The venv's python running `code` in the empty folder."""
    return _run([str(ns.venv / "bin" / "python"), "-c", code], ns.empty, ns.env)


def test_the_wheel_installs_one_import_name(installed: SimpleNamespace) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = whl.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert whl.read(top_level).decode().split() == ["harness"]
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"harness"}
    for needed in (
        "harness/baselines/__init__.py",  # the repository's baselines/ folder
        "harness/assets/nb201.npz",
        "harness/assets/cifar10-sample.npz",
        "harness/report/templates/study.html.j2",
        "harness/store/migrations/script.py.mako",
    ):
        assert needed in names
    # what the installed distribution says it put in site-packages (the script lies outside)
    code = (
        "import importlib.metadata as m; "
        "print(sorted({str(f).split('/')[0] for f in m.files('csnas-harness') "
        "if not str(f).startswith('..')}))"
    )
    done = python(installed, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['csnas_harness-0.1.0.dist-info', 'harness']"
    site = next((installed.venv / "lib").glob("python*/site-packages"))
    assert not (site / "results").exists() and not (site / "baselines").exists()


def test_the_installed_package_is_not_a_checkout(installed: SimpleNamespace) -> None:
    """It is the venv's copy that runs, and a manifest records no git commit for it."""
    code = (
        "import harness, harness.baselines; from harness.environment import git_commit, "
        "package_checkout; print(harness.__file__); print(harness.baselines.__file__); "
        "print(package_checkout(), git_commit())"
    )
    done = python(installed, code)
    assert done.returncode == 0, done.stderr
    first, second, third = done.stdout.splitlines()
    assert Path(first).is_relative_to(installed.venv) and not Path(first).is_relative_to(REPO)
    assert Path(second).parent.parent == Path(first).parent
    assert third == "None None"


#: the documented commands (README's Quickstart and command list), small, in order: each is
#: (arguments, text its output must hold)
DOCUMENTED = [
    (["--version"], "version 0.1.0"),
    (["list"], "rea"),
    (["run", "--method", "tpe,rea", "--seeds", "2", "--trials", "20",
      "--storage", "sqlite:///x.db"], "tpe"),
    (["report", "--storage", "sqlite:///x.db"], "rea"),
    (["report", "--storage", "sqlite:///x.db", "--format", "html", "--out", "study.html"],
     "study.html"),
    (["report", "--storage", "sqlite:///x.db", "--versus", "tpe", "--format", "latex",
      "--out", "table.tex"], "table.tex"),
    (["export", "--storage", "sqlite:///x.db", "--format", "csv"], "run_id"),
    (["figures", "--storage", "sqlite:///x.db", "--out", "figures"], ""),
    (["describe", "--space", "nb201", "--arch",
      "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"],
     "params:"),
    (["correlate", "--proxy", "params,synflow", "--sample", "5", "--seeds", "1",
      "--storage", "sqlite:///c.db", "--out", "corr"], "corr"),
    # the trained proxy (the authors' contrastive loss) on the shipped image sample, offline
    (["run", "--method", "csnas", "--seeds", "1", "--trials", "3",
      "--storage", "sqlite:///x.db"], "csnas"),
    (["evaluate", "--help"], "Usage"),
    (["bench", "grid", "--seeds", "1", "--trials", "5", "--gp-trials", "3", "--workers", "1",
      "--postgres", "none", "--executors", "serial"], "bo-gp"),
]  # fmt: skip


def test_documented_commands_run_from_an_empty_folder(installed: SimpleNamespace) -> None:
    for args, expected in DOCUMENTED:
        done = harness(installed, *args)
        assert done.returncode == 0, (args, done.stdout[-1500:], done.stderr[-1500:])
        assert expected in done.stdout + done.stderr, (args, done.stdout[-1500:])
    made = {p.name for p in installed.empty.iterdir()}
    assert {"x.db", "c.db", "study.html", "table.tex", "figures", "corr"} <= made
    assert any((installed.empty / "figures").iterdir())


#: the commands that rerun, check or rewrite the repository's committed results
CHECKOUT_ONLY = [
    ["reference", "check"],
    ["reference", "write"],
    ["reference", "proxy-track"],
    ["reference", "zero-cost", "check"],
    ["reference", "zero-cost", "write"],
    ["study", "nb201", "run"],
    ["study", "nb201", "write"],
    ["study", "nb201", "explain"],
    ["study", "darts", "write"],
    ["study", "darts", "explain"],
    ["study", "darts", "naslib-summary"],
]


def test_checkout_only_commands_say_so_in_one_line(installed: SimpleNamespace) -> None:
    for args in CHECKOUT_ONLY:
        done = harness(installed, *args)
        assert done.returncode == 2, (args, done.stdout[-500:], done.stderr[-1500:])
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and done.stdout == "", (args, done.stdout, done.stderr)
        assert f"`harness {' '.join(args)}` needs a checkout" in lines[0]
        assert "--checkout DIR" in lines[0] and str(installed.empty) in lines[0]
    named = {**installed.env, "HARNESS_REFERENCE_DIR": str(installed.empty / "nope")}
    done = harness(installed, "reference", "check", env=named)
    assert done.returncode == 2 and "$HARNESS_REFERENCE_DIR" in done.stderr


def test_checkout_option_points_the_installed_package_at_this_checkout(
    installed: SimpleNamespace,
) -> None:
    done = harness(installed, "study", "nb201", "explain", "--checkout", str(REPO))
    assert done.returncode == 0, done.stderr[-1500:]
    assert "rho(" in done.stdout
