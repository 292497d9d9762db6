"""The measurements both studies print about what the contrastive score tracks: how the final
loss relates to the loss before training and to the initial embedding cosine, how far it
moves, and how the cosine follows the cell's convolutions and pools."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def rho(a: object, b: object) -> float:
    from scipy import stats

    return float(stats.spearmanr(a, b).statistic)


def print_loss(wide: pd.DataFrame, per_image: float) -> None:
    """The final loss against the loss before training and the initial cosine; the drop and
    the spread between cells in nats per image."""
    final, init = wide["contrastive"], wide["contrastive:init-loss"]
    cosine, drop = wide["contrastive:init-cosine"], wide["contrastive:loss-drop"]
    print(f"cells: {len(wide)}")
    print(f"rho(final loss, loss before training): {rho(final, init):+.3f}")
    print(f"rho(final loss, initial embedding cosine): {rho(final, cosine):+.3f}")
    print(
        f"loss drop per image (nats): mean {drop.mean() / per_image:.2f}, "
        f"min {drop.min() / per_image:.2f}, max {drop.max() / per_image:.2f}; "
        f"rose for {int((drop < 0).sum())} cells"
    )
    spread = (final.max() - final.min()) / per_image
    print(f"spread of the final loss between cells (nats): {spread:.2f}")


def print_structure(
    cosine: pd.Series, convs: Sequence[int], pools: Sequence[int], truth: pd.Series, note: str = ""
) -> None:
    """The initial cosine against the cell's convolutions and average pools, and the
    convolutions against test accuracy (`note`: what the counts cover, e.g. ', both cells')."""
    print(f"rho(initial cosine, #convolutions{note}): {rho(cosine, convs):+.3f}")
    print(f"rho(initial cosine, #average pools{note}): {rho(cosine, pools):+.3f}")
    print(f"rho(#convolutions, test accuracy): {rho(convs, truth):+.3f}")
