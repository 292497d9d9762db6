"""VKDNW (Tybl & Neumann, CVPR 2025, "Training-free Neural Architecture Search through Variance
of Knowledge of Deep Network Weights"; code github.com/ondratybl/VKDNW
`NB201/ZeroShotProxy/compute_vkdnw_score.py`): the entropy of the spectrum of an empirical
Fisher information matrix of a subset of the weights.

- Weights: `per_tensor` (their p) evenly spaced elements (`torch.linspace(0, numel - 1, p)`)
  of each of the first `grad_params` (128) parameter tensors in `named_parameters` order.
- J (per image, classes x weights): the Jacobian of the logits with respect to those weights,
  the network in eval mode (BN with its initial running statistics).
- L (per image): their factor of the smoothed softmax covariance, prob = softmax (1 - 0.05) +
  0.05 / K, q_k = 1 - sum_{j<=k} prob_j (q_K = 0), d_k = sqrt(prob_k q_k / q_{k-1}) (q_0 = 1),
  L = (I + strictly-lower part of -prob_i / q_j) diag(d), so that L L^T = diag(prob) -
  prob prob^T; the Fisher is mean over images of (L J)^T (L J) (their `get_fisher` with
  `use_logits=False`).
- lambda = the singular values of the Fisher; with Q = its deciles 0.1, ..., 0.9
  (`torch.quantile`, linear) and t = Q / (||Q||_1 + 1e-10), the score `vkdnw_entropy` =
  -sum t log(t + 1e-10). `vkdnw_dim`, the number of parameter tensors (their aleph, 'number of
  trainable layers'), is recorded beside it.

Settings: Kaiming-normal fan-in init and a Gaussian input batch (their `trainloader=None`
path) as AZ-NAS, whose NB201 code theirs modifies; batch 64 and p = 1 are the harness's
reading, because the notebook that sets them for NB201 is not in the stored repository and
their function's default p = 0 would select no weight at all (their ImageNet version takes
exactly one element, the first, of each tensor, which p = 1 reproduces). If the SVD fails
their code scores zeros; here the evaluation fails. Higher is better. Data-free, no labels.

Speed: the Jacobian is taken with one backward pass of the batch per class
(`logit_jacobian_batched`: every chosen weight gets a per-image zero offset, added by a forward
hook as that weight's own term, whose gradient is the image's derivative; eval mode keeps the
images independent); where the logits come from a linear head with fewer inputs than classes,
one pass per head input instead, times the head's weight (NB201 on CIFAR-100: 64 passes, not
100). Convolutions of any grouping (DARTS's depthwise separable and dilated ones) are
covered. Both equal torch.func's per-image `jacrev` path (`logit_jacobian`, kept as the
fallback for other layer types) to float32 rounding (tested).

`VKDNW_single` and `VKDNW_agg` of their Table 1 are rankings built on these numbers:
`scripts/study.py` reports vkdnw_entropy alone, (aleph, entropy) ranked lexicographically,
and the log-rank aggregate of entropy with AZ-NAS's four components (as their
`evolution_search_vkdnw.py` aggregates).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from harness.proxies.base import Direction
from harness.proxies.training import seeded, seeds
from harness.proxies.zero_cost.common import COMMON, Context, ZeroCostProxy
from harness.proxies.zero_cost.frontier import (
    default_init_network,
    gaussian_input,
    kaiming_fanin_init,
    resolve_frontier,
)

DEFAULTS: dict[str, Any] = {
    **{k: v for k, v in COMMON.items() if k not in ("data", "init")},
    "batch_size": 64,
    "image_size": 32,
    "grad_params": 128,
    "per_tensor": 1,
}
ALPHA = 0.05


def selected_indices(net: nn.Module, per_tensor: int, tensors: int) -> dict[str, torch.Tensor]:
    chosen = {}
    for name, p in list(net.named_parameters())[:tensors]:
        chosen[name] = torch.linspace(0, p.numel() - 1, steps=per_tensor).long()
    return chosen


def logit_jacobian(
    net: nn.Module, x: torch.Tensor, chosen: dict[str, torch.Tensor]
) -> torch.Tensor:
    """(B, classes, weights): d logits / d (the chosen weights), per image, eval mode."""
    params = {k: v.detach() for k, v in net.named_parameters()}
    buffers = {k: v.detach() for k, v in net.named_buffers()}
    picked = {k: params[k].flatten()[idx] for k, idx in chosen.items()}

    def logits(sub: dict[str, torch.Tensor], sample: torch.Tensor) -> torch.Tensor:
        full = dict(params)
        for k, idx in chosen.items():
            flat = params[k].flatten().index_put((idx,), sub[k])
            full[k] = flat.reshape(params[k].shape)
        return functional_call(net, (full, buffers), (sample.unsqueeze(0),)).squeeze(0)

    jac = vmap(jacrev(logits), in_dims=(None, 0))(picked, x)
    return torch.cat([jac[k].flatten(start_dim=2) for k in chosen], dim=2).detach()


# -- the same Jacobian with one batched backward pass per class ------------------------------
def _owner(net: nn.Module, name: str) -> tuple[nn.Module, str]:
    path, _, attr = name.rpartition(".")
    return net.get_submodule(path), attr


def _supported(module: nn.Module) -> bool:
    if isinstance(module, nn.Conv2d):
        return module.padding_mode == "zeros" and not isinstance(module.padding, str)
    if isinstance(module, nn.BatchNorm2d):
        return not module.training and module.running_mean is not None
    return isinstance(module, nn.Linear)


def _conv_term(
    m: nn.Conv2d, x: torch.Tensor, out: torch.Tensor, idx: int
) -> tuple[int, torch.Tensor]:
    """d out[:, o] / d weight[o, i, a, b] per image: the input window that weight multiplies
    (input channel i of output channel o's group; depthwise convolutions have one a group)."""
    o, i, a, b = (int(v) for v in torch.unravel_index(torch.tensor(idx), m.weight.shape))
    assert not isinstance(m.padding, str)  # `_supported` admits int paddings only
    (ph, pw), (sh, sw), (dh, dw) = (int(v) for v in m.padding), m.stride, m.dilation
    channel = o // (m.out_channels // m.groups) * (m.in_channels // m.groups) + i
    xp = nn.functional.pad(x[:, channel], (pw, pw, ph, ph))
    ho, wo = out.shape[2:]
    return o, xp[
        :, a * dh : a * dh + sh * (ho - 1) + 1 : sh, b * dw : b * dw + sw * (wo - 1) + 1 : sw
    ]


def _term(
    m: nn.Module, attr: str, x: torch.Tensor, out: torch.Tensor, idx: int
) -> tuple[int, torch.Tensor]:
    """(output channel, d out[:, channel] / d param element) per image, for one element."""
    if attr == "bias":  # conv, BN and linear biases: one per output channel
        return idx, torch.ones_like(out[:, idx])
    if isinstance(m, nn.Conv2d):
        return _conv_term(m, x, out, idx)
    if isinstance(m, nn.BatchNorm2d):
        assert m.running_mean is not None and m.running_var is not None
        scale = torch.sqrt(m.running_var[idx] + m.eps)
        return idx, (x[:, idx] - m.running_mean[idx]) / scale
    assert isinstance(m, nn.Linear)
    o, i = divmod(idx, m.in_features)
    return o, x[:, i]


def logit_jacobian_batched(
    net: nn.Module, x: torch.Tensor, chosen: dict[str, torch.Tensor]
) -> torch.Tensor | None:
    """`logit_jacobian` from batched backward passes: each chosen weight gets a per-image zero
    offset whose gradient is that image's derivative (the network is in eval mode, so images
    do not interact). One pass per class, or, where the logits come from a linear head with
    fewer inputs than classes (NB201 on CIFAR-100 / ImageNet16-120: 64 features, 100 / 120
    classes), one pass per head input, multiplied by the head's weight. None when a chosen
    weight's layer is not a conv (zero padding), an eval-mode BatchNorm2d or a linear layer."""
    owners = {k: _owner(net, k) for k in chosen}
    if not all(_supported(m) for m, _ in owners.values()):
        return None
    deltas = {k: torch.zeros((len(x), len(idx)), requires_grad=True) for k, idx in chosen.items()}
    logits, head = _offset_forward(net, x, chosen, owners, deltas)
    if head is not None and head[0].in_features < logits.shape[1]:
        return _through_head(logits, head, chosen, owners, deltas)
    return _backward_columns([logits[:, c] for c in range(logits.shape[1])], deltas)


Head = tuple[nn.Linear, torch.Tensor]  # the linear layer that gives the logits, and its input


def _offset_forward(
    net: nn.Module,
    x: torch.Tensor,
    chosen: dict[str, torch.Tensor],
    owners: dict[str, tuple[nn.Module, str]],
    deltas: dict[str, torch.Tensor],
) -> tuple[torch.Tensor, Head | None]:
    """The logits with every chosen weight's offset term added to its layer's output, and the
    linear layer whose output they are (with its input), if one is."""
    by_module: dict[nn.Module, list[str]] = {}
    for k, (m, _) in owners.items():
        by_module.setdefault(m, []).append(k)

    def offsets(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor:
        for k in by_module[m]:
            for j, idx in enumerate(chosen[k].tolist()):
                channel, term = _term(m, owners[k][1], inputs[0], out, idx)
                shape = (-1,) + (1,) * (term.dim() - 1)
                add = (deltas[k][:, j].reshape(shape) * term).unsqueeze(1)
                out = out.index_add(1, torch.tensor([channel]), add)
        return out

    seen: list[tuple[nn.Linear, torch.Tensor, torch.Tensor]] = []

    def record(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        assert isinstance(m, nn.Linear)
        seen.append((m, inputs[0], out))  # registered after `offsets`: sees its output

    handles = [m.register_forward_hook(offsets) for m in by_module]
    handles += [m.register_forward_hook(record) for m in net.modules() if isinstance(m, nn.Linear)]
    try:
        logits = net(x)
    finally:
        for h in handles:
            h.remove()
    return logits, next(((m, z) for m, z, out in seen if out is logits), None)


def _backward_columns(outputs: list[torch.Tensor], deltas: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B, len(outputs), weights): each output's per-image derivative, one backward pass each."""
    leaves = list(deltas.values())
    columns = []
    for out in outputs:
        grads = torch.autograd.grad(out.sum(), leaves, retain_graph=True, allow_unused=True)
        # a weight cut off from the output (a cell with no path) has derivative 0
        columns.append(
            torch.cat(
                [torch.zeros_like(d) if g is None else g for g, d in zip(grads, leaves)], dim=1
            )
        )
    return torch.stack(columns, dim=1).detach()


def _through_head(
    logits: torch.Tensor,
    head: Head,
    chosen: dict[str, torch.Tensor],
    owners: dict[str, tuple[nn.Module, str]],
    deltas: dict[str, torch.Tensor],
) -> torch.Tensor:
    """d logits / d offsets = W d z / d offsets for the weights before the head (z its input,
    one pass per feature), plus the head's own weights' terms, which reach one logit each."""
    linear, z = head
    jac = torch.einsum(
        "oi,bij->boj",
        linear.weight.detach(),
        _backward_columns([z[:, i] for i in range(z.shape[1])], deltas),
    )
    start = 0
    for k, idx in chosen.items():
        if owners[k][0] is linear:
            for j, element in enumerate(idx.tolist()):
                channel, term = _term(linear, owners[k][1], z, logits, element)
                jac[:, channel, start + j] += term.detach()
        start += len(idx)
    return jac


def covariance_factor(logits: torch.Tensor) -> torch.Tensor:
    """Their per-image factor L of the smoothed softmax covariance (B, K, K)."""
    k = logits.shape[1]
    prob = torch.softmax(logits, dim=1) * (1 - ALPHA) + ALPHA / k
    q = 1 - torch.cumsum(prob, dim=1)
    q[:, -1] = 0
    q_prev = torch.roll(q, shifts=1, dims=1)
    q_prev[:, 0] = 1
    d = torch.sqrt(prob * q / q_prev)
    lower = -prob.unsqueeze(2) / q.unsqueeze(1)
    lower = torch.nan_to_num(lower, neginf=0.0)
    eye = torch.eye(k, dtype=logits.dtype)
    lower = torch.tril(lower, diagonal=-1) + eye
    return lower @ torch.diag_embed(d)


def fisher(net: nn.Module, x: torch.Tensor, per_tensor: int, tensors: int) -> torch.Tensor:
    net.eval()
    chosen = selected_indices(net, per_tensor, tensors)
    jac = logit_jacobian_batched(net, x, chosen)
    if jac is None:
        jac = logit_jacobian(net, x, chosen)
    with torch.no_grad():
        factor = covariance_factor(net(x))
    lj = factor @ jac
    return (lj.transpose(1, 2) @ lj).mean(dim=0)


def spectrum_entropy(lambdas: torch.Tensor) -> float:
    deciles = torch.quantile(lambdas, torch.arange(0.1, 1.0, 0.1, dtype=lambdas.dtype))
    t = deciles / (float(deciles.abs().sum()) + 1e-10)
    return float(-(t * torch.log(t + 1e-10)).sum())


def measure(ctx: Context) -> tuple[float, dict[str, Any]]:
    s = ctx.settings
    input_seed, init_seed = seeds(ctx.init_seed, 2)
    with seeded(init_seed, ctx.device):
        kaiming_fanin_init(ctx.net)
    x = gaussian_input(s["batch_size"], s["image_size"], input_seed, ctx.device)
    matrix = fisher(ctx.net, x, s["per_tensor"], s["grad_params"])
    try:
        lambdas = torch.linalg.svdvals(matrix)
    except torch.linalg.LinAlgError:
        return float("nan"), {}
    dim = float(len(list(ctx.net.parameters())))
    return spectrum_entropy(lambdas), {"vkdnw_dim": dim}


class VkdnwProxy(ZeroCostProxy):
    readout_directions: ClassVar[dict[str, Direction]] = {"vkdnw_dim": "maximize"}


def vkdnw_factory(**overrides: Any) -> ZeroCostProxy:
    settings = resolve_frontier("vkdnw", DEFAULTS, overrides)
    return VkdnwProxy("vkdnw", settings, measure, needs="none", build=default_init_network)
