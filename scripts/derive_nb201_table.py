"""Derive the compact NAS-Bench-201 table shipped in `harness/assets/nb201.npz`.

Source: the offline NB201 / NATS-Bench topology tables (see their README for provenance):
    python scripts/derive_nb201_table.py --src ../shared/data/nb201 --out harness/assets/nb201.npz

What is kept and why:
- `ops` (15625 x 6 uint8, op ids 0 none, 1 skip, 2 conv1x1, 3 conv3x3, 4 avgpool, edges in
  arch-string order) gives the official index <-> string mapping (row i is arch index i).
- `unique_group`: NATS-Bench's isomorphism classes (6,466), to test the package's own key.
- NB201 **v1.1** accuracies only (one release throughout; NATS-Bench tss differs on ~2.4k cells):
  search metrics (x-valid, 12 and 200 epochs) and report metrics (200-epoch test).
- params / FLOPs (computed, correct per arch), NATS cifar10-valid train seconds per epoch (the
  only training times there are; used for simulated cost), and the NASWOT score (proxy studies).
- NATS-Bench tss 200-epoch test accuracies, used only as the optimum (regret) when a user runs
  the lookups through the official `nats_bench` files, so releases are never mixed.
Values are stored as float64 so the numbers equal the source CSV exactly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

FLOAT_COLUMNS = [
    "c10valid_valid_acc_12",
    "c10valid_valid_acc_200",
    "c10valid_test_acc_200",
    "c10_test_acc_12",
    "c10_test_acc_200",
    "c100_valid_acc_12",
    "c100_valid_acc_200",
    "c100_test_acc_12",
    "c100_test_acc_200",
    "img16_valid_acc_12",
    "img16_valid_acc_200",
    "img16_test_acc_12",
    "img16_test_acc_200",
    "params_c10_M",
    "params_c100_M",
    "params_img16_M",
    "flops_c10_M",
    "flops_c100_M",
    "flops_img16_M",
    "nats_c10valid_train_time_per_epoch_s_200",
    # NATS-Bench tss report metrics: only for the optimum when lookups go through `nats_bench`
    "nats_c10_test_acc_200",
    "nats_c100_test_acc_200",
    "nats_img16_test_acc_200",
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def derive(src: Path, out: Path) -> None:
    main_csv = src / "nb201.csv.gz"
    naswot_csv = src / "nb201_zc_naswot.csv.gz"
    df = pd.read_csv(main_csv)
    zc = pd.read_csv(naswot_csv)
    if not (df.arch_index.to_numpy() == np.arange(len(df))).all():
        raise SystemExit("nb201.csv.gz: rows are not in arch_index order")
    if not (zc.arch_index.to_numpy() == df.arch_index.to_numpy()).all():
        raise SystemExit("nb201_zc_naswot.csv.gz: rows do not line up with nb201.csv.gz")
    ops = np.array([[int(t) for t in s.split("-")] for s in df.ops], dtype=np.uint8)
    arrays: dict[str, np.ndarray] = {
        "ops": ops,
        "unique_group": df.unique_group.to_numpy(np.int32),
        "naswot_score_c10": zc.naswot_score_c10.to_numpy(np.float64),
    }
    for col in FLOAT_COLUMNS:
        values = df[col].to_numpy(np.float64)
        if np.isnan(values).any():
            raise SystemExit(f"nb201.csv.gz: column {col} has NaN values")
        arrays[col] = values
    meta = {
        "release": "NAS-Bench-201 v1.1 (NAS-Bench-201-v1_1-096897.pth)",
        "times_release": "NATS-Bench tss v1.0 (cifar10-valid, hp=200 train time per epoch)",
        "source_sha256": {main_csv.name: sha256(main_csv), naswot_csv.name: sha256(naswot_csv)},
        "n_archs": len(df),
    }
    arrays["meta_json"] = np.array(json.dumps(meta, sort_keys=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(df)} archs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("../shared/data/nb201"))
    parser.add_argument("--out", type=Path, default=Path("harness/assets/nb201.npz"))
    args = parser.parse_args()
    derive(args.src, args.out)


if __name__ == "__main__":
    main()
