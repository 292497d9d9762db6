"""Lookups through the official NATS-Bench files (`nats_bench` API), for users who have them.

Never the API's unseeded default: `is_random=True` picks a training seed with Python's global
`random`. Here a trial is either the mean over the recorded seeds (`trial="mean"`, the API's
`is_random=False`) or one recorded seed chosen by the harness's own seeded generator
(`trial="sample"`), passed to the API as an explicit seed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness import HarnessError
from harness.seeds import derive_seed

TRIAL_MODES = ("mean", "sample")
# benchmark prefix -> (dataset trained for the search metric, dataset for the report metric)
DATASETS = {
    "c10": ("cifar10-valid", "cifar10"),
    "c100": ("cifar100", "cifar100"),
    "img16": ("ImageNet16-120", "ImageNet16-120"),
}


class NatsSource:
    """A thin, seeded wrapper over `nats_bench.create(path, 'tss')`."""

    def __init__(self, api: Any, path: str) -> None:
        self.api = api
        self.path = path

    def _trial(self, index: int, dataset: str, hp: str, trial: str, seed: int) -> bool | int:
        if trial == "mean":
            return False
        seeds = sorted(self.api.query_meta_info_by_index(index, hp=hp).get_dataset_seeds(dataset))
        rng = np.random.default_rng(derive_seed(seed, "nats-trial", index, dataset, hp))
        return int(seeds[int(rng.integers(len(seeds)))])

    def search(
        self, arch: str, prefix: str, epochs: int, trial: str, seed: int
    ) -> tuple[float, float]:
        """(x-valid accuracy, training seconds) after `epochs` for the search dataset."""
        dataset = DATASETS[prefix][0]
        hp = str(epochs)
        index = self.api.query_index_by_arch(arch)
        info = self.api.get_more_info(
            index, dataset, hp=hp, is_random=self._trial(index, dataset, hp, trial, seed)
        )
        return float(info["valid-accuracy"]), float(info["train-all-time"])

    def report(self, arch: str, prefix: str) -> float:
        """200-epoch test accuracy, mean over seeds (ori-test for cifar10, x-test otherwise)."""
        index = self.api.query_index_by_arch(arch)
        info = self.api.get_more_info(index, DATASETS[prefix][1], hp="200", is_random=False)
        return float(info["test-accuracy"])


@lru_cache(maxsize=2)
def nats_source(path: str) -> NatsSource:
    try:
        import nats_bench
    except ImportError:
        raise HarnessError(
            "--nats-path needs the NATS-Bench API: pip install 'csnas-harness[nats]'"
        ) from None
    if not Path(path).exists():
        raise HarnessError(f"NATS-Bench files not found at {path}")
    try:
        api = nats_bench.create(path, "tss", fast_mode=True, verbose=False)
    except Exception as err:  # the API raises bare Exceptions/asserts on bad files
        raise HarnessError(f"cannot open NATS-Bench tss files at {path}: {err}") from None
    return NatsSource(api, path)
