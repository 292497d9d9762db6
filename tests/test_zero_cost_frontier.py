"""Reference tests for AZ-NAS, MeCo, VKDNW and ZiCo: each formula recomputed by hand (numpy,
explicit loops, explicit Jacobians) on a tiny network built here, against the proxy's code."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from harness.benchmarks import BENCHMARKS
from harness.proxies import PROXIES, make_proxy
from harness.proxies.zero_cost import ZERO_COST, az_nas, meco, vkdnw, zico
from harness.spaces import SPACES

NEW = ("az-nas", "meco", "vkdnw", "zico")


class Tiny(nn.Module):
    """stem -> two cells (the second halves the resolution) -> pool -> linear."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4))
        self.cells = nn.Sequential(
            nn.Sequential(nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)),
            nn.Sequential(nn.ReLU(), nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8)),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.cells(self.stem(x))).flatten(1))


def tiny(seed: int = 0, classes: int = 3) -> Tiny:
    torch.manual_seed(seed)
    return Tiny(classes)


def images(n: int, seed: int = 1, size: int = 6) -> torch.Tensor:
    return torch.randn((n, 3, size, size), generator=torch.Generator().manual_seed(seed))


# -- AZ-NAS ---------------------------------------------------------------------------------
def entropy_by_hand(feat: torch.Tensor) -> float:
    f = feat.detach().double().numpy().transpose(0, 2, 3, 1).reshape(-1, feat.shape[1])
    f = f - f.mean(axis=0, keepdims=True)
    s = np.linalg.eigvalsh(f.T @ f / len(f))
    p = s / s.sum()
    return float(np.sum(-p * np.log(p + 1e-8)))


def test_expressivity_and_progressivity_by_hand() -> None:
    net = tiny().train()
    feats = az_nas.graph_features(net, images(4))
    by_hand = [entropy_by_hand(f) for f in feats]
    assert [az_nas.spectral_entropy(f) for f in feats] == pytest.approx(by_hand, rel=1e-4)
    expressivity, progressivity = az_nas.expressivity_progressivity(feats)
    assert expressivity == pytest.approx(sum(by_hand), rel=1e-4)
    assert progressivity == pytest.approx(min(np.diff(by_hand)), abs=1e-4)


def unshuffle_by_hand(g: np.ndarray, s: int) -> np.ndarray:
    b, c, h, w = g.shape
    out = np.zeros((b, c * s * s, h // s, w // s))
    for ch in range(c):
        for i in range(s):
            for j in range(s):
                out[:, ch * s * s + i * s + j] = g[:, ch, i::s, j::s]
    return out


def pair_by_hand(cell: nn.Module, f_in: torch.Tensor, seed: int) -> float:
    """g_in = J^T g_out with J the explicit Jacobian of the cell; M, sigma as published."""
    f_out = cell(f_in)
    g_out = (
        torch.bernoulli(torch.full_like(f_out, 0.5), generator=torch.Generator().manual_seed(seed))
        - 0.5
    ) * 2
    jac = torch.autograd.functional.jacobian(cell, f_in).reshape(f_out.numel(), f_in.numel())
    g_in = (jac.T @ g_out.reshape(-1)).reshape(f_in.shape).double().numpy()
    g_o = g_out.double().numpy()
    if g_in.shape[2:] != g_o.shape[2:]:
        g_in = unshuffle_by_hand(g_in, g_in.shape[2] // g_o.shape[2])
    a = g_in.transpose(0, 2, 3, 1).reshape(-1, g_in.shape[1])
    o = g_o.transpose(0, 2, 3, 1).reshape(-1, g_o.shape[1])
    sigma = np.linalg.svd(a.T @ o / len(o), compute_uv=False).max()
    return float(-sigma - 1 / (sigma + 1e-6) + 2)


@pytest.mark.parametrize("index", [0, 1])  # same resolution; halved (pixel unshuffle)
def test_pair_trainability_by_hand(index: int) -> None:
    net = tiny().train()
    cell = net.cells[index]
    f_in = torch.randn((2, 4, 6, 6), generator=torch.Generator().manual_seed(3), requires_grad=True)
    got = az_nas.pair_trainability(f_in, cell(f_in), torch.Generator().manual_seed(9))
    assert got == pytest.approx(pair_by_hand(cell, f_in, 9), rel=1e-4)


def test_identity_cell_scores_minus_infinity() -> None:
    f_in = torch.randn((2, 4, 4, 4), requires_grad=True)
    assert az_nas.pair_trainability(f_in, f_in * 1.0, torch.Generator().manual_seed(0)) == -math.inf


def test_constant_cell_is_reentered_with_zero_gradient() -> None:
    """A cell whose output does not depend on its input: g_in is zero, sigma 0."""
    f_in = torch.randn((2, 4, 4, 4), requires_grad=True)
    leaf = torch.zeros((2, 4, 4, 4)).requires_grad_(True)
    value = az_nas.pair_trainability(f_in, leaf, torch.Generator().manual_seed(0))
    assert value == pytest.approx(-1 / 1e-6 + 2)


def darts_chain(seed: int = 0) -> tuple[nn.Module, list[torch.Tensor]]:
    """A 3-cell DARTS network (the middle cell reduces) and its chain on Gaussian images."""
    space = SPACES.get("darts")
    genotype = space.sample_unique(1, np.random.default_rng(seed))[0]
    torch.manual_seed(seed)
    net = space.network(genotype, 3, C=2, layers=3).train()
    return net, net.cell_outputs(images(2, size=8))


def test_darts_chain_is_the_networks_own_forward() -> None:
    net, feats = darts_chain()
    assert len(feats) == 1 + len(net.cells)
    pooled = feats[-1].mean(dim=(2, 3))
    assert torch.allclose(pooled, net.features(images(2, size=8)), atol=1e-6)
    assert torch.allclose(az_nas.graph_features(net, images(2, size=8))[-1], feats[-1])


@pytest.mark.parametrize("index", [1, 2, 3])  # the stem read twice; a reduction; after one
def test_darts_pair_is_the_cells_jacobian_in_its_nearest_input(index: int) -> None:
    """The pair (F_{i-1}, F_i) of the chain: the Jacobian of cell i in its s1 input, its s0
    input (F_{i-2}) held fixed; for the first cell both inputs are the stem."""
    net, feats = darts_chain()
    cell = net.cells[index - 1]
    if index == 1:

        def alone(f: torch.Tensor) -> torch.Tensor:
            return cell(f, f, 0.0)
    else:
        s0 = feats[index - 2].detach()

        def alone(f: torch.Tensor) -> torch.Tensor:
            return cell(s0, f, 0.0)

    f_in = feats[index - 1].detach().requires_grad_(True)
    got = az_nas.pair_trainability(feats[index - 1], feats[index], torch.Generator().manual_seed(5))
    assert got == pytest.approx(pair_by_hand(alone, f_in, 5), rel=1e-4)


def test_clipped_eigenvalues_by_hand() -> None:
    """A map whose channels repeat (rank 3 of 6): clipping equals the entropy of the float64
    eigenvalues with the negative ones zeroed, and changes nothing on a full-rank map."""
    base = images(4, seed=2, size=5)
    feat = torch.cat([base, base], dim=1)
    f = feat.double().numpy().transpose(0, 2, 3, 1).reshape(-1, 6)
    f = f - f.mean(axis=0, keepdims=True)
    s = np.clip(np.linalg.eigvalsh(f.T @ f / len(f)), 0.0, None)
    p = s / s.sum()
    by_hand = float(np.sum(-p * np.log(p + 1e-8)))
    assert az_nas.spectral_entropy(feat, clip=True) == pytest.approx(by_hand, rel=1e-4)
    assert az_nas.spectral_entropy(base, clip=True) == az_nas.spectral_entropy(base)


def test_darts_cell_scores_finite_components_with_clipping() -> None:
    bench = BENCHMARKS.get("darts-cifar10")
    genotype = SPACES.get("darts").sample_unique(1, np.random.default_rng(1))[0]
    proxy = make_proxy(
        "az-nas", scale={"C": 4, "layers": 3}, batch_size=8, reference=2, clip_eigenvalues=True
    )
    result = proxy.evaluate(genotype, bench, 0)
    assert result.status == "ok" and math.isfinite(result.score)
    assert all(math.isfinite(result.extra[c]) for c in az_nas.COMPONENTS)


def test_clip_setting_is_checked() -> None:
    from harness import HarnessError

    with pytest.raises(HarnessError, match=r"clip_eigenvalues=1 .* true or false"):
        make_proxy("az-nas", clip_eigenvalues=1)
    with pytest.raises(HarnessError, match=r"known: .*clip_eigenvalues"):
        make_proxy("az-nas", clip=True)


def test_log_rank_aggregation_by_hand() -> None:
    values = {"a": np.array([1.0, 3.0, 2.0, 2.0]), "b": np.array([0.5, 0.1, 0.9, 0.2])}
    # ranks a: 1, 4, 2.5, 2.5; b: 3, 1, 4, 2 (n = 4)
    by_hand = [math.log(1 / 4) + math.log(3 / 4), math.log(4 / 4) + math.log(1 / 4),
               math.log(2.5 / 4) + math.log(4 / 4), math.log(2.5 / 4) + math.log(2 / 4)]  # fmt: skip
    assert az_nas.population_log_rank(values) == pytest.approx(by_hand)
    reference = [{"a": a, "b": b} for a, b in zip(values["a"][:3], values["b"][:3])]
    cell = {"a": 2.0, "b": 0.2}
    assert az_nas.reference_log_rank(cell, reference) == pytest.approx(by_hand[3])


# -- MeCo -----------------------------------------------------------------------------------
def min_eig_by_hand(out: torch.Tensor) -> float:
    rows = out[0].detach().double().numpy().reshape(out.shape[1], -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(rows)
    corr = np.where(np.isfinite(corr), corr, 0.0)
    return float(np.linalg.eigvalsh(np.atleast_2d(corr)).min())


def test_meco_by_hand() -> None:
    net = tiny().train()
    x = images(1)
    with torch.no_grad():
        outs = []
        h = x
        for m in net.stem:
            h = m(h)
            outs.append(h)
        outs.append(h)  # the stem Sequential itself
        for cell in net.cells:
            assert isinstance(cell, nn.Sequential)
            for m in cell:
                h = m(h)
                outs.append(h)
            outs.append(h)  # each cell
        outs.append(h)  # the cells Sequential
        pooled = net.pool(h)
        logits = net.classifier(pooled.flatten(1))
        outs += [pooled, logits, logits]  # pool, classifier, the network
    by_hand = sum(min_eig_by_hand(o) for o in outs)
    values = meco.module_eigenvalues(net, x)
    assert len(values) == len(outs)
    assert meco.meco_score(values) == pytest.approx(by_hand, rel=1e-6)


# -- ZiCo -----------------------------------------------------------------------------------
def zico_by_hand(net: nn.Module, xs: list[torch.Tensor], ys: list[torch.Tensor]) -> float:
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    grads = []
    for x, y in zip(xs, ys):
        loss = nn.functional.cross_entropy(net(x), y)
        grads.append(
            [g.numpy().reshape(-1) for g in torch.autograd.grad(loss, [m.weight for m in layers])]
        )
    total = 0.0
    for i in range(len(layers)):
        g = np.array([grads[b][i] for b in range(len(xs))], dtype=np.float64)
        std, mean_abs = g.std(axis=0), np.abs(g).mean(axis=0)
        s = np.sum(mean_abs[std != 0] / std[std != 0])
        total += math.log(s) if s != 0 else 0.0
    return total


def test_zico_by_hand() -> None:
    net = tiny().train()
    xs, ys = [images(4, 1), images(4, 2)], [torch.tensor([0, 1, 2, 0]), torch.tensor([2, 2, 1, 0])]
    got = zico.zico_score(zico.batch_gradients(net, xs, ys))
    assert got == pytest.approx(zico_by_hand(net, xs, ys), rel=1e-5)


def test_zico_identical_batches_add_nothing() -> None:
    net = tiny().train()
    x, y = images(4), torch.tensor([0, 1, 2, 0])
    assert zico.zico_score(zico.batch_gradients(net, [x, x], [y, y])) == 0.0


# -- VKDNW ----------------------------------------------------------------------------------
def jacobian_by_hand(net: nn.Module, x: torch.Tensor, tensors: int) -> torch.Tensor:
    """J[b, k, j]: d logit_k(x_b) / d (element 0 of parameter tensor j), one image at a time."""
    params = [p for _, p in list(net.named_parameters())[:tensors]]
    rows = []
    for b in range(len(x)):
        out = net(x[b : b + 1])[0]
        rows.append([[float(g.flatten()[0]) for g in torch.autograd.grad(out[k], params, retain_graph=True)]
                     for k in range(len(out))])  # fmt: skip
    return torch.tensor(rows, dtype=torch.float32)


def test_vkdnw_jacobian_by_hand() -> None:
    net = tiny().eval()
    x = images(3)
    chosen = vkdnw.selected_indices(net, 1, 5)
    got = vkdnw.logit_jacobian(net, x, chosen)
    assert torch.allclose(got, jacobian_by_hand(net, x, 5), atol=1e-5)


def test_vkdnw_batched_jacobian_equals_the_functional_one() -> None:
    """The one-backward-per-class path equals torch.func's per-image jacrev on an NB201
    network (every chosen weight: conv, BN weight/bias, linear) and on the tiny net."""
    cell = SPACES.get("nb201").parse(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
    )
    torch.manual_seed(0)
    for net in (SPACES.get("nb201").network(cell, 10, C=4, N=1).eval(), tiny().eval()):
        x = images(5, size=8)
        chosen = vkdnw.selected_indices(net, 2, 200)
        fast = vkdnw.logit_jacobian_batched(net, x, chosen)
        assert fast is not None
        assert torch.allclose(fast, vkdnw.logit_jacobian(net, x, chosen), rtol=1e-4, atol=1e-5)


def test_vkdnw_jacobian_through_a_narrow_head_equals_the_functional_one() -> None:
    """More classes than head inputs (NB201 C=4 has 16 features; 20 and 120 classes): the
    passes run per feature and go through the head's weight; every chosen weight, the head's
    own weight and bias elements included, equals torch.func's per-image jacrev."""
    cell = SPACES.get("nb201").parse(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
    )
    for classes in (20, 120):
        torch.manual_seed(0)
        net = SPACES.get("nb201").network(cell, classes, C=4, N=1).eval()
        x = images(5, size=8)
        chosen = vkdnw.selected_indices(net, 3, 200)
        assert "classifier.weight" in chosen and "classifier.bias" in chosen
        owners = {k: vkdnw._owner(net, k) for k in chosen}
        deltas = {k: torch.zeros((len(x), len(i)), requires_grad=True) for k, i in chosen.items()}
        logits, head = vkdnw._offset_forward(net, x, chosen, owners, deltas)
        assert head is not None and head[0] is net.classifier
        assert head[0].in_features < logits.shape[1]  # the head route is the one taken
        fast = vkdnw.logit_jacobian_batched(net, x, chosen)
        assert fast is not None
        slow = vkdnw.logit_jacobian(net, x, chosen)
        assert torch.allclose(fast, slow, rtol=1e-4, atol=1e-5)
        assert bool((slow[:, :, -6:] != 0).any())  # the head's own elements were compared


def test_vkdnw_batched_jacobian_covers_grouped_convolutions() -> None:
    """DARTS's separable and dilated convolutions (depthwise, groups = channels; and a
    grouped one, 2 groups): the batched path equals per-image jacrev."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4, bias=False),  # depthwise
        nn.Conv2d(4, 4, 1, bias=False),  # pointwise
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
        nn.BatchNorm2d(6),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 3),
    ).eval()
    with torch.no_grad():  # BN running statistics away from (0, 1), so they matter
        for bn in (net[1], net[6]):
            assert isinstance(bn, nn.BatchNorm2d)
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    x = images(4, size=8)
    chosen = vkdnw.selected_indices(net, 5, 200)
    fast = vkdnw.logit_jacobian_batched(net, x, chosen)
    assert fast is not None
    assert torch.allclose(fast, vkdnw.logit_jacobian(net, x, chosen), rtol=1e-4, atol=1e-5)


def test_vkdnw_weights_cut_off_from_the_output_have_zero_derivative() -> None:
    """A cell with no path into its output node: the weights before it do not reach the
    logits; both Jacobian paths give them 0."""
    cell = SPACES.get("nb201").parse(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|nor_conv_3x3~2|"
    )
    torch.manual_seed(0)
    net = SPACES.get("nb201").network(cell, 10, C=4, N=1).eval()
    x = images(3, size=8)
    chosen = vkdnw.selected_indices(net, 1, 200)
    fast = vkdnw.logit_jacobian_batched(net, x, chosen)
    assert fast is not None
    assert torch.allclose(fast, vkdnw.logit_jacobian(net, x, chosen), atol=1e-6)
    assert bool((fast == 0).all(dim=(0, 1)).any())


def test_covariance_factor_reproduces_the_smoothed_softmax_covariance() -> None:
    logits = torch.randn((4, 5), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    factor = vkdnw.covariance_factor(logits)
    prob = torch.softmax(logits, 1) * 0.95 + 0.05 / 5
    cov = torch.diag_embed(prob) - prob.unsqueeze(2) @ prob.unsqueeze(1)
    assert torch.allclose(factor @ factor.transpose(1, 2), cov, atol=1e-10)
    assert torch.all(torch.triu(factor, diagonal=1) == 0)


def test_vkdnw_fisher_and_entropy_by_hand() -> None:
    net = tiny().eval()
    x = images(3)
    jac = jacobian_by_hand(net, x, 6).double()
    with torch.no_grad():
        factor = vkdnw.covariance_factor(net(x)).double()
    lj = factor @ jac
    by_hand = torch.stack([lj[b].T @ lj[b] for b in range(len(x))]).mean(dim=0)
    got = vkdnw.fisher(net, x, 1, 6)
    assert torch.allclose(got.double(), by_hand, atol=1e-5)
    lam = np.linalg.svd(by_hand.numpy(), compute_uv=False)
    q = np.quantile(lam, np.arange(1, 10) / 10)
    t = q / (np.abs(q).sum() + 1e-10)
    entropy = float(-(t * np.log(t + 1e-10)).sum())
    assert vkdnw.spectrum_entropy(torch.linalg.svdvals(got)) == pytest.approx(entropy, rel=1e-4)


# -- the registered proxies -----------------------------------------------------------------
def test_registered_with_labels_counted() -> None:
    assert set(NEW) <= set(ZERO_COST) and set(NEW) <= set(PROXIES.names())
    assert make_proxy("zico").needs == "labels"  # type: ignore[attr-defined]
    assert all(make_proxy(n).needs != "labels" for n in NEW if n != "zico")  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", NEW)
def test_reduced_scale_evaluation_is_seeded(name: str) -> None:
    bench = BENCHMARKS.get("nb201-cifar10")
    cell = SPACES.get("nb201").parse(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
    )
    extra = {"reference": 3} if name == "az-nas" else {}
    proxy = make_proxy(name, scale={"C": 4, "N": 1}, batch_size=8, **extra)
    first, again = proxy.evaluate(cell, bench, 0), proxy.evaluate(cell, bench, 0)
    assert first.status == "ok" and first.score == again.score
    assert first.labels_used == (16 if name == "zico" else 0)
