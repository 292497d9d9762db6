"""Contrastive losses: SimCLR's NT-Xent and the PIRL memory-bank NCE of the CSNAS code.

`pirl_nce` follows the PIRL PyTorch code the CSNAS authors built on: embeddings and bank
entries are L2-normalised (with eps 1e-6 on the norm), the positive pair's exp(cos/t) is
compared against itself plus a fresh draw of bank negatives, and the loss averages the
view-vs-view and view-vs-memory terms. The bank stores raw (unnormalised) embeddings updated as
`m <- ema * m + (1 - ema) * v`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-6


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """NT-Xent over 2B embeddings: each view's positive is its twin, the other 2B-2 negatives."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / (x.norm(dim=1, keepdim=True) + EPS)


def pair_probs(
    a: torch.Tensor, b: torch.Tensor, negatives: torch.Tensor, temperature: float
) -> torch.Tensor:
    """P(pair) = e^{cos(a,b)/t} / (e^{cos(a,b)/t} + sum_n e^{cos(b,n)/t} + eps), per row."""
    a, b, negatives = _unit(a), _unit(b), _unit(negatives)
    pos = torch.exp((a * b).sum(1) / temperature)
    neg = torch.exp(b @ negatives.t() / temperature).sum(1)
    return pos / (pos + neg + EPS)


def pirl_nce(
    v: torch.Tensor,
    v_t: torch.Tensor,
    memory: torch.Tensor,
    negatives: torch.Tensor,
    temperature: float = 0.07,
) -> torch.Tensor:
    """Mean of -log P(v, v_t) and -log P(v, memory[v]) against the same bank negatives."""
    loss_pair = -torch.log(pair_probs(v, v_t, negatives, temperature)).mean()
    loss_mem = -torch.log(pair_probs(v, memory, negatives, temperature)).mean()
    return (loss_pair + loss_mem) / 2


class MemoryBank:
    """Per-image embeddings (seeded Gaussian init), EMA updates, fresh negatives each step."""

    def __init__(
        self,
        size: int,
        dim: int,
        gen: torch.Generator,
        ema: float = 0.5,
        device: torch.device | str = "cpu",
    ) -> None:
        self.bank = torch.randn(size, dim, generator=gen, device=device)
        self.ema = ema
        self.gen = gen

    def __len__(self) -> int:
        return self.bank.shape[0]

    def negatives(self, count: int) -> torch.Tensor:
        """A fresh random draw (without replacement) of up to `count` bank entries."""
        idx = torch.randperm(len(self), generator=self.gen, device=self.bank.device)
        return self.bank[idx[: min(count, len(self))]]

    def __getitem__(self, idx: torch.Tensor) -> torch.Tensor:
        return self.bank[idx]

    @torch.no_grad()
    def update(self, idx: torch.Tensor, v: torch.Tensor) -> None:
        self.bank[idx] = self.ema * self.bank[idx] + (1 - self.ema) * v.detach()
