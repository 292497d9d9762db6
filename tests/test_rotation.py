"""The rotation proxy (UnNAS's 4-way rotation pretext task): the rotations, the loss and the
padded crop checked by hand against unnas's formulas (np.rot90(im, k, (1, 2)) on CHW images,
pycls `random_crop` with its np.random.randint(0, h - size) offsets), the readouts, and the
contract every trained proxy keeps (no labels, seeds, settings)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.proxies import build_proxy, make_proxy, training
from harness.proxies import rotation as rotation_mod
from harness.proxies import trained as trained_mod
from harness.proxies.losses import rotation_loss, rotations
from harness.proxies.rotation import READOUTS, pad_crop, unnas_pad
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


def test_rotations_are_unnas_rot90_in_their_order() -> None:
    # a 2x2 image [[1, 2], [3, 4]] turned counter-clockwise (as displayed) k times, by eye
    image = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    by_eye = [
        [[1.0, 2.0], [3.0, 4.0]],
        [[2.0, 4.0], [1.0, 3.0]],
        [[4.0, 3.0], [2.0, 1.0]],
        [[3.0, 1.0], [4.0, 2.0]],
    ]
    images, labels = rotations(image)
    assert images[:, 0].tolist() == by_eye and labels.tolist() == [0, 1, 2, 3]
    # theirs: prepare_rot on a CHW image, the collate's view(b * r, c, h, w)
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(3, 3, 5, 5)).astype(np.float32)
    theirs = np.stack([np.stack([np.rot90(im, k, (1, 2)) for k in range(4)]) for im in batch])
    images, labels = rotations(torch.from_numpy(batch))
    assert np.array_equal(images.numpy(), theirs.reshape(12, 3, 5, 5))
    assert labels.tolist() == [0, 1, 2, 3] * 3


def test_rotation_loss_by_hand() -> None:
    logits = [[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4], [-1.0, 3.0, 0.0, 1.0]]
    labels = [0, 3, 2]
    expected = 0.0
    for row, y in zip(logits, labels):
        expected += -(row[y] - math.log(sum(math.exp(v) for v in row)))
    got = rotation_loss(torch.tensor(logits), torch.tensor(labels))
    assert got.item() == pytest.approx(expected / 3, rel=1e-6)


def test_pad_crop_is_pycls_random_crop() -> None:
    assert (unnas_pad(32), unnas_pad(16), unnas_pad(4)) == (4, 2, 1)
    n, h, pad = 400, 6, 2
    x = torch.arange(1.0, 1 + n * 2 * h * h).view(n, 2, h, h)  # distinct non-zero pixels
    out = pad_crop(x, pad, torch.Generator().manual_seed(0))
    offsets = set()
    for i in range(n):
        padded = np.pad(x[i].numpy(), ((0, 0), (pad, pad), (pad, pad)))  # zeros, as theirs
        found = [
            (dy, dx)
            for dy in range(2 * pad + 1)
            for dx in range(2 * pad + 1)
            if np.array_equal(padded[:, dy : dy + h, dx : dx + h], out[i].numpy())
        ]
        assert len(found) == 1
        offsets.add(found[0])
    # np.random.randint(0, h - size) never draws the last offset 2 x pad; all the others occur
    assert offsets == {(dy, dx) for dy in range(2 * pad) for dx in range(2 * pad)}


def test_rotation_evaluates_without_labels_and_records_every_readout() -> None:
    proxy = make_proxy("rotation", profile="smoke")
    ev = proxy.evaluate(CELL, BENCH, 0)
    assert ev.status == "ok" and ev.labels_used == 0 and not proxy.deterministic
    assert ev.direction == proxy.direction == "minimize"
    x = ev.extra
    assert set(READOUTS) <= set(x)
    assert ev.score == x["train-loss"] == x["epoch_losses"][-1]
    assert x["loss-drop"] == pytest.approx(x["init-loss"] - x["train-loss"])
    # 32 held-out images x 4 rotations
    assert x["rot-acc"] * 128 == pytest.approx(round(x["rot-acc"] * 128))
    assert x["steps"] == 2 and x["images_seen"] == 4 * 64
    assert READOUTS == {
        "train-loss": "minimize",
        "init-loss": "minimize",
        "loss-drop": "maximize",
        "heldout-loss": "minimize",
        "rot-acc": "maximize",
        "rankme": "maximize",
    }
    assert proxy.readout_directions == READOUTS
    for score, direction in READOUTS.items():
        other = make_proxy("rotation", profile="smoke", score=score).evaluate(CELL, BENCH, 0)
        assert other.direction == direction and other.score == pytest.approx(x[score])


def test_heldout_readouts_recomputed_image_by_image(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list = []
    real = rotation_mod.RotationRun.finish

    def keep(self, stats):  # type: ignore[no-untyped-def]
        runs.append(self)
        return real(self, stats)

    monkeypatch.setattr(rotation_mod.RotationRun, "finish", keep)
    ev = make_proxy("rotation", profile="smoke", epochs=2, lr=0.05).evaluate(CELL, BENCH, 1)
    run = runs[0]
    model, held = run.model.eval(), run.ctx.split.heldout_x
    losses, correct = [], 0
    with torch.no_grad():
        for image in held:
            plain = run.plain(image[None])
            for k in range(4):
                logits = model(plain.rot90(k, (2, 3)))[0].double()
                losses.append(float(torch.logsumexp(logits, 0) - logits[k]))
                correct += int(logits.argmax()) == k
    assert ev.extra["heldout-loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-4)
    assert ev.extra["rot-acc"] == correct / len(losses)


def test_rotation_learns() -> None:
    ev = make_proxy("rotation", profile="smoke", epochs=4, lr=0.05).evaluate(CELL, BENCH, 0)
    losses = ev.extra["epoch_losses"]
    assert losses[-1] < losses[0] and ev.extra["loss-drop"] > 0


def test_rotation_never_reads_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    real = training.images_for("sample")
    rng = np.random.default_rng(0)
    scrambled = replace(
        real, y_train=rng.permutation(real.y_train), y_test=rng.permutation(real.y_test)
    )
    before = make_proxy("rotation", profile="smoke").evaluate(CELL, BENCH, 1)
    monkeypatch.setattr(trained_mod, "images_for", lambda data: scrambled)
    after = make_proxy("rotation", profile="smoke").evaluate(CELL, BENCH, 1)
    assert after.score == before.score and after.extra == {
        **before.extra,
        "phase_s": after.extra["phase_s"],
    }
    assert after.labels_used == 0


def test_seeded_and_the_callers_rng_left_alone() -> None:
    proxy = make_proxy("rotation", profile="smoke")
    state = torch.get_rng_state()
    a, b, c = (proxy.evaluate(CELL, BENCH, s).score for s in (3, 3, 4))
    assert a == b and a != c
    assert torch.equal(state, torch.get_rng_state())


def test_settings_profiles_and_validation() -> None:
    s = make_proxy("rotation", profile="smoke", epochs=2).settings()
    assert json.loads(json.dumps(s)) == s and make_proxy("rotation", **s).settings() == s
    shared = ("train_images", "heldout_images", "batch_size", "epochs", "lr", "momentum", "data")
    for profile in ("smoke", "quick", "paper"):
        mine = build_proxy("rotation", profile).settings()
        theirs = make_proxy("contrastive", profile=profile).settings()
        assert {k: mine[k] for k in shared} == {k: theirs[k] for k in shared}
        assert (mine["score"], mine["augment"]) == ("train-loss", "unnas")
    assert make_proxy("rotation", augment="weak").settings()["augment"] == "weak"
    for bad, match in (
        ({"score": "accuracy"}, "unknown score"),
        ({"augment": "csnas"}, "unknown augment"),
        ({"colour": 1}, "unknown setting 'colour'"),
        ({"epochs": 0}, "epochs"),
    ):
        with pytest.raises(HarnessError, match=match):
            make_proxy("rotation", **bad)


def test_other_augment_recipes_run() -> None:
    ev = make_proxy("rotation", profile="smoke", augment="weak").evaluate(CELL, BENCH, 0)
    base = make_proxy("rotation", profile="smoke").evaluate(CELL, BENCH, 0)
    assert ev.status == "ok" and ev.score != base.score
    assert math.isfinite(ev.extra["heldout-loss"])
