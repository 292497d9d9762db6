"""What every zero-cost proxy shares: settings, the seeded image batch, the network, timing.

A zero-cost proxy scores an untrained network built by the benchmark's space
(`SPACES.get(benchmark.space).network(arch, num_classes, **scale)`), so it works on any space
that builds networks. One `seed` fixes the weight init and the image batch (two child seeds);
the same seed gives the same score in a fresh process (same device and threads).

Settings every proxy takes (each proxy sets its own defaults from its reference code):
`data` ('sample' = the shipped CIFAR-10 images, else a path), `batch_size`, `scale` (a dict of
the space's scale settings; {} = the space's reference scale, NB201 C=16, N=5), `init`
('default' = PyTorch's, as NASLib/Abdelfattah/NASWOT; 'gaussian' = N(0, 1) conv/linear
weights, BN 1/0, as SWAP), `bn` ('train' = batch statistics, 'eval', 'off' = BatchNorm
replaced by identity, as synflow), `device`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from harness import HarnessError
from harness.proxies.base import Direction, Evaluation
from harness.proxies.training import (
    Timer,
    device_label,
    images_for,
    pinned_threads,
    resolve_device,
    seeded,
    seeds,
)

INITS = ("default", "gaussian")
BN_MODES = ("train", "eval", "off")
#: layers whose weights the gradient-based measures sum over (NASLib's get_layer_metric_array)
WEIGHTED = (nn.Conv2d, nn.Linear)

COMMON: dict[str, Any] = {
    "data": "sample",
    "batch_size": 64,
    "scale": {},
    "init": "default",
    "bn": "train",
    "device": "cpu",
    "threads": 1,  # CPU threads per evaluation: see harness.proxies.training.cpu_threads
}


@dataclass(frozen=True)
class Batch:
    """Normalised images (B, 3, H, W) and, only for label-using proxies, their labels.

    Attributes:
        x: The images, normalised with the data's per-channel mean and std.
        y: Their integer labels, or None when the proxy declared it uses none.
        source: Which data they came from (stored with the evaluation).
    """

    x: torch.Tensor
    y: torch.Tensor | None
    source: str


# -- settings -------------------------------------------------------------------------------
def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "data": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "batch_size": (_positive_int, "an integer >= 1"),
    "image_size": (_positive_int, "an integer >= 1"),
    "repeats": (_positive_int, "an integer >= 1"),
    "scale": (
        lambda v: isinstance(v, dict) and all(_positive_int(x) for x in v.values()),
        'a dict of integers >= 1, e.g. {"C": 16, "N": 5}',
    ),
    "init": (lambda v: v in INITS, f"one of {', '.join(INITS)}"),
    "bn": (lambda v: v in BN_MODES, f"one of {', '.join(BN_MODES)}"),
    "device": (lambda v: isinstance(v, str), "a device name (cpu, cuda, cuda:N, auto)"),
    "threads": (_positive_int, "an integer >= 1"),
    "regular": (lambda v: isinstance(v, bool), "true or false"),
    "mu": (_number, "a finite number"),
    "sigma": (lambda v: _number(v) and v > 0, "a number > 0"),
}


def resolve(proxy: str, defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Defaults < overrides; unknown keys and malformed values raise a one-line HarnessError.

    Args:
        proxy: The proxy's name, for the error message.
        defaults: Every setting the proxy takes with its default (start from `COMMON`); each
            key must be one `CHECKS` knows.
        overrides: What the user set (`--set key=value`).

    Returns:
        The resolved settings (JSON-serialisable; `scale` sorted): a `ZeroCostProxy`'s
        `config`.
    """
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        known = ", ".join(sorted(defaults))
        raise HarnessError(f"unknown setting {unknown[0]!r} for proxy {proxy} (known: {known})")
    settings = {**defaults, **overrides}
    for key, value in settings.items():
        check, what = CHECKS[key]
        if not check(value):
            raise HarnessError(f"setting {key}={value!r} for proxy {proxy} must be {what}")
    settings["scale"] = dict(sorted(settings["scale"].items())) if "scale" in settings else {}
    if "device" in settings:
        resolve_device(settings["device"])  # fail now, not mid-run
    return settings


# -- inputs and networks --------------------------------------------------------------------
def seeded_batch(data: str, n: int, seed: int, device: torch.device, labels: bool) -> Batch:
    """`n` train images drawn uniformly without replacement under `seed`, normalised with the
    data's mean/std; labels are copied only when the proxy uses them.

    Args:
        data: "sample" (the shipped CIFAR-10 images), an `.npz` path or a CIFAR folder.
        n: Batch size.
        seed: The only randomness: the same seed gives the same images in any process.
        device: Where the tensors go.
        labels: Whether to include the labels (a label-free proxy passes False, so it
            cannot read them by accident).
    """
    images = images_for(data)
    if n > len(images.x_train):
        raise HarnessError(
            f"batch_size={n} exceeds the {len(images.x_train)} train images in {images.source}"
        )
    idx = np.sort(np.random.default_rng(seed).choice(len(images.x_train), n, replace=False))
    x = torch.from_numpy(images.x_train[idx]).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(images.mean).view(1, 3, 1, 1)
    std = torch.tensor(images.std).view(1, 3, 1, 1)
    x = ((x - mean) / std).contiguous().to(device)
    y = torch.from_numpy(images.y_train[idx]).to(device) if labels else None
    return Batch(x=x, y=y, source=images.source)


def space_of(benchmark: Any) -> Any:
    from harness.spaces import SPACES

    return SPACES.get(benchmark.space)


def check_scale(space: Any, scale: dict[str, int]) -> None:
    unknown = sorted(set(scale) - set(space.scale_keys))
    if unknown:
        raise HarnessError(
            f"scale setting {unknown[0]!r} is not one of space {space.name}'s "
            f"({', '.join(space.scale_keys)})"
        )


def gaussian_init(net: nn.Module) -> None:
    """SWAP's init: conv/linear weights N(0, 1) and zero bias; norm layers weight 1, bias 0."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                if m.weight is not None:
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)


def reinitialise(net: nn.Module, init: str) -> None:
    """Fresh weights in place from the global RNG: SWAP's N(0, 1) re-init for 'gaussian'
    (as their `network.apply(network_weight_gaussian_init)`), else every module's own
    `reset_parameters` (PyTorch's default init)."""
    if init == "gaussian":
        gaussian_init(net)
        return
    for m in net.modules():
        reset = getattr(m, "reset_parameters", None)
        if callable(reset) and m is not net:
            reset()


def reinitialiser(net: nn.Module, init: str) -> Callable[[], None]:
    """`reinitialise(net, init)` as a function of no arguments for a loop that re-initialises
    the same network many times (SWAP's 32 repeats): the modules are listed once, and the
    gaussian init calls the tensors' own `normal_`/`zero_`/`fill_` (what `nn.init` calls) in
    `net.modules()` order, so the same draws land in the same weights."""
    if init != "gaussian":
        resets: list[Callable[[], Any]] = [
            getattr(m, "reset_parameters")  # noqa: B009  (a module attribute, not a tensor)
            for m in net.modules()
            if m is not net and callable(getattr(m, "reset_parameters", None))
        ]

        def reset_all() -> None:
            for reset in resets:
                reset()

        return reset_all
    steps: list[Callable[[], Any]] = []
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            steps.append(m.weight.normal_)
            if m.bias is not None:
                steps.append(m.bias.zero_)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
            steps += [partial(m.weight.fill_, 1.0), m.bias.zero_]

    def gaussian() -> None:
        with torch.no_grad():
            for step in steps:
                step()

    return gaussian


def without_bn(net: nn.Module) -> nn.Module:
    """Replace every BatchNorm by identity (Abdelfattah et al.'s `bn=False` copy for synflow)."""
    for name, child in list(net.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, nn.Identity())
        else:
            without_bn(child)
    return net


def set_bn_mode(net: nn.Module, mode: str) -> nn.Module:
    if mode == "off":
        without_bn(net)
        return net.train()
    return net.train() if mode == "train" else net.eval()


def build_network(
    arch: Any, benchmark: Any, s: dict[str, Any], init_seed: int, device: torch.device
) -> nn.Module:
    """The space's network at the proxy's scale, initialised under `init_seed`, on `device`,
    in the proxy's BatchNorm mode.

    The network is `space.network(arch, benchmark.n_classes, **s["scale"])` of the
    benchmark's registered space, so a proxy built on it works on every space that builds
    networks. `s` needs the keys "scale", "init" and "bn" (as `COMMON` has them).
    """
    space = space_of(benchmark)
    check_scale(space, s["scale"])
    with seeded(init_seed, device):
        net = space.network(arch, benchmark.n_classes, **s["scale"])
        if s["init"] == "gaussian":
            gaussian_init(net)
    return set_bn_mode(net.to(device), s["bn"])


# -- the proxy ------------------------------------------------------------------------------
Measure = Callable[["Context"], "float | tuple[float, dict[str, Any]]"]


@dataclass
class Context:
    """What a measure gets: the network (already built, initialised, in its BN mode), the
    batch (None for data-free measures) and the proxy's settings; `init_seed` lets a measure
    re-initialise (SWAP's repeats) on the same stream.

    Attributes:
        net: The untrained network (`build_network`).
        batch: The seeded images (`seeded_batch`), None when `needs` is "none".
        settings: The proxy's resolved settings.
        device: The torch device everything is on.
        init_seed: The seed the network was initialised under.
    """

    net: nn.Module
    batch: Batch | None
    settings: dict[str, Any]
    device: torch.device
    init_seed: int


@dataclass
class ZeroCostProxy:
    """A label-free (or few-label) score of an untrained network; maximised as published.

    The base of every built-in zero-cost proxy, and the easiest way to write one: give it a
    `measure(ctx: Context) -> float` (or `(float, extra dict)`) and resolved settings.
    `evaluate(arch, benchmark, seed)` splits `seed` into an init seed and a batch seed,
    draws the batch (`seeded_batch`), builds the network (`build`, default
    `build_network`: the benchmark's space's `network`), runs `measure` under the
    `threads` setting and returns an `Evaluation` whose `labels_used` is the batch size
    when `needs` is "labels", else 0; wall time is the simulated cost; a non-finite score
    is a failed evaluation.

    Attributes:
        name: The registered name.
        config: The resolved settings (`resolve(name, defaults, overrides)`); `settings()`
            returns a copy.
        measure: The score of one network (and batch).
        needs: "none" (no images), "images" or "labels" (the batch carries labels, counted).
        deterministic: True only when the score cannot depend on the seed (params, flops);
            otherwise the runner caches by seed.
        direction: "maximize" (default) or "minimize".
        needs_table: False: computed from the network, so it works on any space.
        build: `(arch, benchmark, settings, init_seed, device) -> nn.Module`.
    """

    name: str
    config: dict[str, Any]
    measure: Measure
    needs: str = "images"
    deterministic: bool = False
    direction: Direction = "maximize"
    #: computed from the network, so it works on any space (no benchmark table needed)
    needs_table: bool = False
    build: Callable[..., nn.Module] = field(default=build_network)

    def settings(self) -> dict[str, Any]:
        """A copy of `config` (JSON-serialisable)."""
        return dict(self.config)

    @pinned_threads
    def evaluate(self, arch: Any, benchmark: Any, seed: int) -> Evaluation:
        s = self.config
        timer = Timer()
        device = resolve_device(s.get("device", "cpu"))
        init_seed, batch_seed = seeds(seed, 2)
        batch = None
        if self.needs != "none":
            batch = seeded_batch(
                s["data"], s["batch_size"], batch_seed, device, labels=self.needs == "labels"
            )
        net = self.build(arch, benchmark, s, init_seed, device)
        out = self.measure(Context(net, batch, s, device, init_seed))
        score, extra = out if isinstance(out, tuple) else (out, {})
        if batch is not None:
            extra = {"data_source": batch.source, **extra}
        labels = len(batch.x) if batch is not None and batch.y is not None else 0
        return self._result(float(score), extra, timer.elapsed, labels, device_label(device))

    def _result(
        self, score: float, extra: dict[str, Any], wall: float, labels: int, device: str
    ) -> Evaluation:
        """Wall time is the simulated cost; a non-finite score is a failed evaluation."""
        common: dict[str, Any] = {"labels_used": labels, "device": device}
        if not math.isfinite(score):
            reason = f"non-finite {self.name} score {score}"
            return Evaluation.failed(
                self.direction, reason, wall_s=wall, simulated_s=wall, extra=extra, **common
            )
        return Evaluation(
            score=score,
            direction=self.direction,
            wall_s=wall,
            simulated_s=wall,
            extra=extra,
            **common,
        )


def weighted_layers(net: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    return [m for m in net.modules() if isinstance(m, WEIGHTED)]
