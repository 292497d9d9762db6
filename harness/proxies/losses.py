"""Self-supervised losses: SimCLR's NT-Xent, the memory-bank NCE of the CSNAS authors' code,
SimSiam's symmetric negative cosine and the 4-way rotation pretext task.

The CSNAS pieces follow `search/ssl_utils.py` and `search/search.py` of namnguyen0510/CSNAS:

- `memory_nce` is their NoiseContrastiveEstimator: for image i with memory entry m_i and
  embedding v_i, cross-entropy (target 0) over [cos(m_i, v_i), cos(v_i, n_i1), ...,
  cos(v_i, n_ik)] / 0.07, averaged over the batch; cosines as torch.nn.CosineSimilarity
  (each norm clamped at eps 1e-8); negatives n_ij are detached bank entries.
- `csnas_loss` is their training loss: 0.5 NCE(m, fused patches) + 0.5 NCE(m, original).
- `negative_positions` / `negative_indices` reproduce Memory.return_random: per anchor,
  `random.seed(7); random.sample(all bank indices but the anchor's, k)`. The sampled
  positions in that list are the same for every anchor and every step; only the entries at
  or past the anchor's index shift by one. Python's own `random.Random(7)` is used, so the
  draw is theirs exactly.
- `Memory` is their Memory: filled with the untrained network's embeddings, then
  weighted_sum <- v + (1 - w) weighted_sum, memory = weighted_sum / weighted_count, with the
  count 1 + (1 - w) count once at the fill and once at every epoch start. float64, as their
  numpy arrays; read back as float32, as their `torch.Tensor(...)`.

SimSiam (Chen & He, CVPR 2021, Algorithm 1; facebookresearch/simsiam main_simsiam.py):
`simsiam_loss(p1, p2, z1, z2) = 0.5 D(p1, z2) + 0.5 D(p2, z1)` with D(p, z) =
-cos(p, stopgrad(z)) averaged over the batch, cosines as torch.nn.CosineSimilarity(dim=1).

Rotation (Gidaris et al. 2018 as unnas runs it, pycls/datasets/prepare.py `prepare_rot` and
loader.py's collate): each image with its 4 rotations by k x 90 degrees (np.rot90(im, k,
(1, 2)): from the height axis towards the width axis, i.e. counter-clockwise as displayed),
label k, the 4 of one image consecutive; loss = cross-entropy over the 4B images.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import torch
import torch.nn.functional as F

#: torch.nn.CosineSimilarity's default eps (each vector's norm is clamped at it)
COS_EPS = 1e-8
#: the authors' temperature and term weight (loss_weight in search.py)
TEMPERATURE = 0.07
LOSS_WEIGHT = 0.5
#: the seed their Memory re-seeds Python's `random` with before every negatives draw
NEGATIVES_SEED = 7


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """NT-Xent over 2B embeddings: each view's positive is its twin, the other 2B-2 negatives."""
    return F.cross_entropy(nt_xent_logits(z1, z2, temperature), nt_xent_targets(len(z1), z1))


def nt_xent_logits(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """(2B, 2B) cosine logits with the self-similarities masked out."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / temperature
    return sim.fill_diagonal_(float("-inf"))


def nt_xent_targets(n: int, like: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(like.device)


def unit(x: torch.Tensor, eps: float = COS_EPS) -> torch.Tensor:
    """Rows divided by their norm clamped at eps: torch.nn.CosineSimilarity's normalisation."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(eps)


def negative_positions(bank_size: int, count: int, seed: int = NEGATIVES_SEED) -> list[int]:
    """Positions in the anchor-excluded index list that their `return_random` picks.

    `random.sample(allowed, k)` after `random.seed(seed)` chooses positions that depend only
    on the seed, len(allowed) = bank_size - 1 and k, never on the anchor. `count` must be at
    most bank_size - 1 (their code raises ValueError otherwise; callers cap it)."""
    return random.Random(seed).sample(range(bank_size - 1), count)


def negative_indices(positions: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """(B, k) bank indices: allowed[p] for every anchor, where allowed skips the anchor."""
    pos = positions.view(1, -1)
    return pos + (pos >= anchors.view(-1, 1)).to(pos.dtype)


def nce_logits(
    anchors: torch.Tensor,
    v: torch.Tensor,
    bank: torch.Tensor,
    neg_idx: torch.Tensor,
    temperature: float = TEMPERATURE,
) -> torch.Tensor:
    """(B, 1 + k) logits [cos(anchor_i, v_i), cos(v_i, bank[neg_idx[i, j]])] / t.

    The bank's cosines are computed once against all entries and gathered, so no (B, k, d)
    tensor of negatives is built."""
    v_u = unit(v)
    pos = (unit(anchors) * v_u).sum(1, keepdim=True)
    neg = (v_u @ unit(bank.detach()).t()).gather(1, neg_idx)
    return torch.cat([pos, neg], 1) / temperature


def memory_nce(
    anchors: torch.Tensor,
    v: torch.Tensor,
    bank: torch.Tensor,
    neg_idx: torch.Tensor,
    temperature: float = TEMPERATURE,
) -> torch.Tensor:
    """Their NoiseContrastiveEstimator: mean cross-entropy with the positive (index 0) first."""
    logits = nce_logits(anchors, v, bank, neg_idx, temperature)
    return F.cross_entropy(logits, torch.zeros(len(v), dtype=torch.long, device=v.device))


def csnas_loss(
    memory_rows: torch.Tensor,
    z_patches: torch.Tensor,
    z_original: torch.Tensor,
    bank: torch.Tensor,
    neg_idx: torch.Tensor,
    temperature: float = TEMPERATURE,
    weight: float = LOSS_WEIGHT,
) -> torch.Tensor:
    """w NCE(m, fused patches) + (1 - w) NCE(m, original): loss_1 and loss_2 of search.py."""
    loss_1 = memory_nce(memory_rows, z_patches, bank, neg_idx, temperature)
    loss_2 = memory_nce(memory_rows, z_original, bank, neg_idx, temperature)
    return weight * loss_1 + (1 - weight) * loss_2


class Memory:
    """The authors' memory bank (weighted running sums); see the module docstring."""

    def __init__(
        self, size: int, dim: int, weight: float = 0.5, device: torch.device | str = "cpu"
    ) -> None:
        self.weighted_sum = torch.zeros(size, dim, dtype=torch.float64, device=device)
        self.memory = torch.zeros(size, dim, dtype=torch.float64, device=device)
        self.weighted_count = 0.0
        self.weight = weight

    def __len__(self) -> int:
        return self.memory.shape[0]

    @torch.no_grad()
    def initialize(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Memory.initialize: count update, then each (index, embedding) batch stored as is."""
        self.update_weighted_count()
        for idx, values in batches:
            self.weighted_sum[idx] = values.detach().to(torch.float64)
            self.memory[idx] = self.weighted_sum[idx]

    def update_weighted_count(self) -> None:
        """Called once at the fill and at the start of every epoch."""
        self.weighted_count = 1 + (1 - self.weight) * self.weighted_count

    @torch.no_grad()
    def update(self, idx: torch.Tensor, values: torch.Tensor) -> None:
        ws = values.detach().to(torch.float64) + (1 - self.weight) * self.weighted_sum[idx]
        self.weighted_sum[idx] = ws
        self.memory[idx] = ws / self.weighted_count

    def rows(self, idx: torch.Tensor) -> torch.Tensor:
        """Entries as float32 (their `return_representations`)."""
        return self.memory[idx].to(torch.float32)

    def table(self) -> torch.Tensor:
        """All entries as float32: the pool their negatives are read from."""
        return self.memory.to(torch.float32)


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """SimSiam's D(p, z) = -mean_i cos(p_i, z_i) with the gradient stopped at z."""
    return -F.cosine_similarity(p, z.detach(), dim=1).mean()


def simsiam_loss(
    p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor
) -> torch.Tensor:
    """Symmetric SimSiam loss: each view's prediction regresses the other's projection."""
    return 0.5 * negative_cosine(p1, z2) + 0.5 * negative_cosine(p2, z1)


#: rotation pretext classes: k x 90 degrees, k = 0..3 (label k)
ROTATIONS = 4


def rotations(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(4B, C, H, W) images and (4B,) labels: every image of the (B, C, H, W) batch rotated by
    0, 90, 180, 270 degrees, the 4 of one image consecutive, as unnas batches them."""
    rotated = torch.stack([x.rot90(k, (2, 3)) for k in range(ROTATIONS)], 1)
    images = rotated.flatten(0, 1).contiguous(memory_format=torch.channels_last)
    labels = torch.arange(ROTATIONS, device=x.device).repeat(len(x))
    return images, labels


def rotation_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the 4B rotated images (unnas: nn.CrossEntropyLoss)."""
    return F.cross_entropy(logits, labels)
