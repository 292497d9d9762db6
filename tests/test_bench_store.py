"""`harness bench store` measures real studies step by step (figures printed, never asserted):
its logic at the smallest size, and its mistakes in one line."""

from __future__ import annotations

import pytest
from cli_helpers import harness as cli


def test_sizes_round_up_to_whole_seeds() -> None:
    from harness.bench.store import seeds_for

    assert seeds_for(10_000) == 17 and seeds_for(1_000_000) == 1667 and seeds_for(600) == 1


@pytest.mark.parametrize(
    "args, word",
    [
        (["--sizes", "ten"], "--sizes"),
        (["--sizes", "10"], "--sizes"),
        (["--pg-sizes", "x"], "--pg-sizes"),
        (["--steps", "run,draw"], "--steps"),
    ],
)
def test_bad_sizes_are_one_line(capsys, args, word) -> None:
    code, _, err = cli(capsys, "bench", "store", *args)
    assert code == 2 and err.count("\n") == 1 and word in err, err


@pytest.mark.slow
def test_a_store_is_filled_once_and_every_step_measured(tmp_path) -> None:
    from harness.bench.store import measure_size

    url = f"sqlite:///{tmp_path / 's.db'}"
    first = measure_size(url, "sqlite", 1_000, tmp_path)
    assert [s.step for s in first] == ["run", "report", "page", "export"]
    assert all(s.trials == 1_200 and s.seconds > 0 and s.peak_mb > 10 for s in first)
    assert first[2].output_mb and first[3].output_mb  # the page and the export's sizes
    again = measure_size(url, "sqlite", 1_000, tmp_path)  # reused: no run row
    assert [s.step for s in again] == ["report", "page", "export"]
    with pytest.raises(RuntimeError, match="neither none nor"):
        measure_size(url, "sqlite", 2_000, tmp_path)
    only = measure_size(url, "sqlite", 1_000, tmp_path, ("report",))
    assert [s.step for s in only] == ["report"]
    with pytest.raises(RuntimeError, match="leave out run"):
        measure_size(f"sqlite:///{tmp_path / 'e.db'}", "sqlite", 1_000, tmp_path, ("report",))


@pytest.mark.parametrize(
    "args, word",
    [(["--workers", "two"], "--workers"), (["--workload", "gpu"], "--workload"),
     (["--workers", "0"], "workers")],
)  # fmt: skip
def test_bad_dask_bench_options_are_one_line(capsys, args, word) -> None:
    code, _, err = cli(capsys, "bench", "dask", *args)
    assert code == 2 and err.count("\n") == 1 and word in err, err


@pytest.mark.slow
def test_dask_throughput_runs_each_worker_count(tmp_path, monkeypatch) -> None:
    from harness.bench import dask

    small = {"methods": ["random"], "benchmarks": ["nb201-cifar10"], "seeds": 2, "trials": 5}
    monkeypatch.setitem(dask.WORKLOADS, "lookup", small)
    rows = dask.run_bench((1, 2), ("lookup",))
    assert [r["workers"] for r in rows] == [1, 2] and rows[0]["speedup"] == 1.0
    assert all(r["trials"] == 10 and r["trials_per_s"] > 0 for r in rows)


def test_the_cost_growth_figure_draws_from_the_benches_json(tmp_path, capsys) -> None:
    import json

    store = [
        {"backend": b, "trials": n, "step": s, "seconds": 1.0 + n / 1e5, "peak_mb": 200.0,
         "output_mb": 1.4 if s == "page" else None}
        for b, ns in (("sqlite", (10_200, 100_200)), ("postgres", (3_000_000,)))
        for n in ns for s in ("run", "report", "page", "export")
    ]  # fmt: skip
    dask = [{"workload": "lookup", "workers": w, "trials_per_s": 100.0 * w} for w in (1, 2, 4)]
    (tmp_path / "s.json").write_text(json.dumps(store))
    (tmp_path / "d.json").write_text(json.dumps(dask))
    code, _, err = cli(capsys, "bench", "figure", "--store", str(tmp_path / "s.json"),
                         "--dask", str(tmp_path / "d.json"), "--out", str(tmp_path / "f"))  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "f" / "cost-growth.png").stat().st_size > 10_000
    assert "<svg" in (tmp_path / "f" / "cost-growth.svg").read_text()
