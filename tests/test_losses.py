"""Numeric reference tests: expected values computed here from the formulas of the CSNAS
authors' code (ssl_utils.py NoiseContrastiveEstimator / Memory, search.py), with plain Python
loops and Python's `random`, independent of the implementation under test."""

from __future__ import annotations

import copy
import math
import random

import pytest
import torch

from harness.benchmarks import BENCHMARKS
from harness.data.augment import csnas_views
from harness.proxies import make_proxy
from harness.proxies.contrastive import PirlRun, mean_pairwise_cosine
from harness.proxies.losses import (
    Memory,
    csnas_loss,
    memory_nce,
    negative_indices,
    negative_positions,
    nt_xent,
)
from harness.proxies.trained import Context
from harness.proxies.training import batches, images_for, make_split
from harness.spaces import SPACES
from harness.spaces.nb201 import parse_cell


def _cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.hypot(*a) * math.hypot(*b))


def test_nt_xent_two_pairs_by_hand() -> None:
    # views: z1 = [a0, a1], z2 = [b0, b1]; rows in order a0, a1, b0, b1
    a0, a1, b0, b1 = [1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [-1.0, 1.0]
    t = 0.5
    vecs = [a0, a1, b0, b1]
    twin = {0: 2, 1: 3, 2: 0, 3: 1}
    total = 0.0
    for i in range(4):
        logits = {j: _cos(vecs[i], vecs[j]) / t for j in range(4) if j != i}
        denom = sum(math.exp(v) for v in logits.values())
        total += -(logits[twin[i]] - math.log(denom))
    expected = total / 4
    got = nt_xent(torch.tensor([a0, a1]), torch.tensor([b0, b1]), temperature=t)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_nt_xent_perfect_pairs_are_better_than_swapped() -> None:
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    good = nt_xent(z, z, temperature=0.1).item()
    bad = nt_xent(z, z.flip(0), temperature=0.1).item()
    # identical twins, orthogonal others: loss = -log(e^10 / (e^10 + 2 e^0))
    assert good == pytest.approx(-math.log(math.exp(10) / (math.exp(10) + 2)), rel=1e-6)
    assert bad > good


def _their_negatives(bank_size: int, anchor: int, k: int) -> list[int]:
    """Memory.return_random as written: re-seed, list all indices but the anchor, sample."""
    random.seed(7)
    allowed = list(range(anchor)) + list(range(anchor + 1, bank_size))
    return random.sample(allowed, k)


def test_negatives_draw_is_theirs() -> None:
    state = random.getstate()
    try:
        n, k = 600, 2 * (256 - 1)
        anchors = torch.tensor([0, 5, 299, 599])
        pos = torch.tensor(negative_positions(n, k))
        got = negative_indices(pos, anchors)
        assert got.shape == (4, 510)
        for row, a in zip(got.tolist(), anchors.tolist()):
            assert row == _their_negatives(n, a, k)  # exactly their draw, element by element
            assert a not in row and len(set(row)) == k
        again = negative_indices(torch.tensor(negative_positions(n, k)), anchors)
        assert torch.equal(got, again)  # the same set on every call
        # the same positions for every anchor, shifted by one past the anchor: neighbouring
        # anchors share all but at most one entry, distant ones differ in between
        near = negative_indices(pos, torch.tensor([5, 6]))
        assert len(set(near[0].tolist()) ^ set(near[1].tolist())) <= 2
        assert torch.equal(got[0], pos + 1) and torch.equal(got[3], pos)
    finally:
        random.setstate(state)


def _their_nce(mem: list, v: list, bank: list, index: list[int], k: int, t: float) -> float:
    """NoiseContrastiveEstimator.__call__ with plain loops."""
    total = 0.0
    for i in range(len(v)):
        negs = [bank[j] for j in _their_negatives(len(bank), index[i], k)]
        logits = [_cos(mem[i], v[i]) / t] + [_cos(v[i], n) / t for n in negs]
        total += -(logits[0] - math.log(sum(math.exp(x) for x in logits)))
    return total / len(v)


def test_csnas_loss_by_hand() -> None:
    state = random.getstate()
    try:
        t, k = 0.07, 3
        bank = [[1.0, 0.0], [0.6, 0.8], [-1.0, 0.5], [0.3, 0.3], [0.0, -2.0], [2.0, 1.0]]
        index = [4, 1]
        mem = [bank[i] for i in index]
        patches = [[0.8, 0.6], [0.0, -2.0]]
        original = [[1.0, 1.0], [-0.5, 0.2]]
        loss_1 = _their_nce(mem, patches, bank, index, k, t)
        loss_2 = _their_nce(mem, original, bank, index, k, t)
        expected = 0.5 * loss_1 + 0.5 * loss_2
        idx = torch.tensor(index)
        neg = negative_indices(torch.tensor(negative_positions(len(bank), k)), idx)
        b = torch.tensor(bank)
        got = csnas_loss(b[idx], torch.tensor(patches), torch.tensor(original), b, neg, t)
        assert got.item() == pytest.approx(expected, rel=1e-5)
        one = memory_nce(b[idx], torch.tensor(patches), b, neg, t)
        assert one.item() == pytest.approx(loss_1, rel=1e-5)
    finally:
        random.setstate(state)


def test_memory_weighted_running_sum_by_hand() -> None:
    mem = Memory(size=3, dim=2, weight=0.5)
    first = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    mem.initialize([(torch.tensor([2, 0]), first[[2, 0]]), (torch.tensor([1]), first[[1]])])
    assert mem.weighted_count == 1.0  # 1 + 0.5 * 0
    assert torch.equal(mem.memory, first.double())
    mem.update_weighted_count()  # epoch 1 starts: 1 + 0.5 * 1
    assert mem.weighted_count == 1.5
    v = torch.tensor([[10.0, 0.0]], requires_grad=True)
    mem.update(torch.tensor([1]), v)
    ws = [10.0 + 0.5 * 3.0, 0.0 + 0.5 * 4.0]  # v + (1 - w) weighted_sum
    assert mem.weighted_sum[1].tolist() == ws
    assert mem.memory[1].tolist() == pytest.approx([ws[0] / 1.5, ws[1] / 1.5])
    assert torch.equal(mem.memory[[0, 2]], first[[0, 2]].double())  # others untouched
    mem.update_weighted_count()  # epoch 2: 1 + 0.5 * 1.5
    assert mem.weighted_count == 1.75
    mem.update(torch.tensor([1]), torch.tensor([[0.0, 1.0]]))
    ws2 = [0.0 + 0.5 * ws[0], 1.0 + 0.5 * ws[1]]
    assert mem.memory[1].tolist() == pytest.approx([ws2[0] / 1.75, ws2[1] / 1.75])
    assert mem.rows(torch.tensor([1])).dtype == torch.float32
    assert not mem.memory.requires_grad


def test_mean_pairwise_cosine_by_hand() -> None:
    z = [[1.0, 0.0], [0.0, 3.0], [1.0, 1.0]]
    pairs = [_cos(z[i], z[j]) for i in range(3) for j in range(3) if i != j]
    assert mean_pairwise_cosine(torch.tensor(z)) == pytest.approx(sum(pairs) / len(pairs))


def test_bank_starts_as_the_untrained_networks_embeddings() -> None:
    torch.set_num_threads(1)
    proxy = make_proxy("contrastive", profile="smoke")
    s = proxy.settings()
    device = torch.device("cpu")
    split = make_split(images_for("sample"), 64, 32, 0, device, labels=False)
    cell = parse_cell(
        "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|none~1|nor_conv_1x1~2|"
    )
    bench = BENCHMARKS.get("nb201-cifar10")
    space = SPACES.get(bench.space)
    torch.manual_seed(0)
    model = proxy.model(space.network(cell, 10, **space.proxy_scale("smoke")))
    before = copy.deepcopy(model)
    ctx = Context(model, split, s, device, torch.Generator().manual_seed(5), torch.Generator())
    run = PirlRun(ctx)
    model.train()
    run.setup()
    assert run.memory.weighted_count == 1.0 and run.k == 2 * (32 - 1)
    # replay: same stream, train mode, original views only, batch by batch
    gen = torch.Generator().manual_seed(5)
    expected = torch.zeros(64, s["proj_dim"])
    before.train()
    with torch.no_grad():
        for idx in batches(64, 32, gen):
            expected[idx] = before(csnas_views(split.train_x[idx], s["image_size"], gen)[0])
    assert torch.allclose(run.memory.memory.float(), expected, atol=1e-5)
    assert torch.equal(run.memory.weighted_sum, run.memory.memory)
