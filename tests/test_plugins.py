"""Plugins: outside code registers proxies, strategies and methods, and the same command works
under the serial, process and Dask executors; errors name the plugin in one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "mylab-nas"
PLUGIN = '''
from dataclasses import dataclass
from harness.methods import METHODS, Method
from harness.proxies import PROXIES, Evaluation


@dataclass
class ConvCount:
    """Label-free: the number of convolutions in a cell (a toy, but a real function)."""

    name: str = "conv-count"
    direction: str = "maximize"
    deterministic: bool = False  # cached in the store, like a computed proxy
    needs_table: bool = False

    def settings(self):
        return {}

    def evaluate(self, arch, benchmark, seed):
        convs = sum(op.startswith("nor_conv") for op in arch.ops)
        return Evaluation(score=float(convs), direction="maximize", labels_used=0)


PROXIES.register("conv-count", lambda **kw: ConvCount(), tags=("label-free",))
METHODS.register("conv-count-rea", Method("conv-count-rea", "rea", "conv-count", "REA + convs"))
'''


def _harness(*argv: str, env: dict[str, str] | None = None, cwd: Path = REPO):
    return subprocess.run([sys.executable, "-m", "harness.cli", *argv], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=cwd)  # fmt: skip


def _trials(url: str) -> pd.DataFrame:
    import harness

    frame = harness.trials(url)
    return frame.drop(columns=["wall_s", "cum_wall_s"]).sort_values(["run_id", "number"])


def test_a_plugin_file_runs_the_same_under_serial_process_and_dask(tmp_path):
    plugin = tmp_path / "tmp_plugin.py"
    plugin.write_text(PLUGIN)
    frames = {}
    for executor in ("serial", "process", "dask"):
        url = f"sqlite:///{tmp_path / executor}.db"
        done = _harness("--plugin", str(plugin), "run", "--method", "conv-count-rea,rea",
                        "--seeds", "2", "--trials", "12", "--storage", url, "--quiet",
                        "--executor", executor, "--workers", "2", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        frames[executor] = _trials(url)
    serial = frames["serial"]
    assert set(serial.method) == {"conv-count-rea", "rea"} and len(serial) == 48
    for executor in ("process", "dask"):
        pd.testing.assert_frame_equal(frames[executor].reset_index(drop=True),
                                      serial.reset_index(drop=True))  # fmt: skip


def test_harness_plugins_variable_and_list_show_the_origin(tmp_path):
    (tmp_path / "tmp_plugin.py").write_text(PLUGIN)
    done = _harness("list", env={"HARNESS_PLUGINS": "tmp_plugin", "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "conv-count [from tmp_plugin]" in done.stdout
    assert "conv-count-rea   rea + conv-count: REA + convs [from tmp_plugin]" in done.stdout
    assert "rea [from" not in done.stdout  # built-ins are unmarked


def test_editing_a_plugin_proxy_gives_a_new_run(tmp_path):
    plugin = tmp_path / "tmp_plugin.py"
    code = "import harness; print(harness.plan(['conv-count-rea'], seeds=1, trials=2, " \
           f"plugins=[{str(plugin)!r}]).runs[0].run_id)"  # fmt: skip
    ids = []
    for text in (PLUGIN, PLUGIN, PLUGIN.replace("a toy, but", "an edited toy, but")):
        plugin.write_text(text)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        ids.append(done.stdout.strip())
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize(
    "source, message",
    [
        ("from harness.strategies import STRATEGIES\nSTRATEGIES.register('rea', print)\n",
         "plugin '{path}': strategy 'rea' is already registered (by built-in)"),
        ("import no_such_module_here\n",
         "plugin '{path}' failed to load: ModuleNotFoundError: No module named "
         "'no_such_module_here'"),
        ("from harness.methods import METHODS, Method\nfrom harness.proxies import PROXIES\n"
         "def bad(**kw):\n    raise RuntimeError('no GPU here')\n"
         "PROXIES.register('bad', bad)\n"
         "METHODS.register('bad-rea', Method('bad-rea', 'rea', 'bad', 'x'))\n",
         "proxy 'bad' from {stem} failed: RuntimeError: no GPU here"),
    ],
    ids=["duplicate-name", "import-fails", "factory-raises"],
)  # fmt: skip
def test_registration_errors_are_one_line_naming_the_plugin(tmp_path, source, message):
    path = tmp_path / "broken_plugin.py"
    path.write_text(source)
    done = _harness("--plugin", str(path), "run", "--method", "bad-rea", "--seeds", "1",
                    "--storage", f"sqlite:///{tmp_path / 'h.db'}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message.format(path=path, stem=path.stem) in lines[0]
    assert not (tmp_path / "h.db").exists()  # nothing stored


def test_a_user_name_like_a_built_in_is_refused_and_the_built_ins_stay_whole():
    code = (
        "from harness.strategies import STRATEGIES\n"
        "try:\n    STRATEGIES.register('rea', print)\n"
        "except Exception as e:\n    print(e)\n"
        "print(STRATEGIES.names())\n"
    )
    env = {**os.environ, "HARNESS_NO_ENTRY_POINTS": "1"}  # the built-ins alone
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    first, names = done.stdout.strip().splitlines()
    assert first == "strategy 'rea' is already registered (by built-in)"
    assert names == str(
        ["gp", "gp-optuna", "local-search", "random", "rea", "reinforce", "smac", "tpe-hyperopt",
         "tpe-optuna"]
    )  # fmt: skip


def _fake_install(site: Path) -> dict[str, str]:
    """The example's entry point without pip: a dist-info folder on PYTHONPATH, which
    importlib.metadata reads like an installed distribution's."""
    info = site / "mylab_nas-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mylab-nas\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[csnas_harness.plugins]\nmylab = mylab_nas\n")
    path = os.pathsep.join([str(site), str(EXAMPLE), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": path, "HARNESS_NO_ENTRY_POINTS": ""}


def test_list_marks_only_the_plugins_names_when_an_entry_point_loads_first(tmp_path):
    """An installed plugin whose import is what first imports the harness's registries:
    every built-in name stays unmarked (they were credited to the plugin once), the plugin's
    own names are marked, and HARNESS_NO_ENTRY_POINTS=1 leaves exactly the built-ins."""
    env = _fake_install(tmp_path / "site")
    listed = _harness("list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    marked = [line for line in listed.stdout.splitlines() if "[from" in line]
    mine = "[from mylab_nas (mylab-nas)]"
    assert f"conv-path {mine}" in listed.stdout and f"mylab-hillclimb {mine}" in listed.stdout
    assert all(line.endswith(mine) for line in marked if not line.startswith(("proxies", "strat")))
    for name in ("rea", "csnas", "tpe", "random", "bo-gp", "nb201", "swap-tpe", "gp"):
        assert f"{name} [from" not in listed.stdout
    alone = _harness("list", env={**env, "HARNESS_NO_ENTRY_POINTS": "1"}, cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert "[from" not in alone.stdout
    stripped = re.sub(r", [\w-]+ " + re.escape(mine), "", listed.stdout)
    kept = [line for line in stripped.splitlines() if not line.endswith(mine)]
    assert kept == alone.stdout.splitlines()


def test_the_example_plugins_own_conformance_tests_pass(tmp_path):
    """examples/mylab-nas/tests (its proxies and strategy through harness.testing), with the
    example on PYTHONPATH as `--plugin` users have it, so they cannot rot."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(REPO)]),
           "HARNESS_NO_ENTRY_POINTS": "1"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(EXAMPLE / "tests")], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    counts = done.stdout.strip().splitlines()[-1]
    assert " passed" in counts and "failed" not in counts and "error" not in counts


def test_a_tagged_zero_cost_proxy_of_a_user_is_seen_everywhere_zero_cost_ones_are():
    from harness.proxies import PROXIES
    from harness.proxies.zero_cost import ZERO_COST

    PROXIES.register("my-zc", lambda **kw: None, tags=("zero-cost",))
    try:
        assert list(ZERO_COST)[-1] == "my-zc" and PROXIES.origin("my-zc") == __name__
    finally:
        PROXIES.unregister("my-zc")
    assert "my-zc" not in ZERO_COST and "my-zc" not in PROXIES


SCRIPT = """
import harness

frame = harness.run(["random", "rea"], seeds=2, trials=5, storage="sqlite:///{db}",
                    executor="process", workers=2)
print(len(frame))
"""


def test_a_process_executor_started_by_a_script_without_a_main_guard_fails_at_once(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT.format(db=tmp_path / "a.db"))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode != 0 and len(done.stderr) < 10_000  # no respawn loop
    last = done.stderr.strip().splitlines()[-1]
    assert "starts worker processes when it is imported" in last
    assert 'if __name__ == "__main__":' in last
    guarded = tmp_path / "guarded.py"
    body = SCRIPT.format(db=tmp_path / "b.db").replace("\n", "\n    ")
    guarded.write_text(f"if __name__ == '__main__':{body}\n")
    done = subprocess.run([sys.executable, str(guarded)], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "20"


@pytest.mark.slow
def test_the_example_package_installed_by_pip_loads_through_its_entry_point(tmp_path):
    """examples/mylab-nas in a fresh virtualenv (the harness from this one): installed, its
    names appear in `harness list` and its method runs, with no --plugin."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", str(EXAMPLE)],
                             capture_output=True, text=True)  # fmt: skip
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PYTHONPATH": str(REPO), "HARNESS_NO_ENTRY_POINTS": ""}
    listed = subprocess.run([str(python), "-m", "harness.cli", "list"], capture_output=True,
                            text=True, env=env, cwd=tmp_path)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "conv-path [from mylab_nas (mylab-nas)]" in listed.stdout
    assert "mylab-hillclimb [from mylab_nas (mylab-nas)]" in listed.stdout
    methods = listed.stdout.split("methods:")[1].splitlines()
    marked = {line.split()[0] for line in methods if "[from" in line}
    assert marked == {"conv-path-ls", "conv-path-rea"}  # never a built-in method
    url = f"sqlite:///{tmp_path / 'h.db'}"
    ran = subprocess.run([str(python), "-m", "harness.cli", "run", "--method",
                          "conv-path-rea,conv-path-ls", "--seeds", "2", "--trials", "20",
                          "--storage", url, "--quiet"], capture_output=True, text=True,
                         env=env, cwd=tmp_path)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "conv-path-ls" in ran.stdout and "conv-path-rea" in ran.stdout


def test_a_plugin_module_that_is_not_importable_gets_a_hint(tmp_path):
    """`--plugin name` for a module not on the path (e.g. name.py in the current folder, which
    the console script does not import from): one line saying how to make it load."""
    (tmp_path / "myplugin.py").write_text("")
    done = _harness("--plugin", "myplugin_not_here", "list", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "No module named 'myplugin_not_here'" in lines[0]
    assert "put its folder on PYTHONPATH, or give the .py file's path" in lines[0]
