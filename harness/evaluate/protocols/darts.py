"""The DARTS evaluation protocol (Liu et al. 2019, quark0/darts cnn/train.py + utils.py).

train.py's defaults with `--auxiliary --cutout`, as the paper's CIFAR-10 figures were run:
SGD lr 0.025, momentum 0.9, weight decay 3e-4, batch 96, 600 epochs, cosine annealing to 0,
C=36 and 20 cells, auxiliary head weight 0.4, drop-path rising linearly to 0.2, gradient norm
clipped at 5; RandomCrop(32, padding=4) + horizontal flip + normalise + Cutout(16); the full
50k training split, tested on the 10k test split after every epoch; the figure is the last
epoch's test accuracy.

The schedule follows train.py as written: `scheduler.step()` is called at the start of each
epoch, so epoch e (0-based) trains at lr(e + 1) and the last epoch at 0 (`lr_epoch_offset=1`).
Drop-path in epoch e is 0.2 * e / 600 (`model.drop_path_prob = args.drop_path_prob * epoch /
args.epochs`). CIFAR-100 is not in train.py: it uses the usual CIFAR-100 statistics here.
"""

from __future__ import annotations

from harness.data.cifar import CIFAR100_MEAN, CIFAR100_STD
from harness.evaluate.protocols.base import TrainingProtocol

#: cnn/utils.py `_data_transforms_cifar10`
DARTS_CIFAR10_MEAN = (0.49139968, 0.48215827, 0.44653124)
DARTS_CIFAR10_STD = (0.24703233, 0.24348505, 0.26158768)

_PAPER = {
    "epochs": 600,
    "batch_size": 96,
    "lr": 0.025,
    "momentum": 0.9,
    "weight_decay": 3e-4,
    "nesterov": False,
    "crop_padding": 4,
    "flip": True,
    "cutout": 16,
    "drop_path": 0.2,
    "aux_weight": 0.4,
    "grad_clip": 5.0,
}

DARTS = TrainingProtocol(
    name="darts",
    description="DARTS CIFAR evaluation: 600 epochs, C=36, 20 cells, cutout, drop-path, aux",
    reference="quark0/darts cnn/train.py (--auxiliary --cutout), cnn/utils.py",
    native_spaces=("darts", "darts-edge"),
    profiles={
        "paper": _PAPER,
        "quick": {**_PAPER, "epochs": 20},
        "smoke": {
            **_PAPER,
            "epochs": 1,
            "batch_size": 32,
            "train_images": 256,
            "test_images": 128,
            "data": "sample",
        },
    },
    scales={
        "paper": {"C": 36, "layers": 20},
        "quick": {"C": 16, "layers": 8},
        "smoke": {"C": 4, "layers": 3},
    },
    normalization={
        "cifar10": (DARTS_CIFAR10_MEAN, DARTS_CIFAR10_STD),
        "cifar100": (CIFAR100_MEAN, CIFAR100_STD),
    },
    lr_epoch_offset=1,
    notes=(
        "data pipeline batched on the device (same transforms, different random streams)",
        "CIFAR-100 statistics are not DARTS's (train.py has no CIFAR-100)",
    ),
)
