"""scripts/gpu_check.py runs its whole logic on a CPU at tiny sizes, so its first GPU run does
not fail on a typo; every figure it prints is measured (positive, finite)."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.py"


@pytest.fixture
def gc(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The script as a module on sys.path (its worker processes import it by name)."""
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    return importlib.import_module("gpu_check")


def test_bad_device_is_one_line_exit_2(gc, capsys: pytest.CaptureFixture[str]) -> None:
    assert gc.main(["--device", "tpu:9"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "tpu:9" in err


def test_network_rate_is_measured_in_both_modes(gc) -> None:
    from harness.proxies.training import resolve_device

    cpu = resolve_device("cpu")
    for mode in gc.MODES:
        rate = gc.network_rate("darts", "DARTS_V2", {"C": 4, "layers": 2}, gc.TINY, mode, cpu)
        assert math.isfinite(rate) and rate > 0


@pytest.mark.slow
def test_tiny_check_on_cpu_fills_every_part(gc, tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    assert gc.main(["--tiny", "--device", "cpu", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    parts = {r["part"] for r in rows}
    assert {"net", "evaluate-step", "evaluate", "proxy", "proxy x2"} <= parts
    assert sum(r["part"] == "net" for r in rows) == 4  # two networks x fp32, bf16+CL
    for r in rows:
        for key in ("img_per_s", "s_per_epoch", "s_per_cell", "projected_h"):
            if key in r:
                assert math.isfinite(r[key]) and r[key] > 0, r
    evaluate = next(r for r in rows if r["part"] == "evaluate")
    assert "s_per_epoch" in evaluate, evaluate  # it ran (the smoke profile's sample)
    assert "skipped" not in json.dumps([r for r in rows if r["part"] != "evaluate-step"])
