from __future__ import annotations

import numpy as np
import pytest

from harness.benchmarks.table import load_table
from harness.spaces import SPACES, NB201Space
from harness.spaces.nb201 import CellError, NB201Cell, is_connected, parse_cell

SPACE = NB201Space()
BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_index_string_roundtrip_for_every_cell():
    for i in range(15625):
        cell = SPACE.from_index(i)
        assert SPACE.index(SPACE.parse(SPACE.format(cell))) == i


def test_known_cells_have_their_official_indices():
    assert SPACE.index(SPACE.parse(BEST_C10)) == 6111
    assert SPACE.format(SPACE.from_index(0)) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
        "skip_connect~2|"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "|nor_conv_3x3~0|",
        "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~0|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|+|none~0|none~1|none~2|",
        "none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|",
    ],
)
def test_malformed_strings_raise_quoting_the_input(text):
    with pytest.raises(CellError) as err:
        parse_cell(text)
    assert repr(text) in str(err.value) or text in str(err.value)


def test_from_index_out_of_range():
    with pytest.raises(CellError, match="15625"):
        SPACE.from_index(15625)


def test_canonical_key_gives_exactly_the_tables_6466_classes():
    table = load_table()
    first: dict[str, int] = {}
    group = np.array(
        [first.setdefault(SPACE.canonical_key(SPACE.from_index(i)), i) for i in range(15625)]
    )
    assert len(first) == 6466
    assert (group == table["unique_group"]).all()


def test_isomorphic_cells_share_a_key_and_different_ones_do_not():
    # swapping which of two parallel conv paths carries which op is an isomorphism
    a = parse_cell("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|none~2|")
    b = parse_cell("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|none~2|")
    c = parse_cell("|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert SPACE.canonical_key(a) == SPACE.canonical_key(b) == SPACE.canonical_key(c)
    d = parse_cell(
        "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|skip_connect~1|none~2|"
    )
    assert SPACE.canonical_key(d) != SPACE.canonical_key(a)


def test_disconnected_cells_are_detected():
    dead = parse_cell("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
    live = parse_cell("|none~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
    assert not is_connected(dead)
    assert is_connected(live)


def test_sampling_is_seeded_and_uniform_enough():
    a = [SPACE.sample(np.random.default_rng(3)) for _ in range(1)]
    b = [SPACE.sample(np.random.default_rng(3)) for _ in range(1)]
    assert a == b
    rng = np.random.default_rng(0)
    cells = [SPACE.sample(rng) for _ in range(5000)]
    counts = np.bincount([c.codes[0] for c in cells], minlength=5)
    assert counts.min() > 850 and counts.max() < 1150  # 1000 expected per op


def test_mutation_changes_exactly_one_edge():
    rng = np.random.default_rng(1)
    for _ in range(200):
        cell = SPACE.sample(rng)
        child = SPACE.mutate(cell, rng)
        assert sum(x != y for x, y in zip(cell.ops, child.ops)) == 1


def test_encode_decode_roundtrip_and_bad_params():
    cell = SPACE.parse(BEST_C10)
    params = SPACE.encode(cell)
    assert SPACE.decode(params) == cell
    SPACE.param_space.validate(params)
    with pytest.raises(CellError, match="edge_1_0"):
        SPACE.decode({**params, "edge_1_0": "conv_5x5"})
    with pytest.raises(CellError):
        NB201Cell(("none",) * 5)


def test_space_is_registered():
    assert SPACES.get("nb201").param_space.size == 15625
