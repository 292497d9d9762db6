"""`logit-spread`: how far apart an untrained network's logits are across a batch of images.

An example of the proxy contract built on the harness's public helpers, not a published
proxy: nobody has shown that it ranks architectures well, and the harness's studies do not
use it. The score is log(mean over classes of the standard deviation, across a seeded
batch of real images, of the untrained network's logits), maximised: the rationale (to be
tested, not assumed) is that a network whose outputs still tell images apart at
initialisation has room to learn.

What it gets from the harness (`harness.contracts`): `ZeroCostProxy` splits the run's seed
into an init seed and a batch seed, draws the batch with `seeded_batch` (no labels:
`needs="images"`, so `labels_used` is 0), builds the network with `build_network` (the
benchmark's space's `network(arch, num_classes, **scale)`, so it scores NB201 and DARTS
cells alike), pins CPU threads and times the evaluation. `resolve` checks the settings.
"""

from __future__ import annotations

from typing import Any

import torch

from harness.contracts import COMMON, Context, ZeroCostProxy, resolve

DEFAULTS: dict[str, Any] = {**COMMON, "batch_size": 32}


def measure(ctx: Context) -> float:
    assert ctx.batch is not None  # needs="images": the harness always passes a batch
    with torch.no_grad():
        logits = ctx.net(ctx.batch.x)
    return float(torch.log(logits.std(dim=0).mean() + 1e-12))


def logit_spread(**overrides: Any) -> ZeroCostProxy:
    """The factory `PROXIES` holds: `make_proxy("logit-spread", batch_size=16)`."""
    settings = resolve("logit-spread", DEFAULTS, overrides)
    return ZeroCostProxy("logit-spread", settings, measure, needs="images")
