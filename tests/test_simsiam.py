"""The SimSiam proxy: the symmetric negative-cosine loss with stop-gradient and the collapse
monitor checked by hand against the paper's formulas (Chen & He 2021, Algorithm 1 and Fig. 2;
facebookresearch/simsiam main_simsiam.py), the networks' shapes, the readouts, and the
contract every trained proxy keeps (no labels, seeds, settings)."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import replace

import numpy as np
import pytest
import torch

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.proxies import build_proxy, make_proxy, training
from harness.proxies import simsiam as simsiam_mod
from harness.proxies import trained as trained_mod
from harness.proxies.losses import negative_cosine, simsiam_loss
from harness.proxies.simsiam import READOUTS, SimSiamNet, output_std
from harness.spaces import SPACES
from harness.spaces.nb201 import parse_cell

CELL = parse_cell(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
BENCH = BENCHMARKS.get("nb201-cifar10")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / (math.hypot(*a) * math.hypot(*b))


def test_simsiam_loss_by_hand() -> None:
    p1 = [[1.0, 0.0, 2.0], [0.5, -1.0, 0.0]]
    p2 = [[0.0, 1.0, 1.0], [2.0, 2.0, -1.0]]
    z1 = [[1.0, 1.0, 0.0], [-1.0, 0.5, 3.0]]
    z2 = [[0.3, -0.2, 1.0], [1.0, 1.0, 1.0]]

    def d(p: list, z: list) -> float:  # D(p, z) = -mean_i cos(p_i, z_i)
        return -sum(_cos(a, b) for a, b in zip(p, z)) / len(p)

    expected = 0.5 * d(p1, z2) + 0.5 * d(p2, z1)
    t = [torch.tensor(v) for v in (p1, p2, z1, z2)]
    assert simsiam_loss(*t).item() == pytest.approx(expected, rel=1e-6)
    assert negative_cosine(t[0], t[3]).item() == pytest.approx(d(p1, z2), rel=1e-6)
    # identical directions: the minimum, -1
    assert simsiam_loss(t[2], t[3], t[3], t[2]).item() == pytest.approx(-1.0)


def test_gradient_stops_at_the_projections() -> None:
    p1, p2, z1, z2 = (torch.randn(4, 3, requires_grad=True) for _ in range(4))
    simsiam_loss(p1, p2, z1, z2).backward()
    assert z1.grad is None and z2.grad is None
    assert p1.grad is not None and p1.grad.abs().sum() > 0 and p2.grad is not None


def test_output_std_by_hand() -> None:
    z = [[3.0, 4.0], [1.0, 0.0], [0.0, -2.0], [1.0, 1.0]]
    units = [[v / math.hypot(*row) for v in row] for row in z]
    per_channel = [statistics.stdev(col) for col in zip(*units)]
    assert output_std(torch.tensor(z)) == pytest.approx(sum(per_channel) / 2, rel=1e-9)
    assert output_std(torch.ones(5, 4)) == 0.0  # collapsed: every output the same


def test_networks_are_the_papers_shapes() -> None:
    space = SPACES.get("nb201")
    net = SimSiamNet(space.network(CELL, 10, C=4, N=1), proj_dim=2048)
    d = net.network.feature_dim
    linears = [m for m in net.projector if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias) for m in linears] == [
        (d, d, None),
        (d, 2048, None),
    ]
    assert not net.projector[-1].affine  # output BN without affine, as theirs
    pred = [m for m in net.predictor if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in pred] == [(2048, 512), (512, 2048)]
    assert pred[0].bias is None and pred[1].bias is not None
    s = make_proxy("simsiam").settings()
    assert (s["proj_dim"], s["augment"], s["score"]) == (2048, "strong", "train-loss")
    small = SimSiamNet(space.network(CELL, 10, C=4, N=1), proj_dim=64)
    assert small.predictor[0].out_features == 16  # the paper's bottleneck ratio, 1/4


def test_each_view_is_its_own_forward_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = SimSiamNet.forward

    def counted(self, x):  # type: ignore[no-untyped-def]
        sizes.append(len(x))
        return real(self, x)

    monkeypatch.setattr(SimSiamNet, "forward", counted)
    make_proxy("simsiam", profile="smoke").evaluate(CELL, BENCH, 0)
    # init pass (2 batches) + training (2 steps) + held-out (1 batch), 2 views each, B images
    assert sizes == [32] * 10


def test_simsiam_evaluates_without_labels_and_records_every_readout() -> None:
    proxy = make_proxy("simsiam", profile="smoke")
    ev = proxy.evaluate(CELL, BENCH, 0)
    assert ev.status == "ok" and ev.labels_used == 0 and not proxy.deterministic
    assert ev.direction == proxy.direction == "minimize"
    x = ev.extra
    assert set(READOUTS) <= set(x) and proxy.readout_directions == READOUTS
    assert ev.score == x["train-loss"] == x["epoch_losses"][-1]
    assert -1.0 <= x["train-loss"] <= 1.0 and -1.0 <= x["heldout-loss"] <= 1.0
    assert x["loss-drop"] == pytest.approx(x["init-loss"] - x["train-loss"])
    assert 0.0 <= x["output-std"] <= 1.0
    assert READOUTS == {
        "train-loss": "minimize",
        "init-loss": "minimize",
        "loss-drop": "maximize",
        "heldout-loss": "minimize",
        "output-std": "maximize",
        "rankme": "maximize",
    }
    for score, direction in READOUTS.items():
        other = make_proxy("simsiam", profile="smoke", score=score).evaluate(CELL, BENCH, 0)
        assert other.direction == direction and other.score == pytest.approx(x[score])


def test_simsiam_learns() -> None:
    ev = make_proxy("simsiam", profile="smoke", epochs=6, lr=0.2).evaluate(CELL, BENCH, 0)
    losses = ev.extra["epoch_losses"]
    assert losses[-1] < losses[0] - 0.05 and ev.extra["loss-drop"] > 0.05


def test_simsiam_never_reads_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    real = training.images_for("sample")
    rng = np.random.default_rng(0)
    scrambled = replace(
        real, y_train=rng.permutation(real.y_train), y_test=rng.permutation(real.y_test)
    )
    before = make_proxy("simsiam", profile="smoke").evaluate(CELL, BENCH, 1)
    monkeypatch.setattr(trained_mod, "images_for", lambda data: scrambled)
    after = make_proxy("simsiam", profile="smoke").evaluate(CELL, BENCH, 1)
    assert after.score == before.score and after.labels_used == 0
    assert after.extra["rankme"] == before.extra["rankme"]


def test_seeded_and_the_callers_rng_left_alone() -> None:
    proxy = make_proxy("simsiam", profile="smoke")
    state = torch.get_rng_state()
    a, b, c = (proxy.evaluate(CELL, BENCH, s).score for s in (3, 3, 4))
    assert a == b and a != c
    assert torch.equal(state, torch.get_rng_state())


def test_settings_profiles_and_validation() -> None:
    s = make_proxy("simsiam", profile="smoke", proj_dim=64).settings()
    assert json.loads(json.dumps(s)) == s and make_proxy("simsiam", **s).settings() == s
    shared = ("train_images", "heldout_images", "batch_size", "epochs", "lr", "momentum", "data")
    for profile in ("smoke", "quick", "paper"):
        mine = build_proxy("simsiam", profile).settings()
        theirs = make_proxy("contrastive", profile=profile).settings()
        assert {k: mine[k] for k in shared} == {k: theirs[k] for k in shared}
    for bad, match in (
        ({"score": "rot-acc"}, "unknown score"),
        ({"augment": "csnas"}, "unknown augment"),
        ({"proj_dim": 0}, "proj_dim"),
        ({"proj_dim": True}, "proj_dim"),
        ({"train_images": 65, "batch_size": 32}, "batch of one image"),
        ({"batch_size": 1}, "batch of one image"),
    ):
        with pytest.raises(HarnessError, match=match):
            make_proxy("simsiam", profile="smoke", **bad)
    assert simsiam_mod.DEFAULTS["proj_dim"] == 2048
