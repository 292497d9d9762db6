"""RankMe (Garrido et al., ICML 2023): the formula checked by hand, and the readout every
trained proxy records: which embedding it reads, and that computing it draws no random number
(so the training trajectory and every other readout stay as they were)."""

from __future__ import annotations

import math

import pytest
import torch

from harness.benchmarks import BENCHMARKS
from harness.proxies import PROXIES, make_proxy
from harness.proxies import trained as trained_mod
from harness.proxies.trained import RANKME_EPS, rankme
from harness.spaces.nb201 import parse_cell

CELL = parse_cell(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
BENCH = BENCHMARKS.get("nb201-cifar10")
#: every built-in trained proxy (contrastive's two variants), smoke profile
TRAINED = [
    ("contrastive", {}),
    ("contrastive", {"variant": "simclr"}),
    ("supervised", {}),
    ("rotation", {}),
    ("simsiam", {}),
]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _paper_rankme(singular_values: list[float], eps: float = 1e-7) -> float:
    """The paper's eq.: p_k = sigma_k / ||sigma||_1 + eps, RankMe = exp(-sum p_k log p_k)."""
    norm1 = sum(abs(s) for s in singular_values)
    p = [s / norm1 + eps for s in singular_values]
    return math.exp(-sum(pk * math.log(pk) for pk in p))


def _two_column_singular_values(z: list[list[float]]) -> list[float]:
    """Singular values of an (N, 2) matrix from the 2x2 Gram matrix's eigenvalues, in closed
    form (no SVD): sigma = sqrt(eig(Z^T Z))."""
    a = sum(r[0] * r[0] for r in z)
    b = sum(r[0] * r[1] for r in z)
    c = sum(r[1] * r[1] for r in z)
    mid, half = (a + c) / 2, math.sqrt(((a - c) / 2) ** 2 + b * b)
    return [math.sqrt(mid + half), math.sqrt(max(mid - half, 0.0))]


def test_rankme_by_hand_from_the_papers_definition() -> None:
    assert RANKME_EPS == 1e-7  # the paper's epsilon
    z = [[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 1.0]]
    sigma = _two_column_singular_values(z)
    assert rankme(torch.tensor(z)) == pytest.approx(_paper_rankme(sigma), rel=1e-9)
    # a diagonal matrix: its singular values are its diagonal, read off by eye
    diag = [[3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    p = [0.75 + 1e-7, 0.25 + 1e-7, 0.0 + 1e-7]
    expected = math.exp(-sum(x * math.log(x) for x in p))
    assert rankme(torch.tensor(diag)) == pytest.approx(expected, rel=1e-9)
    # the epsilon matters where a singular value is 0: without it the term would be 0
    assert expected != pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))


def test_rankme_bounds_and_uncentred() -> None:
    k = 4
    eye = torch.eye(k).repeat(3, 1)  # 12 rows, 4 orthogonal equal-norm directions
    p = 1 / k + 1e-7
    assert rankme(eye) == pytest.approx(math.exp(-k * p * math.log(p)), rel=1e-9)
    assert rankme(eye) == pytest.approx(k, rel=1e-5)
    rank_one = torch.outer(torch.arange(1.0, 9.0), torch.tensor([1.0, -2.0, 0.5]))
    assert rankme(rank_one) == pytest.approx(1.0, abs=1e-4)
    # uncentred, as the paper defines it: a constant offset is a direction of its own
    shifted = torch.tensor([[1.0, 0.0], [-1.0, 0.0]]) + torch.tensor([0.0, 5.0])
    assert rankme(shifted) > 1.5
    assert rankme(torch.zeros(5, 3)) == 0.0  # rank 0 (p_k is 0/0), the worst


@pytest.mark.parametrize(
    ("name", "kw"), TRAINED, ids=["pirl", "simclr", "supervised", "rotation", "simsiam"]
)
def test_every_trained_proxy_records_rankme_of_the_backbone_features(
    name: str, kw: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict = {}
    real_embeddings = trained_mod.embeddings

    def spy(network, plain, images, batch_size):  # type: ignore[no-untyped-def]
        z = real_embeddings(network, plain, images, batch_size)
        network.eval()
        with torch.no_grad():
            again = network.features(plain(images))  # independently: one pass, all images
        seen.update(network=network, z=z, again=again, n=len(images))
        return z

    def states(ctx):  # type: ignore[no-untyped-def]
        return ctx.train_gen.get_state(), ctx.readout_gen.get_state()

    real_rankme = trained_mod.TrainedProxy._rankme

    def watched(ctx, run):  # type: ignore[no-untyped-def]
        before = states(ctx)
        value = real_rankme(ctx, run)
        after = states(ctx)
        seen["streams_untouched"] = all(torch.equal(a, b) for a, b in zip(before, after))
        return value

    monkeypatch.setattr(trained_mod, "embeddings", spy)
    monkeypatch.setattr(trained_mod.TrainedProxy, "_rankme", staticmethod(watched))
    proxy = make_proxy(name, profile="smoke", **kw)
    assert proxy.readout_directions["rankme"] == "maximize"
    ev = proxy.evaluate(CELL, BENCH, 0)
    assert ev.status == "ok"
    # the space's own network (the backbone), not the proxy's head: NB201's pooled features
    assert type(seen["network"]).__name__ == "NB201Network"
    assert seen["n"] == 32 and seen["z"].shape == (32, seen["network"].feature_dim)
    assert torch.allclose(seen["z"], seen["again"], atol=1e-5)
    assert seen["streams_untouched"]
    assert ev.extra["rankme"] == pytest.approx(rankme(seen["z"]))
    assert 1.0 <= ev.extra["rankme"] <= seen["network"].feature_dim


def test_rankme_leaves_every_other_readout_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the readout computed and with it replaced by a constant: the same evaluation."""
    for name, kw in TRAINED:
        with_it = make_proxy(name, profile="smoke", **kw).evaluate(CELL, BENCH, 3)
        with monkeypatch.context() as m:
            m.setattr(trained_mod.TrainedProxy, "_rankme", staticmethod(lambda ctx, run: -1.0))
            without = make_proxy(name, profile="smoke", **kw).evaluate(CELL, BENCH, 3)
        assert without.extra["rankme"] == -1.0 and with_it.extra["rankme"] > 0
        assert with_it.score == without.score
        skip = {"rankme", "phase_s"}
        assert {k: v for k, v in with_it.extra.items() if k not in skip} == {
            k: v for k, v in without.extra.items() if k not in skip
        }


def test_rankme_can_be_the_score_where_a_proxy_has_a_score_setting() -> None:
    for name, kw in [("contrastive", {}), ("rotation", {}), ("simsiam", {})]:
        proxy = make_proxy(name, profile="smoke", score="rankme", **kw)
        assert proxy.direction == "maximize"
        ev = proxy.evaluate(CELL, BENCH, 0)
        assert ev.direction == "maximize" and ev.score == ev.extra["rankme"]
    assert set(PROXIES.tagged("trained")) >= {"contrastive", "supervised", "rotation", "simsiam"}
