"""Make harness/assets/cifar10-sample.npz: a small class-balanced real CIFAR-10 sample.

Selection (seeded, documented in harness/assets/README.md): from the shared lossless subset
(../shared/data/cifar10/cifar10-subset.npz), `numpy.random.default_rng(seed)` picks per class
`train_per_class` train images, then per class `test_per_class` test images, each class's
picks without replacement; each split's picks are sorted by their official index.

    python scripts/make_image_sample.py [SOURCE.npz] [--out PATH] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "cifar10" / "cifar10-subset.npz"
DEFAULT_OUT = ROOT / "harness" / "assets" / "cifar10-sample.npz"


def select(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE))
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-per-class", type=int, default=80)
    ap.add_argument("--test-per-class", type=int, default=25)
    args = ap.parse_args()
    with np.load(args.source, allow_pickle=False) as src:
        data = {k: src[k] for k in src.files}
    rng = np.random.default_rng(args.seed)
    tr = select(data["y_train"], args.train_per_class, rng)
    te = select(data["y_test"], args.test_per_class, rng)
    out = {
        "x_train": data["x_train"][tr],
        "y_train": data["y_train"][tr],
        "x_test": data["x_test"][te],
        "y_test": data["y_test"][te],
        "idx_train": data["idx_train"][tr],
        "idx_test": data["idx_test"][te],
        "class_names": data["class_names"],
    }
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out}: {len(tr)} train + {len(te)} test images")
    for k in ("x_train", "y_train", "x_test", "y_test"):
        print(k, out[k].shape, hashlib.sha256(out[k].tobytes()).hexdigest())


if __name__ == "__main__":
    main()
