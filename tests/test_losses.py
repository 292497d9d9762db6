"""Numeric reference tests: expected values written out by hand from the formulas."""

from __future__ import annotations

import math

import pytest
import torch

from harness.proxies.losses import MemoryBank, nt_xent, pirl_nce


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


def test_pirl_nce_by_hand() -> None:
    t = 0.07
    v = [[1.0, 0.0], [0.6, 0.8]]
    v_t = [[0.8, 0.6], [0.0, -2.0]]
    mem = [[2.0, 0.0], [1.0, 1.0]]
    neg = [[0.0, 1.0], [-1.0, 0.5], [0.3, 0.3]]

    def prob(a: list[float], b: list[float]) -> float:
        pos = math.exp(_cos(a, b) / t)
        return pos / (pos + sum(math.exp(_cos(b, n) / t) for n in neg))

    loss_pair = -sum(math.log(prob(v[i], v_t[i])) for i in range(2)) / 2
    loss_mem = -sum(math.log(prob(v[i], mem[i])) for i in range(2)) / 2
    expected = (loss_pair + loss_mem) / 2
    got = pirl_nce(torch.tensor(v), torch.tensor(v_t), torch.tensor(mem), torch.tensor(neg), t)
    # eps=1e-6 on norms and the denominator moves the value by far less than 1e-4
    assert got.item() == pytest.approx(expected, rel=1e-4)


def test_memory_bank_ema_and_fresh_negatives() -> None:
    gen = torch.Generator().manual_seed(0)
    bank = MemoryBank(size=5, dim=2, gen=gen, ema=0.5)
    before = bank.bank.clone()
    idx = torch.tensor([1, 3])
    v = torch.tensor([[2.0, 4.0], [-2.0, 0.0]], requires_grad=True)
    bank.update(idx, v)
    assert torch.allclose(bank.bank[1], 0.5 * before[1] + 0.5 * torch.tensor([2.0, 4.0]))
    assert torch.allclose(bank.bank[3], 0.5 * before[3] + 0.5 * torch.tensor([-2.0, 0.0]))
    assert torch.equal(bank.bank[[0, 2, 4]], before[[0, 2, 4]])
    assert not bank.bank.requires_grad
    draws = [bank.negatives(3) for _ in range(4)]
    assert all(d.shape == (3, 2) for d in draws)
    assert any(not torch.equal(draws[0], d) for d in draws[1:])  # redrawn each step
    assert bank.negatives(99).shape == (5, 2)  # capped at the bank size
