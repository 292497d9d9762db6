"""AZ-NAS's expressivity of NB201 cells (CIFAR-10, their settings, init seed 0), unclipped and
clipped, with the smallest eigenvalue of each feature map's channel covariance over their sum.

    python scripts/az_nas_eigenvalues.py '|skip_connect~0|+|...|'   [more cells]
    MKL_CBWR=AVX2 python scripts/az_nas_eigenvalues.py ...           # another MKL code path

Their `log(p + 1e-8)` is NaN where a ratio is below -1e-8; at a rank-deficient map the sign of
those ratios is rounding, so whether a cell is NaN follows MKL's path (README, "AZ-NAS's NaN
cells depend on the CPU", was measured with this script).
"""

from __future__ import annotations

import sys

import torch

from harness.benchmarks import BENCHMARKS
from harness.proxies import make_proxy
from harness.proxies.training import seeded, seeds
from harness.proxies.zero_cost import az_nas
from harness.proxies.zero_cost.frontier import gaussian_input, kaiming_fanin_init
from harness.spaces import SPACES


def chain(text: str) -> list[torch.Tensor]:
    """The cell's stem and cell outputs as `az_nas.components` computes them (seed 0)."""
    bench = BENCHMARKS.get("nb201-cifar10")
    proxy = make_proxy("az-nas")
    s, cpu = proxy.config, torch.device("cpu")
    init_seed = seeds(0, 2)[0]
    net = proxy.build(SPACES.get(bench.space).parse(text), bench, s, init_seed, cpu)
    input_seed, weight_seed, _ = seeds(init_seed, 3)
    with seeded(weight_seed, cpu):
        kaiming_fanin_init(net)
    x = gaussian_input(s["batch_size"], s["image_size"], input_seed, cpu)
    return az_nas.graph_features(net, x)


def smallest_ratio(feat: torch.Tensor) -> float:
    b, c, h, w = feat.shape
    flat = feat.detach().permute(0, 2, 3, 1).reshape(b * h * w, c)
    flat = flat - flat.mean(dim=0, keepdim=True)
    eig = torch.linalg.eigvalsh(flat.T @ flat / flat.shape[0])
    return float(eig.min() / eig.sum())


def main(cells: list[str]) -> None:
    torch.set_num_threads(1)
    for text in cells:
        feats = chain(text)
        plain = az_nas.expressivity_progressivity(feats)[0]
        clipped = az_nas.expressivity_progressivity(feats, clip=True)[0]
        ratios = " ".join(f"{smallest_ratio(f):+.1e}" for f in feats)
        print(f"{text}\n  expressivity {plain:.6f}, clipped {clipped:.9f}; min ratios {ratios}")


if __name__ == "__main__":
    main(sys.argv[1:])
