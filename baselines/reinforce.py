"""REINFORCE (Williams 1992) as NATS-Bench's `exps/NATS-algos/reinforce.py` runs it, in numpy.

The policy is one vector of logits per parameter (NB201: 6 edges x 5 ops), initialised as
`1e-3 * randn`, sampled through a softmax; one architecture is sampled per step. Its reward
goes into an exponential moving average (their `ExponentialMovingAverage`, momentum
`ema_momentum`, bias-corrected by its running denominator) *before* the advantage
`reward - baseline` is taken, as they do, so the first step's advantage is exactly 0. The policy
loss `-(sum of the sampled choices' log-probabilities) * advantage` is minimised by one Adam
step per tell, written out here as torch's `Adam` computes it with their hyperparameters:
lr = `learning_rate` (0.01, the value all their command lines pass), betas (0.9, 0.999),
eps 1e-8, no weight decay, no AMSGrad; for gradient g at step t:
m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g^2,
logits -= lr / (1 - 0.9^t) * m / (sqrt(v) / sqrt(1 - 0.999^t) + 1e-8).
The gradient of the loss with respect to a parameter's logits is
`-advantage * (onehot(choice) - softmax(logits))`.

Reward: `-loss`. The runner's loss for an accuracy is the negated accuracy (NB201: percent, as
NATS-Bench's API returns it), so on a lookup run the reward is their reward exactly. For any
other loss the update depends on rewards only through `reward - baseline`, which is unchanged
by adding a constant to every reward (the bias-corrected EMA shifts with it), and a positive
rescaling only rescales the gradient, which Adam divides out (up to its eps): maximising
`-loss` is maximising any increasing affine function of it.

Differences from reinforce.py:

- numpy float64 and a `numpy.random.Generator` from the factory's seed, not torch float32
  tensors, `torch.randn` and `torch.distributions.Categorical` under `prepare_seed` (same
  distributions, different random streams and last-bit rounding).
- Their reward is the cifar10-valid validation accuracy after 12 epochs from
  `api.simulate_train_eval(..., hp="12")`, and they stop at a simulated time budget
  (`--time_budget` 20000 s, total cost bookkeeping); here the reward is whatever loss the run
  minimises and the run's trial count stops it.
- A failed trial (`tell(n, None)` or NaN, which NATS-Bench never has) changes nothing: no EMA
  update, no Adam step (the step count t does not advance).
- Pending asks are sampled from the current policy; each tell's gradient uses the softmax the
  choice was sampled from (what torch's graph, built at sampling time, would use), applied to
  the logits as they are at the tell. Told in ask order one at a time (the runner's loop) this
  is their algorithm exactly.
- Parameters may have different numbers of choices (one logit vector each); NB201 has 5 each.
- They report `max(trace)` (the best sampled cell), as the harness does; their logged
  `policy.genotype()` (argmax cell) is not proposed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.spaces.base import Params, ParamSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Ledger, Suggestion

DEFAULTS: dict[str, Any] = {"learning_rate": 0.01, "ema_momentum": 0.9}
#: torch.optim.Adam's defaults, which reinforce.py keeps
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
INIT_SCALE = 1e-3  # arch_parameters = 1e-3 * torch.randn(edges, ops)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()  # type: ignore[no-any-return]


class ExponentialMovingAverage:
    """Their baseline: numerator and denominator both decay, so value() is bias-corrected."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.numerator = 0.0
        self.denominator = 0.0

    def update(self, value: float) -> None:
        self.numerator = self.momentum * self.numerator + (1 - self.momentum) * value
        self.denominator = self.momentum * self.denominator + (1 - self.momentum)

    def value(self) -> float:
        return self.numerator / self.denominator


class Reinforce:
    """Categorical policy over each parameter's choices, trained by REINFORCE with Adam."""

    name = "reinforce"

    def __init__(self, space: ParamSpace, seed: int, learning_rate: float, ema_momentum: float):
        self.space = space
        self.settings: dict[str, Any] = {
            "learning_rate": learning_rate,
            "ema_momentum": ema_momentum,
        }
        self._rng = np.random.default_rng(seed)
        self.logits = [INIT_SCALE * self._rng.standard_normal(len(p.choices)) for p in space.params]
        self.adam_m = [np.zeros_like(x) for x in self.logits]
        self.adam_v = [np.zeros_like(x) for x in self.logits]
        self.adam_t = 0
        self.baseline = ExponentialMovingAverage(ema_momentum)
        # per suggestion: (choice index, softmax it was drawn from) per parameter
        self._ledger: Ledger[list[tuple[int, np.ndarray]]] = Ledger()

    def ask(self) -> Suggestion:
        draws = []
        for logits in self.logits:
            probs = softmax(logits)
            draws.append((int(self._rng.choice(len(probs), p=probs)), probs))
        params: Params = {p.name: p.choices[i] for p, (i, _) in zip(self.space.params, draws)}
        return Suggestion(self._ledger.open(draws), params)

    def tell(self, number: int, loss: float | None) -> None:
        draws = self._ledger.close(number)
        if loss is None or math.isnan(loss):
            return  # a failed trial teaches the policy nothing
        reward = -float(loss)
        self.baseline.update(reward)
        advantage = reward - self.baseline.value()
        beta1, beta2 = ADAM_BETAS
        self.adam_t += 1
        bias1 = 1 - beta1**self.adam_t
        bias2 = 1 - beta2**self.adam_t
        lr = self.settings["learning_rate"]
        for k, (index, probs) in enumerate(draws):
            onehot = np.zeros_like(probs)
            onehot[index] = 1.0
            grad = -advantage * (onehot - probs)
            self.adam_m[k] = beta1 * self.adam_m[k] + (1 - beta1) * grad
            self.adam_v[k] = beta2 * self.adam_v[k] + (1 - beta2) * grad * grad
            denom = np.sqrt(self.adam_v[k]) / math.sqrt(bias2) + ADAM_EPS
            self.logits[k] = self.logits[k] - (lr / bias1) * self.adam_m[k] / denom


def reinforce(space: ParamSpace, seed: int, **overrides: Any) -> Reinforce:
    """NATS-Bench's REINFORCE: learning_rate 0.01, ema_momentum 0.9 (`--EMA_momentum`)."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown reinforce settings {sorted(unknown)} (known: {list(DEFAULTS)})")
    settings = {**DEFAULTS, **overrides}
    learning_rate = float(settings["learning_rate"])
    ema_momentum = float(settings["ema_momentum"])
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate}")
    if not 0 <= ema_momentum < 1:
        raise ValueError(f"ema_momentum must be in [0, 1), got {ema_momentum}")
    return Reinforce(space, seed, learning_rate, ema_momentum)


STRATEGIES.register("reinforce", reinforce)
