"""The DARTS cell space: genotypes, keys, both encodings, networks against DARTS's own numbers."""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from itertools import product

import numpy as np
import pytest
import torch

from harness import HarnessError
from harness.benchmarks import BENCHMARKS
from harness.spaces import SPACES
from harness.spaces.darts import (
    DARTS_V1,
    DARTS_V2,
    PRIMITIVES,
    Genotype,
    GenotypeError,
    canonical_key,
    format_genotype,
    parse_genotype,
)
from harness.spaces.darts.encodings import _parse_cell_edges
from harness.spaces.darts.network import (
    EvaluationNetwork,
    count_params,
    evaluation_network,
    param_count,
)

NODE, EDGE = SPACES.get("darts"), SPACES.get("darts-edge")

# DARTS_V2 exactly as DARTS's cnn/genotypes.py writes it
V2_TEXT = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)

# Parameter counts of DARTS's own NetworkCIFAR (quark0/darts cnn/model.py + operations.py, run
# unchanged on CPU), without / with the auxiliary head: (genotype, C, layers, classes) -> counts
REFERENCE_PARAMS = {
    ("DARTS_V1", 36, 20, 10): (3_169_414, 3_645_840),
    ("DARTS_V1", 36, 20, 100): (3_221_344, 3_766_980),
    ("DARTS_V1", 32, 8, 10): (871_786, 1_340_020),
    ("DARTS_V1", 16, 8, 10): (232_890, 668_356),
    ("DARTS_V1", 8, 5, 10): (35_058, 454_140),
    ("DARTS_V2", 36, 20, 10): (3_349_342, 3_825_768),
    ("DARTS_V2", 36, 20, 100): (3_401_272, 3_946_908),
    ("DARTS_V2", 32, 8, 10): (919_722, 1_387_956),
    ("DARTS_V2", 16, 8, 10): (246_106, 681_572),
    ("DARTS_V2", 8, 5, 10): (37_018, 456_100),
}


def test_spaces_and_benchmarks_are_registered():
    assert NODE.name == "darts" and EDGE.name == "darts-edge"
    assert len(NODE.param_space.params) == 22 and len(EDGE.param_space.params) == 28
    assert EDGE.param_space.params[0].choices == PRIMITIVES
    for name, classes in (("darts-cifar10", 10), ("darts-cifar100", 100)):
        bench = BENCHMARKS.get(name)
        assert (bench.space, bench.n_classes, bench.truth_source) == ("darts", classes, "training")
        assert bench.optimum is None and bench.report(DARTS_V2) is None
        assert "600 epochs" in bench.report_metric and "proxy" in bench.search_metric
        assert bench.configure(encoding="edge").space == "darts-edge"
        assert bench.configure(encoding="edge").configure(encoding="node").space == "darts"
        assert bench.manifest()["truth"] == "training" and bench.describe()
        with pytest.raises(HarnessError, match="unknown encoding 'cell'"):
            bench.configure(encoding="cell")
        with pytest.raises(HarnessError, match="nats_path"):
            bench.configure(nats_path="/x")


@pytest.mark.parametrize("key", sorted(REFERENCE_PARAMS))
def test_param_counts_equal_darts_reference(key):
    name, c, layers, classes = key
    without_aux, with_aux = REFERENCE_PARAMS[key]
    g = parse_genotype(name)
    assert param_count(g, C=c, layers=layers, num_classes=classes) == without_aux
    with torch.device("meta"):
        net = evaluation_network(g, num_classes=classes, C=c, layers=layers)
    assert count_params(net) == without_aux
    assert count_params(net, skip_auxiliary=False) == with_aux


def test_space_network_defaults_to_the_authors_candidate():
    with torch.device("meta"):
        net = NODE.network(DARTS_V2, 10)
    assert net.feature_dim == 512  # NetworkCandidate(C=32, layers=8)'s embedding width
    assert count_params(net) == REFERENCE_PARAMS[("DARTS_V2", 32, 8, 10)][0]
    assert NODE.proxy_scale("paper") == {"C": 32, "layers": 8}
    assert NODE.proxy_scale("smoke") == {"C": 4, "layers": 2}
    assert EDGE.proxy_scale("quick") == {"C": 8, "layers": 3}
    with pytest.raises(HarnessError, match="unknown profile"):
        NODE.proxy_scale("huge")
    with pytest.raises(HarnessError, match="unknown scale"):
        NODE.network(DARTS_V2, 10, N=5)
    with pytest.raises(HarnessError, match="C must be a positive integer"):
        NODE.network(DARTS_V2, 10, C=0)


def test_small_network_forward_features_and_classifier():
    torch.manual_seed(0)
    net = EDGE.network(DARTS_V1, 7, **EDGE.proxy_scale("smoke")).eval()
    x = torch.randn(2, 3, 32, 32)
    logits = net(x)
    assert logits.shape == (2, 7) and net.feature_dim == 16 * 4
    assert net.features(x).shape == (2, net.feature_dim)
    assert isinstance(net.classifier, torch.nn.Linear)
    assert torch.allclose(net.classifier(net.features(x)), logits)


def test_evaluation_network_returns_aux_logits_in_training_and_drops_paths():
    torch.manual_seed(0)
    net = evaluation_network(DARTS_V2, num_classes=10, C=4, layers=3, drop_path_prob=0.0).eval()
    x = torch.randn(2, 3, 32, 32)
    logits_eval, aux_eval = net(x)
    assert logits_eval.shape == (2, 10) and aux_eval is None
    net.drop_path_prob = 0.5
    assert torch.equal(net(x)[0], logits_eval)  # drop-path acts in training only
    outs = []
    for seed in (1, 1, 2):
        torch.manual_seed(seed)
        logits, aux = net.train()(x)  # batch statistics: running stats do not matter
        assert aux is not None and aux.shape == (2, 10)
        outs.append(logits)
    assert torch.equal(outs[0], outs[1]) and not torch.allclose(outs[0], outs[2])


def test_reduction_cells_at_thirds_with_factorized_skip():
    reduce = (("skip_connect", 0), ("avg_pool_3x3", 1), *DARTS_V2.reduce[2:])
    net = EvaluationNetwork(Genotype(DARTS_V2.normal, reduce), c=4, layers=6, auxiliary=False)
    assert [cell.reduction for cell in net.cells] == [False, False, True, False, True, False]
    skip, pool, skip_node0 = net.cells[2].ops[0], net.cells[2].ops[1], net.cells[2].ops[2]
    assert type(skip).__name__ == "FactorizedReduce" and isinstance(skip_node0, torch.nn.Identity)
    assert isinstance(pool, torch.nn.AvgPool2d) and pool.stride == 2  # no BatchNorm after it
    assert type(net.cells[3].preprocess0).__name__ == "FactorizedReduce"
    assert net.cells[0].ops[0].__class__.__name__ == "SepConv"


def test_named_text_and_json_forms_round_trip():
    assert parse_genotype(V2_TEXT) == DARTS_V2 == parse_genotype("DARTS_V2") == NODE.parse("darts")
    assert parse_genotype("DARTS_V1") == DARTS_V1 != DARTS_V2
    assert format_genotype(DARTS_V2) == V2_TEXT
    assert parse_genotype(DARTS_V2.to_json()) == DARTS_V2
    assert json.loads(DARTS_V1.to_json())["reduce_concat"] == [2, 3, 4, 5]
    ranged = V2_TEXT.replace("[2, 3, 4, 5]", "range(2, 6)")
    assert parse_genotype(ranged) == DARTS_V2
    rng = np.random.default_rng(0)
    for _ in range(50):
        g = NODE.sample(rng)
        assert NODE.parse(NODE.format(g)) == g == parse_genotype(g.to_json())


BAD = [
    "",
    "DARTS_V3",
    "Genotype(",
    "Genotype(normal=[], reduce=[])",
    V2_TEXT.replace("sep_conv_3x3", "sep_conv_7x7", 1),
    V2_TEXT.replace("('sep_conv_3x3', 0)", "('none', 0)", 1),
    V2_TEXT.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"),
    V2_TEXT.replace("('sep_conv_3x3', 1)", "('sep_conv_3x3', 0)", 1),  # node 0 reads 0 twice
    V2_TEXT.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[4, 5]"),
    V2_TEXT.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(0, 10**12)"),
    V2_TEXT.replace("Genotype(", "Genome("),
    V2_TEXT.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', '0')", 1),
    V2_TEXT.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', __import__('os'))", 1),
    '{"normal": [["sep_conv_3x3", 0]], "reduce": []}',
    '{"normal": 3, "reduce": 4}',
    "[1, 2]",
]


@pytest.mark.parametrize("text", BAD)
def test_malformed_genotypes_raise_one_quoting_line(text):
    with pytest.raises(GenotypeError) as info:
        NODE.parse(text)
    message = str(info.value)
    assert isinstance(info.value, HarnessError) and isinstance(info.value, ValueError)
    assert "\n" not in message and message


def _relabel(g: Genotype, cell: str, order: tuple[int, ...]) -> Genotype:
    """New node k = old node order[k], pairs of each node swapped."""
    new_of = {old + 2: new + 2 for new, old in enumerate(order)}
    pairs = g.cell(cell)
    out = []
    for old in order:
        a, b = pairs[2 * old : 2 * old + 2]
        out += [(op, new_of.get(src, src)) for op, src in (b, a)]
    cells = {"normal": g.normal, "reduce": g.reduce, cell: tuple(out)}
    return Genotype(cells["normal"], cells["reduce"])


def _shapes(g: Genotype) -> Counter:
    with torch.device("meta"):
        net = NODE.network(g, 10, C=4, layers=3)
    return Counter(tuple(p.shape) for p in net.parameters())


def test_key_merges_pair_order_and_node_renumbering_only():
    # DARTS_V1's reduction nodes 1 and 2 are the same node written in two pair orders
    reduce_nodes = canonical_key(DARTS_V1).split(";")[1].split("/")
    assert reduce_nodes.count("max_pool_3x3~0+skip_connect~2") == 2
    rng = np.random.default_rng(1)
    merged = 0
    for _ in range(200):
        g = NODE.sample(rng)
        for order in ((1, 0, 2, 3), (0, 2, 1, 3), (0, 1, 3, 2)):
            try:
                h = _relabel(g, "normal", order)
            except GenotypeError:
                continue  # that order would make a node read a later one
            merged += 1
            assert canonical_key(h) == canonical_key(g) and h != g
    assert merged > 100
    g = NODE.sample(rng)
    assert _shapes(_relabel(g, "reduce", (0, 1, 2, 3))) == _shapes(g)
    # sharing differs: nodes 0 and 1 are alike; A feeds node 0 into nodes 2 and 3, B feeds node 0
    # into node 2 and node 1 into node 3. Same per-node expressions, different networks.
    base = [("sep_conv_3x3", 0), ("sep_conv_3x3", 1)] * 2
    node2 = (("skip_connect", 2), ("max_pool_3x3", 0))
    a = Genotype((*base, *node2, ("avg_pool_3x3", 2), ("sep_conv_5x5", 1)), DARTS_V2.reduce)
    b = Genotype((*base, *node2, ("avg_pool_3x3", 3), ("sep_conv_5x5", 1)), DARTS_V2.reduce)
    assert canonical_key(a) != canonical_key(b)
    assert canonical_key(DARTS_V1) != canonical_key(DARTS_V2)


def test_node_encoding_is_one_assignment_per_genotype():
    rng = np.random.default_rng(2)
    for _ in range(200):
        g = NODE.sample(rng)
        assert NODE.decode(NODE.encode(g)) == g.normalized()
    assert NODE.decode(NODE.encode(DARTS_V1)) == DARTS_V1.normalized()
    assert DARTS_V1.normalized() != DARTS_V1
    assert canonical_key(DARTS_V1.normalized()) == canonical_key(DARTS_V1)
    with pytest.raises(GenotypeError, match="normal_node1_inputs"):
        NODE.decode({**NODE.encode(DARTS_V2), "normal_node1_inputs": "2_2"})


def _one_hot_softmax(cells: list[list[str]]) -> np.ndarray:
    """float32 softmax of the authors' logits: 100 on each edge's chosen op, 0 elsewhere."""
    codes = torch.tensor([[PRIMITIVES.index(op) for op in ops] for ops in cells])
    logits = 100.0 * torch.nn.functional.one_hot(codes, len(PRIMITIVES)).float()
    return torch.softmax(logits, dim=-1).numpy()


def _authors_parse(w: np.ndarray) -> list[tuple[str, int]]:
    """Independent oracle on one cell's weights: DARTS's ranking rule (stable sort of a node's
    edges by their best non-`none` weight, descending; on each, the first maximal op)."""
    gene, start = [], 0
    for i in range(4):
        rows = w[start : start + i + 2]
        edges = sorted(range(i + 2), key=lambda j: -max(rows[j][1:]))[:2]
        for j in edges:
            k = 1 + max(range(7), key=lambda k: (rows[j][1 + k], -k))
            gene.append((PRIMITIVES[k], j))
        start += i + 2
    return gene


def test_edge_decoding_reproduces_the_authors_genotype_rule():
    rng = np.random.default_rng(3)
    # skew towards `none` so nodes with fewer than two live edges come up often
    cells = [
        [PRIMITIVES[int(rng.integers(1, 8))] if live else "none" for live in rng.random(14) < 0.5]
        for _ in range(300)
    ]
    assert len({tuple(c[9:]) for c in cells}) > 250
    for ops, w in zip(cells, _one_hot_softmax(cells)):
        assert list(_parse_cell_edges(ops)) == _authors_parse(w)
    all_none = _parse_cell_edges(["none"] * 14)
    assert all_none[:2] == (("max_pool_3x3", 0), ("max_pool_3x3", 1))
    one_live = ["none"] * 9 + ["none", "none", "none", "sep_conv_3x3", "none"]  # node 3: edge 3
    assert _parse_cell_edges(one_live)[6:] == (("sep_conv_3x3", 3), ("max_pool_3x3", 0))


def test_edge_encoding_decodes_back_to_every_genotype():
    rng = np.random.default_rng(4)
    for g in [DARTS_V1, DARTS_V2, *(NODE.sample(rng) for _ in range(200))]:
        params = EDGE.encode(g)
        assert sum(v != "none" for v in params.values()) == 16
        assert EDGE.decode(params) == g.normalized()
    with pytest.raises(GenotypeError, match="normal_ops_00"):
        EDGE.decode({**EDGE.encode(DARTS_V2), "normal_ops_00": "conv_7x7"})


def _reads_only_inputs(p: Fraction, n: int) -> Fraction:
    """P(a node with n candidate edges keeps edges 0 and 1) under the authors' rule, each edge
    non-`none` with probability p: both live; or one live and no other edge live; or none live."""
    q = 1 - p
    return p * p + 2 * p * q * q ** (n - 2) + q**n


def test_only_previous_cells_share_matches_the_exact_probabilities():
    p = Fraction(7, 8)
    for i in range(4):  # the closed form agrees with enumerating every op assignment of a node
        hits = 0
        for ops in product(PRIMITIVES, repeat=i + 2):
            pad = ["sep_conv_3x3"] * sum(k + 2 for k in range(i))
            pairs = _parse_cell_edges([*pad, *ops, *(["none"] * (14 - len(pad) - i - 2))])
            hits += {src for _, src in pairs[2 * i : 2 * i + 2]} == {0, 1}
        assert Fraction(hits, 8 ** (i + 2)) == _reads_only_inputs(p, i + 2)
    exact = {
        "darts": sum(Fraction(1, (i + 2) * (i + 1) // 2) for i in range(4)) / 4,  # 2/5
        "darts-edge": sum(_reads_only_inputs(p, i + 2) for i in range(4)) / 4,  # 0.83257...
    }
    assert exact["darts"] == Fraction(2, 5)
    for space in (NODE, EDGE):
        rng = np.random.default_rng(2024)
        n = only = 0
        for _ in range(10_000):
            g = space.decode(space.param_space.sample(rng))
            for cell in ("normal", "reduce"):
                for i in range(4):
                    n += 1
                    only += {src for _, src in g.node(cell, i)} == {0, 1}
        share = only / n
        print(f"{space.name}: {share:.4f} of nodes read only c_(k-2), c_(k-1)")
        assert abs(share - float(exact[space.name])) < 0.005  # ~4 standard errors


def test_sampling_is_seeded_unique_and_mutation_changes_one_parameter():
    a = NODE.sample_unique(30, np.random.default_rng(5))
    b = EDGE.sample_unique(30, np.random.default_rng(5))
    assert [NODE.format(g) for g in a] == [EDGE.format(g) for g in b]
    assert len({canonical_key(g) for g in a}) == 30
    rng = np.random.default_rng(6)
    for g in a:
        child = NODE.mutate(g, rng)
        before, after = NODE.encode(g), NODE.encode(child)
        assert sum(before[k] != after[k] for k in before) == 1
        assert EDGE.mutate(g, np.random.default_rng(0)) == NODE.mutate(g, np.random.default_rng(0))
    with pytest.raises(HarnessError):
        NODE.sample_unique(0, rng)


def test_draw_labels_every_op_and_node():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    NODE.draw(ax, DARTS_V2, title="DARTS_V2", title_color="red", subtitle="3.3 M", fontsize=6)
    texts = [t.get_text() for t in ax.texts]
    assert Counter(texts)["sep3"] == 5 and Counter(texts)["max"] == 5 and "dil3" in texts
    assert Counter(texts)["$c_{k}$"] == 2 and "3.3 M" in texts and "reduction" in texts
    assert ax.get_title() == "DARTS_V2"
    EDGE.draw(ax, "DARTS_V1")
    plt.close(fig)


@pytest.mark.parametrize("space", [NODE, EDGE], ids=lambda s: s.name)
def test_every_strategy_proposes_genotypes_in_both_encodings(space):
    from harness.strategies import STRATEGIES, make_strategy

    for name in STRATEGIES.names():
        if STRATEGIES.origin(name) != "built-in":
            continue  # a plugin's strategies are checked by its own tests
        strategy = make_strategy(name, space.param_space, 0)
        for _ in range(3):
            suggestion = strategy.ask()
            g = space.decode(suggestion.params)
            strategy.tell(suggestion.number, float(len(canonical_key(g)) % 5))
