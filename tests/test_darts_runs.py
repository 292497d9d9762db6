"""Real searches on the DARTS space: the trained proxies build DARTS networks through the
space, runs resume and cache as on NB201, and table lookups are refused with one line."""

from __future__ import annotations

import pytest
import torch

from harness import HarnessError
from harness.cli import main
from harness.executors import execute_plan
from harness.runner import make_plan
from harness.store import open_store


def test_csnas_and_supervised_search_the_darts_space(tmp_path) -> None:
    torch.set_num_threads(1)
    url = f"sqlite:///{tmp_path / 'darts.db'}"
    plan = make_plan(
        ["csnas", "supervised-tpe"],
        ["darts-cifar10"],
        seeds=1,
        trials=2,
        proxy_settings={"profile": "smoke", "train_images": 32, "heldout_images": 16},
    )
    assert execute_plan(plan, url, progress=False) == {r: "done" for r in plan.run_ids}
    store = open_store(url, create=False)
    frame = store.trials_frame()
    assert len(frame) == 4 and frame["truth"].isna().all() and (frame["status"] == "ok").all()
    assert set(frame["space"]) == {"darts"}
    assert all(a.startswith("Genotype(normal=[") for a in frame["arch"])
    csnas = frame[frame["method"] == "csnas"]
    assert (csnas["labels_used"] == 0).all() and (csnas["direction"] == "minimize").all()
    manifest = store.runs()[0]["manifest"]
    assert manifest["proxy_settings"]["profile"] == "smoke"
    assert manifest["benchmark"]["truth_source"] == "training"
    # a rerun of the same plan is served from the store: nothing is trained again
    assert set(execute_plan(plan, url, progress=False).values()) == {"skipped"}
    store.close()


def test_lookup_methods_refused_on_darts(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "tpe", "--benchmark", "darts-cifar10", "--storage", url])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1
    assert "lookup-12" in err and "darts-cifar10 has none" in err
    assert not (tmp_path / "x.db").exists()  # refused before the store was touched


def test_mixed_plan_sends_profile_only_to_trained_proxies() -> None:
    plan = make_plan(
        ["csnas", "tpe"], ["nb201-cifar10"], seeds=1, proxy_settings={"profile": "smoke"}
    )
    by_method = {r.method: r for r in plan.runs}
    assert by_method["csnas"].proxy_settings["profile"] == "smoke"
    assert by_method["tpe"].proxy_settings == {"epochs": 12}
    with pytest.raises(HarnessError, match="no proxy of this plan"):
        make_plan(["tpe"], ["nb201-cifar10"], seeds=1, proxy_settings={"profile": "smoke"})


def test_benchmark_setting_picks_the_authors_edge_encoding() -> None:
    plan = make_plan(["csnas"], ["darts-cifar10"], seeds=1, benchmark_settings={"encoding": "edge"})
    spec = plan.runs[0]
    assert spec.resolve_benchmark().space == "darts-edge"
    node = make_plan(["csnas"], ["darts-cifar10"], seeds=1).runs[0]
    assert node.resolve_benchmark().space == "darts" and node.run_id != spec.run_id
    with pytest.raises(HarnessError, match="unknown encoding 'diagonal'"):
        make_plan(
            ["csnas"], ["darts-cifar10"], seeds=1, benchmark_settings={"encoding": "diagonal"}
        )
    with pytest.raises(HarnessError, match="unknown setting 'encoding' for nb201-cifar10"):
        make_plan(["csnas"], ["nb201-cifar10"], seeds=1, benchmark_settings={"encoding": "edge"})
