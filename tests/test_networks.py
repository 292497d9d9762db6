"""The NB201 torch network: exact parameter counts against the table, shapes, odd cells."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.benchmarks.table import load_table
from harness.spaces.nb201 import NB201Cell, NB201Space, is_connected, parse_cell
from harness.spaces.nb201.network import NB201Network, param_count

SPACE = NB201Space()


def _sample_indices(k: int) -> list[int]:
    table = load_table()
    rng = np.random.default_rng(201)
    picks = set(rng.choice(len(table), size=k, replace=False).tolist())
    ops = table.ops
    # make sure the awkward cases are in: `none` edges, disconnected cells, all-conv cells
    picks.update(np.flatnonzero((ops == 0).any(axis=1))[:20].tolist())
    disconnected = [i for i in range(len(ops)) if not is_connected(SPACE.from_index(i))]
    picks.update(disconnected[:20])
    picks.update(np.flatnonzero((ops == 3).all(axis=1)).tolist())
    picks.update([0, 6111, 9930, 15474, len(ops) - 1])
    return sorted(picks)


def test_param_count_matches_table_params_c10() -> None:
    table = load_table()
    indices = _sample_indices(250)
    assert len(indices) >= 250
    n_disconnected = 0
    for i in indices:
        cell = SPACE.from_index(i)
        n_disconnected += not is_connected(cell)
        got = param_count(cell, c=16, n=5, num_classes=10)
        # the table stores params in units of 1e6 with 6 decimals: exact integer equality
        assert got == round(float(table["params_c10_M"][i]) * 1e6), (i, str(cell))
    assert n_disconnected >= 20


def test_param_count_closed_form_at_other_scales() -> None:
    # per cell: conv1x1 -> C^2+2C, conv3x3 -> 9C^2+2C; other ops free (README closed form)
    cell = parse_cell(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|none~2|"
    )
    all_free = parse_cell("|skip_connect~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|none~2|")
    for c, n in [(4, 1), (8, 2)]:
        per_cell = sum(9 * w * w + 2 * w + w * w + 2 * w for w in (c, 2 * c, 4 * c)) * n
        assert param_count(cell, c, n) - param_count(all_free, c, n) == per_cell


def test_forward_shapes_and_features() -> None:
    torch.manual_seed(0)
    cell = parse_cell(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    )
    net = NB201Network(cell, c=4, n=1, num_classes=7)
    x = torch.randn(3, 3, 32, 32)
    assert net(x).shape == (3, 7)
    assert net.features(x).shape == (3, 16)
    assert net.embedding(x).shape == (3, 16)
    assert net(torch.randn(2, 3, 16, 16)).shape == (2, 7)
    # gradients reach the stem
    net(x).sum().backward()
    assert net.stem[0].weight.grad is not None


def test_disconnected_cell_runs_and_cell_output_is_zero() -> None:
    cell = NB201Cell(("nor_conv_3x3", "none", "none", "none", "none", "avg_pool_3x3"))
    assert not is_connected(cell)
    net = NB201Network(cell, c=4, n=1, num_classes=10)
    x = torch.randn(2, 3, 32, 32)
    out = net(x)
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    cell_out = net.cells[0](torch.randn(2, 4, 8, 8))
    assert torch.count_nonzero(cell_out) == 0
    out.sum().backward()  # no crash on a graph whose cells emit constants


def test_bad_scale_is_rejected() -> None:
    with pytest.raises(ValueError):
        NB201Network(parse_cell("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"), c=0)
