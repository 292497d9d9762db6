"""The NAS-Bench-201 training setup (Dong & Yang 2020; D-X-Y/AutoDL-Projects), so a user with
a GPU can check table entries on their own hardware.

configs/nas-benchmark/hyper-opts/200E.config: SGD lr 0.1, momentum 0.9, Nesterov, weight decay
5e-4, batch 256, 200 epochs, cosine annealing to 0 with no warm-up, plain cross-entropy. The
network is the NB201 macro skeleton at C=16, N=5. Augmentation (xautodl get_datasets, cutout
-1): horizontal flip + RandomCrop(32, padding=4) + normalise with NB201's own statistics.
The cosine schedule is set per epoch from the integer epoch (xautodl CosineAnnealingLR:
the iteration fraction only matters during warm-up), so epoch e trains at lr(e).

The `cifar10` metric trains on the full 50k training split and tests on the 10k test split,
as here; NB201's CIFAR-100 `x-test` is one half (5k) of the test split, where this tests on
all 10k (a slightly noisier check of the table, never a replacement for it).
"""

from __future__ import annotations

from harness.evaluate.protocols.base import TrainingProtocol


def _per255(*values: float) -> tuple[float, float, float]:
    a, b, c = (v / 255 for v in values)
    return (a, b, c)


_PAPER = {
    "epochs": 200,
    "batch_size": 256,
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "nesterov": True,
    "crop_padding": 4,
    "flip": True,
    "cutout": 0,
    "drop_path": 0.0,
    "aux_weight": 0.0,
    "grad_clip": 0.0,
}

NB201 = TrainingProtocol(
    name="nb201",
    description="NAS-Bench-201 training: 200 epochs, SGD 0.1 Nesterov cosine, batch 256",
    reference="D-X-Y/AutoDL-Projects configs/nas-benchmark/hyper-opts/200E.config",
    native_spaces=("nb201",),
    profiles={
        "paper": _PAPER,
        "quick": {**_PAPER, "epochs": 12},  # NB201's 12-epoch schedule (12E.config)
        "smoke": {
            **_PAPER,
            "epochs": 1,
            "batch_size": 64,
            "train_images": 256,
            "test_images": 128,
            "data": "sample",
        },
    },
    scales={
        "paper": {"C": 16, "N": 5},
        "quick": {"C": 16, "N": 5},
        "smoke": {"C": 4, "N": 1},
    },
    normalization={
        "cifar10": (_per255(125.3, 123.0, 113.9), _per255(63.0, 62.1, 66.7)),
        "cifar100": (_per255(129.3, 124.1, 112.4), _per255(68.2, 65.4, 70.4)),
    },
    lr_epoch_offset=0,
    notes=(
        "data pipeline batched on the device (same transforms, different random streams)",
        "CIFAR-100 tested on the whole test split, not NB201's 5k x-test half",
    ),
)
