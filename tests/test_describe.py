"""`harness describe`: parsed architecture, canonical key and parameter count at a scale."""

from __future__ import annotations

import json

import pytest
from cli_helpers import harness

from harness.benchmarks.table import load_table
from harness.spaces import SPACES


@pytest.mark.parametrize("index", [0, 1, 100, 5000, 15624])
def test_nb201_params_equal_the_table(capsys, index):
    space = SPACES.get("nb201")
    arch = space.format(space.from_index(index))
    code, out, _ = harness(
        capsys, "describe", "--space", "nb201", "--arch", arch, "--format", "json"
    )
    info = json.loads(out)
    assert code == 0 and info["arch"] == arch and info["scale"] == {"C": 16, "N": 5}
    assert info["params"] == round(load_table()["params_c10_M"][index] * 1e6)
    assert info["key"] == space.canonical_key(space.parse(arch))


def test_darts_v2_params_equal_the_reference_at_evaluation_scale(capsys):
    code, out, _ = harness(capsys, "describe", "--space", "darts", "--arch", "DARTS_V2")
    assert code == 0
    lines = dict(line.split(":", 1) for line in out.strip().splitlines())
    assert int(lines["params"]) == 3_349_342  # DARTS's NetworkCIFAR(36, 10, 20), no aux head
    assert lines["scale"].split() == ["C=36", "layers=20", "num_classes=10"]
    assert lines["arch"].strip().startswith("Genotype(normal=[('sep_conv_3x3', 0)")
    argv = ["describe", "--space", "darts-edge", "--arch", "DARTS_V1", "--format", "json"]
    code, out, _ = harness(capsys, *argv, "--set", "C=32", "--set", "layers=8")
    info = json.loads(out)
    assert info["params"] == 871_786 and info["space"] == "darts-edge"
    code, out, _ = harness(capsys, *argv, "--set", "num_classes=100")
    assert json.loads(out)["params"] == 3_221_344


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--space", "darts", "--arch", "Genotype(normal=[1])"], "Genotype(normal=[1])"),
        (["--space", "darts", "--arch", "DARTS_V9"], "DARTS_V9"),
        (["--space", "nb201", "--arch", "|bogus~0|"], "|bogus~0|"),
        (["--space", "nb301", "--arch", "DARTS_V2"], "unknown search space 'nb301'"),
        (["--space", "darts", "--arch", "DARTS_V2", "--set", "N=5"], "N"),
        (["--space", "nb201", "--arch", "DARTS_V2", "--set", "layers=5"], "layers"),
        (["--space", "darts", "--arch", "DARTS_V2", "--set", "C=-4"], "C=-4"),
        (["--space", "darts", "--arch", "DARTS_V2", "--set", "C=big"], "C='big'"),
        (["--space", "darts", "--arch", "DARTS_V2", "--set", "C"], "key=value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = harness(capsys, "describe", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err
