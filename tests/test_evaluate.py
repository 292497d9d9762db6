"""`harness evaluate`: protocols against their references, batched augmentation, the trainer's
schedule / drop-path / auxiliary / autocast / channels-last paths, crash-resume, the store."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from harness import HarnessError
from harness.evaluate import checkpoint as ckpt
from harness.evaluate.augment import cutout, random_crop
from harness.evaluate.data import resolve_data
from harness.evaluate.device import round_robin, torch_threads
from harness.evaluate.protocols import PROTOCOLS, default_protocol
from harness.evaluate.protocols.darts import DARTS
from harness.evaluate.protocols.nb201 import NB201
from harness.evaluate.trainer import TIMING_FIELDS, Task, train

# -- protocols -------------------------------------------------------------------------------


def test_darts_schedule_follows_train_py() -> None:
    # train.py calls scheduler.step() before each epoch: epoch e trains at eta(e + 1)
    assert DARTS.lr_factor(0, 600) == pytest.approx(0.5 * (1 + math.cos(math.pi / 600)))
    assert DARTS.lr_factor(299, 600) == pytest.approx(0.5)
    assert DARTS.lr_factor(599, 600) == pytest.approx(0.0, abs=1e-12)
    # model.drop_path_prob = args.drop_path_prob * epoch / args.epochs
    assert DARTS.drop_path_at(0, 600, 0.2) == 0.0
    assert DARTS.drop_path_at(300, 600, 0.2) == pytest.approx(0.1)
    assert DARTS.drop_path_at(599, 600, 0.2) == pytest.approx(0.2 * 599 / 600)


def test_nb201_schedule_follows_xautodl() -> None:
    # CosineAnnealingLR(warmup 0, T_max = epochs, eta_min 0) read at the integer epoch
    assert NB201.lr_factor(0, 200) == 1.0
    assert NB201.lr_factor(199, 200) == pytest.approx(0.5 * (1 + math.cos(math.pi * 199 / 200)))


def test_paper_profiles_are_the_published_setups() -> None:
    d = DARTS.resolve("paper", "darts", ("C", "layers"), {})
    expect = dict(
        epochs=600,
        batch_size=96,
        lr=0.025,
        momentum=0.9,
        weight_decay=3e-4,
        nesterov=False,
        cutout=16,
        drop_path=0.2,
        aux_weight=0.4,
        grad_clip=5.0,
        crop_padding=4,
        flip=True,
        train_images=None,
        C=36,
        layers=20,
    )
    assert {k: d[k] for k in expect} == expect
    n = NB201.resolve("paper", "nb201", ("C", "N"), {})
    expect = dict(
        epochs=200,
        batch_size=256,
        lr=0.1,
        momentum=0.9,
        weight_decay=5e-4,
        nesterov=True,
        cutout=0,
        drop_path=0.0,
        aux_weight=0.0,
        grad_clip=0.0,
        crop_padding=4,
        flip=True,
        train_images=None,
        C=16,
        N=5,
    )
    assert {k: n[k] for k in expect} == expect
    # NB201's normalisation: mean [125.3, 123.0, 113.9] / 255, std [63.0, 62.1, 66.7] / 255
    mean, std = NB201.stats("cifar10")
    assert mean == pytest.approx((125.3 / 255, 123.0 / 255, 113.9 / 255))
    assert std == pytest.approx((63.0 / 255, 62.1 / 255, 66.7 / 255))
    assert DARTS.stats("cifar10")[0] == (0.49139968, 0.48215827, 0.44653124)


def test_protocol_registry_and_defaults() -> None:
    assert PROTOCOLS.names() == ["darts", "nb201"]
    assert default_protocol("nb201") is NB201 and default_protocol("darts") is DARTS
    with pytest.raises(HarnessError, match="no default evaluation protocol"):
        default_protocol("toy-space")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"learning_rate": 0.1}, "unknown setting 'learning_rate'"),
        ({"epochs": 0}, "epochs=0 must be a positive integer"),
        ({"lr": -1}, "lr=-1 must be a non-negative"),
        ({"precision": "fp8"}, "precision='fp8'"),
        ({"drop_path": 1.0}, "drop_path=1.0 must be below 1"),
        ({"N": 0}, "N=0 must be a positive integer"),
        ({"nesterov": "yes"}, "nesterov='yes' must be true or false"),
    ],
)
def test_bad_settings_fail_before_training(overrides: dict, match: str) -> None:
    with pytest.raises(HarnessError, match=match):
        NB201.resolve("smoke", "nb201", ("C", "N"), overrides)


def test_data_resolution_refuses_the_sample_outside_smoke(monkeypatch) -> None:
    monkeypatch.delenv("HARNESS_CIFAR10", raising=False)
    assert resolve_data("sample", "cifar10", "smoke") == "sample"
    with pytest.raises(HarnessError, match="for --profile smoke only, not paper"):
        resolve_data("sample", "cifar10", "paper")
    with pytest.raises(HarnessError, match="harness data download cifar10"):
        resolve_data(None, "cifar10", "quick")
    with pytest.raises(HarnessError, match="sample is CIFAR-10"):
        resolve_data("sample", "cifar100", "smoke")
    with pytest.raises(HarnessError, match="CIFAR-10/100 only"):
        resolve_data("sample", "ImageNet16-120", "smoke")
    monkeypatch.setenv("HARNESS_CIFAR10", str(Path(__file__)))
    assert resolve_data(None, "cifar10", "paper") == str(Path(__file__).resolve())


# -- augmentation ----------------------------------------------------------------------------


def test_random_crop_is_a_window_of_the_zero_padded_image() -> None:
    images = torch.randint(1, 256, (6, 3, 8, 8), dtype=torch.uint8)
    out = random_crop(images, 4, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)  # the same draws: dy then dx
    dy = torch.randint(0, 9, (6,), generator=g)
    dx = torch.randint(0, 9, (6,), generator=g)
    padded = F.pad(images, (4, 4, 4, 4))
    for i in range(6):
        y, x = int(dy[i]), int(dx[i])
        assert torch.equal(out[i], padded[i, :, y : y + 8, x : x + 8])
    assert out.dtype == torch.uint8 and out.shape == images.shape


def test_cutout_matches_darts_numpy_mask() -> None:
    x = torch.ones(5, 3, 32, 32)
    out = cutout(x, 16, torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)
    ys = torch.randint(0, 32, (5,), generator=g)
    xs = torch.randint(0, 32, (5,), generator=g)
    for i in range(5):  # DARTS utils.Cutout with centre (y, x)
        mask = np.ones((32, 32), np.float32)
        y, xx = int(ys[i]), int(xs[i])
        mask[
            np.clip(y - 8, 0, 32) : np.clip(y + 8, 0, 32),
            np.clip(xx - 8, 0, 32) : np.clip(xx + 8, 0, 32),
        ] = 0.0
        assert torch.equal(out[i], torch.from_numpy(mask).expand(3, 32, 32))


def test_round_robin_places_several_trainings_per_device() -> None:
    assert round_robin(["cuda:0", "cuda:1"], 5) == ["cuda:0", "cuda:1"] * 2 + ["cuda:0"]
    assert round_robin(["cpu"], 2) == ["cpu", "cpu"]


# -- the trainer, on a tiny network with DARTS's evaluation hooks --------------------------------


class TinyEvalNet(nn.Module):
    """A space's evaluation network in miniature: (logits, aux) in training, a drop-path
    attribute drawing from torch's global RNG, and a record of what each forward saw."""

    def __init__(self, c: int, num_classes: int, crash_after: int | None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.classifier = nn.Linear(c, num_classes)
        self.auxiliary_head = nn.Linear(c, num_classes)
        self.drop_path_prob = 0.0
        self.seen: list[tuple[float, torch.dtype, bool]] = []
        self.crash_after = crash_after

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = F.relu(self.conv(x))
        if self.training:
            cl = x.is_contiguous(memory_format=torch.channels_last)
            self.seen.append((self.drop_path_prob, h.dtype, cl))
            if self.crash_after is not None and len(self.seen) > self.crash_after:
                raise RuntimeError("simulated crash")
            if self.drop_path_prob > 0:
                keep = 1 - self.drop_path_prob
                mask = torch.empty(h.shape[0], 1, 1, 1, dtype=h.dtype).bernoulli_(keep)
                h = h / keep * mask
        pooled = h.mean((2, 3))
        aux = self.auxiliary_head(pooled) if self.training else None
        return self.classifier(pooled), aux


class TinySpace:
    name = "tiny"
    scale_keys = ("C",)

    def __init__(self, crash_after: int | None = None) -> None:
        self.built: list[TinyEvalNet] = []
        self.crash_after = crash_after

    def evaluation_network(self, arch: Any, num_classes: int, C: int = 4) -> TinyEvalNet:
        net = TinyEvalNet(C, num_classes, self.crash_after)
        self.built.append(net)
        return net

    def network(self, arch: Any, num_classes: int, **scale: int) -> Any:
        raise AssertionError("evaluate must prefer evaluation_network")


def _task(tmp_path: Path, space: Any, key: str = "k", **overrides: Any) -> Task:
    base = dict(epochs=3, train_images=64, test_images=32, batch_size=16, C=4)
    settings = DARTS.resolve("smoke", "tiny", ("C",), {**base, **overrides})
    return Task(
        space=space,
        arch="a",
        num_classes=10,
        dataset="cifar10",
        protocol="darts",
        settings=settings,
        checkpoint=tmp_path / f"{key}.pt",
        key=key,
    )


def _run(task: Task):
    with torch_threads(1):
        return train(task, torch.device("cpu"), progress=False)


def _numbers(curve: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in curve]


def test_trainer_applies_schedule_drop_path_aux_and_clip(tmp_path: Path) -> None:
    space = TinySpace()
    result = _run(_task(tmp_path, space))
    net = space.built[0]
    # drop-path seen by the network: 0.2 * e / 3 in epoch e (4 batches per epoch)
    assert [round(p, 6) for p, _, _ in net.seen] == [
        round(0.2 * e / 3, 6) for e in range(3) for _ in range(4)
    ]
    assert [r["lr"] for r in result.curve] == pytest.approx(
        [0.025 * DARTS.lr_factor(e, 3) for e in range(3)]
    )
    assert all(cl for _, _, cl in net.seen)  # channels-last inputs
    assert all(dt == torch.float32 for _, dt, _ in net.seen)
    assert result.params == 4 * 3 * 9 + 4 + 4 * 10 + 10  # conv + classifier, no aux head
    assert result.manifest["params_total"] == result.params + 4 * 10 + 10
    assert all(r["test_acc"] is not None for r in result.curve)
    assert result.test_acc == result.curve[-1]["test_acc"]
    assert result.manifest["precision"] == "fp32" and result.manifest["device"] == "cpu"
    assert result.manifest["data_note"].startswith("trained on the shipped 1k-image sample")
    for key in ("device_name", "torch", "cuda", "cudnn", "driver", "determinism", "threads"):
        assert key in result.manifest
    # the auxiliary loss is part of the objective: without it the training loss differs
    no_aux = _run(_task(tmp_path, TinySpace(), key="noaux", aux_weight=0.0))
    assert no_aux.curve[0]["train_loss"] != pytest.approx(result.curve[0]["train_loss"])


def test_bf16_autocast_runs_on_cpu(tmp_path: Path) -> None:
    space = TinySpace()
    result = _run(_task(tmp_path, space, epochs=1, precision="bf16"))
    assert {dt for _, dt, _ in space.built[0].seen} == {torch.bfloat16}
    assert result.manifest["precision"] == "bf16" and math.isfinite(result.curve[0]["train_loss"])
    fp32 = _run(_task(tmp_path, TinySpace(), key="fp32", epochs=1))
    assert fp32.curve[0]["train_loss"] != result.curve[0]["train_loss"]


def test_fp16_path_uses_the_gradient_scaler(tmp_path: Path) -> None:
    result = _run(_task(tmp_path, TinySpace(), epochs=1, precision="fp16"))
    assert result.manifest["precision"] == "fp16" and math.isfinite(result.test_acc)


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path: Path) -> None:
    a = _run(_task(tmp_path, TinySpace(), key="a"))
    b = _run(_task(tmp_path, TinySpace(), key="b"))
    c = _run(_task(tmp_path, TinySpace(), key="c", seed=1))
    assert _numbers(a.curve) == _numbers(b.curve)
    assert _numbers(a.curve) != _numbers(c.curve)


def test_crash_then_rerun_resumes_and_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    clean = _run(_task(tmp_path / "clean", TinySpace()))
    task = _task(tmp_path / "crash", TinySpace(crash_after=6))  # dies in epoch 2
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(task)
    saved = ckpt.load(task.checkpoint)
    assert saved is not None and saved["epoch"] == 1
    (task.checkpoint.parent / f".{task.checkpoint.name}.x.tmp").write_bytes(b"half a save")
    resumed_space = TinySpace()
    resumed = _run(_task(tmp_path / "crash", resumed_space))
    assert len(resumed_space.built[0].seen) == 8  # only epochs 2 and 3 were trained again
    assert _numbers(resumed.curve) == _numbers(clean.curve)
    assert resumed.test_acc == clean.test_acc and resumed.manifest["sessions"] == 2
    assert not list(task.checkpoint.parent.glob("*.tmp"))  # the killed save's left-over


def test_a_checkpoint_of_another_evaluation_is_refused(tmp_path: Path) -> None:
    _run(_task(tmp_path, TinySpace(), key="one", epochs=1))
    other = _task(tmp_path, TinySpace(), key="two", epochs=1)
    (tmp_path / "one.pt").rename(other.checkpoint)
    with pytest.raises(HarnessError, match="belongs to another evaluation"):
        _run(other)
    other.checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(HarnessError, match="unreadable"):
        _run(other)


# -- the DARTS space through the hook ----------------------------------------------------------


def test_darts_paper_scale_is_the_published_evaluation_network() -> None:
    from harness.evaluate.trainer import build_network, count_params
    from harness.spaces import SPACES

    space = SPACES.get("darts")
    settings = DARTS.resolve("paper", "darts", space.scale_keys, {})
    with torch.device("meta"):
        net = build_network(space, space.parse("DARTS_V2"), 10, settings)
    assert hasattr(net, "auxiliary_head") and hasattr(net, "drop_path_prob")
    assert count_params(net) == pytest.approx(3.3e6, rel=0.02)  # DARTS (2nd order): 3.3 M


def test_darts_cell_trains_with_aux_head_and_drop_path(tmp_path: Path) -> None:
    from harness.evaluate.jobs import make_jobs, run_jobs, target_from_arch

    url = f"sqlite:///{tmp_path / 'h.db'}"
    over = {"epochs": 2, "train_images": 64, "test_images": 32}
    jobs = make_jobs([target_from_arch("DARTS_V2", "darts-cifar10")], None, "smoke", over,
                     tmp_path / "ck")  # fmt: skip
    [outcome] = run_jobs(jobs, url, threads=1, progress=False)
    from harness.store import open_store

    store = open_store(url, create=False)
    [row] = store.cell_evaluations()
    store.close()
    assert outcome["status"] == "done" and row["protocol"] == "darts" and row["run_id"] is None
    assert [r["drop_path"] for r in row["curve"]] == [0.0, 0.1]
    assert [r["lr"] for r in row["curve"]] == pytest.approx([0.0125, 0.0], abs=1e-12)
    assert row["settings"]["C"] == 4 and row["settings"]["layers"] == 3
    assert row["manifest"]["params_total"] > row["params"] > 0  # the aux head is left out
    assert row["manifest"]["table_value"] is None  # no table on an open space


def test_a_checkpoint_in_another_precision_is_refused(tmp_path: Path) -> None:
    _run(_task(tmp_path, TinySpace(), key="p", epochs=1))
    with pytest.raises(HarnessError, match=r"was trained in fp32.*set precision=fp32"):
        _run(_task(tmp_path, TinySpace(), key="p", epochs=1, precision="bf16"))
