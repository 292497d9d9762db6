"""Trained proxies at the smoke profile: protocol, settings, seeding, no labels, failures."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.proxies import PROXIES, build_proxy, make_proxy, training
from harness.proxies import contrastive as contrastive_mod
from harness.proxies import trained as trained_mod
from harness.proxies.contrastive import SCORES
from harness.proxies.profiles import PROFILES, recommended_trials
from harness.spaces import SPACES
from harness.spaces.nb201 import NB201Cell, parse_cell

CELL = parse_cell(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
BENCH = BENCHMARKS.get("nb201-cifar10")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # steady timings on a shared 2-core box
    yield
    torch.set_num_threads(threads)


def test_registered_and_profiles_exposed() -> None:
    assert {"contrastive", "supervised"} <= set(PROXIES.names())
    assert set(PROFILES) == {"smoke", "quick", "paper"}
    assert recommended_trials("paper") == 120
    paper = make_proxy("contrastive", profile="paper").settings()
    assert SPACES.get("nb201").proxy_scale("paper") == {"C": 16, "N": 5}
    assert "C" not in paper and "N" not in paper  # the space owns the scale
    assert (paper["batch_size"], paper["epochs"], paper["image_size"]) == (256, 10, 32)
    assert (paper["train_images"], paper["lr"], paper["momentum"]) == (500, 1e-3, 0.9)
    assert (paper["variant"], paper["temperature"], paper["memory_weight"]) == ("pirl", 0.07, 0.5)
    assert (paper["augment"], paper["proj_dim"], paper["negatives"]) == ("csnas", 256, "auto")
    assert (paper["head"], paper["score"]) == ("linear", "train-loss")
    assert make_proxy("contrastive").settings()["profile"] == "quick"  # the default


@pytest.mark.parametrize("name", ["contrastive", "supervised"])
def test_settings_roundtrip_json_and_validation(name: str) -> None:
    proxy = make_proxy(name, profile="smoke", epochs=2)
    s = proxy.settings()
    assert json.loads(json.dumps(s)) == s
    # the runner rebuilds a proxy from its stored settings: it must be the same proxy
    assert make_proxy(name, **s).settings() == s
    with pytest.raises(HarnessError, match="unknown setting 'colour'"):
        make_proxy(name, colour="red")
    with pytest.raises(HarnessError, match="unknown profile 'huge'"):
        build_proxy(name, "huge")
    with pytest.raises(HarnessError, match="epochs"):
        make_proxy(name, epochs=0)


def test_variant_defaults_and_overrides() -> None:
    simclr = make_proxy("contrastive", variant="simclr").settings()
    assert (simclr["temperature"], simclr["augment"], simclr["head"]) == (0.5, "strong", "mlp")
    custom = make_proxy("contrastive", variant="simclr", temperature=0.2).settings()
    assert custom["temperature"] == 0.2
    with pytest.raises(HarnessError, match="unknown variant 'byol'"):
        make_proxy("contrastive", variant="byol")
    with pytest.raises(HarnessError, match="unknown score"):
        make_proxy("contrastive", score="accuracy")
    with pytest.raises(HarnessError, match="augment must be 'csnas'"):
        make_proxy("contrastive", augment="strong")
    with pytest.raises(HarnessError, match="negatives"):
        make_proxy("contrastive", negatives=0)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"variant": "simclr"}, {"score": "heldout-loss"}],
    ids=["pirl", "simclr", "heldout"],
)
def test_contrastive_evaluates(overrides: dict) -> None:
    proxy = make_proxy("contrastive", profile="smoke", **overrides)
    ev = proxy.evaluate(CELL, BENCH, seed=0)
    assert ev.status == "ok" and math.isfinite(ev.score)
    assert ev.direction == "minimize" and proxy.direction == "minimize"
    assert ev.labels_used == 0 and not proxy.deterministic
    assert ev.simulated_s == ev.wall_s > 0
    assert ev.device.startswith("cpu")
    assert len(ev.extra["epoch_losses"]) == 1 and ev.extra["steps"] == 2  # 64 images / 32
    if overrides.get("score") != "heldout-loss":
        assert ev.score == ev.extra["epoch_losses"][-1]
    # the authors' figure: summed loss x batch size over the 2 batches = 64/2 x per-image mean
    assert ev.extra["train-loss"] == pytest.approx(ev.extra["train_loss_per_image"] * 64 / 2)
    assert ev.wall_s < 3.0


def test_every_evaluation_carries_all_readouts_and_score_picks_one() -> None:
    base = make_proxy("contrastive", profile="smoke").evaluate(CELL, BENCH, 0)
    assert set(SCORES) <= set(base.extra)
    x = base.extra
    assert x["loss-drop"] == pytest.approx(x["init-loss"] - x["train-loss"])
    assert 0.0 <= x["inst-acc"] <= 1.0 and -1.0 <= x["init-cosine"] <= 1.0
    assert x["negatives"] == 2 * (32 - 1)
    for score, direction in SCORES.items():
        proxy = make_proxy("contrastive", profile="smoke", score=score)
        assert proxy.direction == direction
        ev = proxy.evaluate(CELL, BENCH, 0)
        assert ev.direction == direction and ev.score == pytest.approx(x[score])
        # readouts use their own stream: every one is the same whichever is the score
        assert all(ev.extra[k] == pytest.approx(x[k]) for k in SCORES)
    assert SCORES == {
        "train-loss": "minimize",
        "heldout-loss": "minimize",
        "init-loss": "minimize",
        "loss-drop": "maximize",
        "inst-acc": "maximize",
        "init-cosine": "minimize",
    }


def test_heldout_images_come_from_train_split_disjoint_from_subset() -> None:
    data = training.images_for("sample")
    for seed in (0, 1):
        split = training.make_split(data, 256, 128, seed, torch.device("cpu"), labels=True)
        assert not set(split.train_index) & set(split.heldout_index)
        assert len(set(split.train_index)) == 256 and len(split.heldout_index) == 128
        # the rows are the train arrays' rows: never a test image
        assert torch.equal(
            split.heldout_x, torch.from_numpy(data.x_train[split.heldout_index]).permute(0, 3, 1, 2)
        )
        assert torch.equal(split.heldout_y, torch.from_numpy(data.y_train[split.heldout_index]))
    other = training.make_split(data, 256, 128, 0, torch.device("cpu"), labels=False)
    assert not np.array_equal(split.train_index, other.train_index)  # the subset is seeded
    assert np.array_equal(split.heldout_index, other.heldout_index)  # held-out set is fixed
    with pytest.raises(HarnessError, match="exceed"):
        training.make_split(data, 700, 128, 0, torch.device("cpu"), labels=False)


def test_supervised_never_reads_test_images(monkeypatch: pytest.MonkeyPatch) -> None:
    real = training.images_for("sample")
    poisoned = replace(
        real,
        x_test=np.zeros_like(real.x_test) + 255,
        y_test=np.full_like(real.y_test, 10**6),  # an out-of-range label would crash
    )
    before = make_proxy("supervised", profile="smoke").evaluate(CELL, BENCH, 2)
    monkeypatch.setattr(trained_mod, "images_for", lambda data: poisoned)
    after = make_proxy("supervised", profile="smoke").evaluate(CELL, BENCH, 2)
    assert after.status == "ok" and after.score == before.score


def test_scale_is_the_spaces_and_overrides_apply() -> None:
    ev = make_proxy("contrastive", profile="smoke").evaluate(CELL, BENCH, 0)
    assert ev.extra["scale"] == {"C": 4, "N": 1}
    proxy = make_proxy("supervised", profile="smoke", C=6)
    assert proxy.settings()["C"] == 6  # kept: it keys the cache and lands in the manifest
    assert proxy.evaluate(CELL, BENCH, 0).extra["scale"] == {"C": 6, "N": 1}
    with pytest.raises(HarnessError, match="setting C=0"):
        make_proxy("contrastive", C=0)
    with pytest.raises(HarnessError, match="a trained proxy needs a benchmark"):
        make_proxy("contrastive", profile="smoke").evaluate(CELL, None, 0)


def test_pirl_loss_falls_with_training() -> None:
    ev = make_proxy("contrastive", profile="smoke", epochs=4, lr=0.05).evaluate(CELL, BENCH, 0)
    losses = ev.extra["epoch_losses"]
    assert losses[-1] < losses[0]


def test_supervised_evaluates() -> None:
    proxy = make_proxy("supervised", profile="smoke")
    ev = proxy.evaluate(CELL, BENCH, seed=0)
    assert ev.status == "ok" and 0.0 <= ev.score <= 100.0
    assert ev.direction == "maximize" and ev.labels_used == 64
    # accuracy is a multiple of 1/32 held-out images
    assert ev.score * 32 / 100 == pytest.approx(round(ev.score * 32 / 100))


def test_same_seed_same_score_different_seed_differs() -> None:
    proxy = make_proxy("contrastive", profile="smoke")
    a, b, c = (proxy.evaluate(CELL, BENCH, s).score for s in (3, 3, 4))
    assert a == b and a != c
    state = torch.get_rng_state()
    proxy.evaluate(CELL, BENCH, 5)
    assert torch.equal(state, torch.get_rng_state())  # the caller's RNG is left alone


def test_same_seed_same_score_in_fresh_process() -> None:
    code = (
        "import torch; torch.set_num_threads(1)\n"
        "from harness.proxies import make_proxy\n"
        "from harness.benchmarks import BENCHMARKS\n"
        "from harness.spaces.nb201 import parse_cell\n"
        f"cell = parse_cell({str(CELL)!r})\n"
        "bench = BENCHMARKS.get('nb201-cifar10')\n"
        "print(repr(make_proxy('contrastive', profile='smoke').evaluate(cell, bench, 7).score))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = make_proxy("contrastive", profile="smoke").evaluate(CELL, BENCH, 7).score
    assert float(out.stdout.strip()) == here


def test_contrastive_never_reads_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    real = training.images_for("sample")
    rng = np.random.default_rng(0)
    scrambled = replace(
        real,
        y_train=rng.permutation(real.y_train),
        y_test=rng.permutation(real.y_test),
    )
    before = make_proxy("contrastive", profile="smoke").evaluate(CELL, BENCH, 1).score
    sup = make_proxy("supervised", profile="smoke")
    sup_before = sup.evaluate(CELL, BENCH, 1).extra["epoch_losses"]
    monkeypatch.setattr(trained_mod, "images_for", lambda data: scrambled)
    assert make_proxy("contrastive", profile="smoke").evaluate(CELL, BENCH, 1).score == before
    after = sup.evaluate(CELL, BENCH, 1).extra["epoch_losses"]
    assert after != sup_before  # the control does use them


@pytest.mark.parametrize("name", ["contrastive", "supervised"])
def test_divergence_returns_failed_evaluation(name: str) -> None:
    proxy = make_proxy(name, profile="smoke", lr=1e12, epochs=2)
    ev = proxy.evaluate(CELL, BENCH, seed=0)
    assert ev.status == "failed" and "non-finite" in ev.extra["reason"]
    assert ev.score == (math.inf if name == "contrastive" else -math.inf)
    assert ev.loss is None


def test_nan_loss_is_caught_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def nan_loss(*args: object, **kwargs: object) -> torch.Tensor:
        return torch.tensor(float("nan"), requires_grad=True)

    monkeypatch.setattr(contrastive_mod, "nt_xent", nan_loss)
    ev = make_proxy("contrastive", profile="smoke", variant="simclr").evaluate(CELL, BENCH, 0)
    assert ev.status == "failed" and ev.score == math.inf


def test_disconnected_cell_and_data_override(tmp_path) -> None:
    disconnected = NB201Cell(("nor_conv_3x3", "none", "none", "none", "none", "avg_pool_3x3"))
    ev = make_proxy("contrastive", profile="smoke").evaluate(disconnected, BENCH, 0)
    # no path from input to output: every image gets the same embedding, and the proxy still
    # scores the cell (a finite, well-defined loss) instead of failing it
    assert ev.status == "ok" and math.isfinite(ev.score)
    assert ev.extra["init-cosine"] == pytest.approx(1.0)
    small = tmp_path / "tiny.npz"
    real = training.images_for("sample")
    np.savez(
        small,
        x_train=real.x_train[:40],
        y_train=real.y_train[:40],
        x_test=real.x_test[:40],
        y_test=real.y_test[:40],
    )
    with pytest.raises(HarnessError, match="train_images=64 \\+ heldout_images=32 exceed"):
        make_proxy("contrastive", profile="smoke", data=str(small)).evaluate(CELL, BENCH, 0)
    ev = make_proxy(
        "supervised", profile="smoke", data=str(small), train_images=24, heldout_images=16
    ).evaluate(CELL, BENCH, 0)
    assert ev.status == "ok" and ev.extra["data_source"] == str(small.resolve())


def test_bench_proxies_smoke() -> None:
    from click.testing import CliRunner

    from harness.bench.proxies import bench_proxies, format_table
    from harness.cli.bench import proxies_cmd as bench_cmd

    names = ("contrastive", "supervised", "rotation")
    rows = bench_proxies(profiles=("smoke",), proxies=names, cells=1)
    assert [r["proxy"] for r in rows] == ["contrastive/pirl", "supervised", "rotation"]
    for r in rows:
        assert r["s_per_cell"] > 0 and r["images_per_s"] > 0 and not r["extrapolated"]
    for r in rows[:2]:
        assert r["naive_s_per_cell"] > 0 and r["speedup"] > 0
    assert "speedup" not in rows[2]  # the naive loop reproduces contrastive and supervised only
    assert "speedup" in format_table(rows)
    result = CliRunner().invoke(bench_cmd, ["--profile", "smoke", "--cells", "0"])
    assert isinstance(result.exception, HarnessError)


def test_readout_passes_leave_batchnorm_statistics_alone() -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    with trained_mod.buffers_kept(model), torch.no_grad():
        model(torch.randn(8, 3, 6, 6) * 5 + 3)
        assert not torch.equal(model[1].running_mean, before["1.running_mean"])  # it moved
    after = model.state_dict()
    assert all(torch.equal(after[k], before[k]) for k in before)


def test_network_scale_applies_only_the_spaces_keys() -> None:
    class OtherSpace:  # a space with another scale vocabulary (as DARTS: C, layers)
        scale_keys = ("C", "layers")

        def proxy_scale(self, profile: str) -> dict[str, int]:
            return {"quick": {"C": 16, "layers": 8}}[profile]

    settings = {"profile": "quick", "C": 12, "N": 3}
    assert trained_mod.network_scale(OtherSpace(), settings) == {"C": 12, "layers": 8}
    nb201 = SPACES.get("nb201")
    assert trained_mod.network_scale(nb201, settings) == {"C": 12, "N": 3}
    assert trained_mod.network_scale(nb201, {"profile": "paper"}) == {"C": 16, "N": 5}
