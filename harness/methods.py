"""Methods: named presets of strategy + proxy + settings (`csnas` = hyperopt TPE + contrastive)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.registry import Registry


@dataclass(frozen=True)
class Method:
    """A named preset: a registered strategy and proxy with their settings.

    Attributes:
        name: The registered name (`harness run --method NAME`).
        strategy: A name in `STRATEGIES`.
        proxy: A name in `PROXIES`.
        description: One line for `harness list`.
        strategy_settings: Overrides passed to the strategy's factory.
        proxy_settings: Overrides passed to the proxy's factory.
        default_trials: Trials per run when the plan does not say.
    """

    name: str
    strategy: str
    proxy: str
    description: str
    strategy_settings: dict[str, Any] = field(default_factory=dict)
    proxy_settings: dict[str, Any] = field(default_factory=dict)
    default_trials: int = 100


METHODS: Registry[Method] = Registry("method")
#: the proxy of a strategy run without one: the benchmark's own 12-epoch validation accuracy
DEFAULT_PROXY = "lookup-12"

for _m in (
    Method("random", "random", "lookup-12", "uniform random search"),
    Method("rea", "rea", "lookup-12", "regularised evolution (population 10, sample 3)"),
    Method("tpe", "tpe-hyperopt", "lookup-12", "hyperopt TPE with CSNAS's settings"),
    Method("tpe-optuna", "tpe-optuna", "lookup-12", "optuna TPE, every flag explicit"),
    Method(
        "bo-gp",
        "gp",
        "lookup-12",
        "GP Bayesian optimisation (scikit-optimize; archived upstream, kept for continuity)",
    ),
    Method("gp-optuna", "gp-optuna", "lookup-12", "GP Bayesian optimisation (optuna GPSampler)"),
    Method("smac", "smac", "lookup-12", "SMAC3 random-forest Bayesian optimisation"),
    Method("reinforce", "reinforce", "lookup-12", "REINFORCE as NATS-Bench ran it"),
    Method("local-search", "local-search", "lookup-12", "local search as NASLib runs it"),
    Method(
        "csnas",
        "tpe-hyperopt",
        "contrastive",
        "CSNAS: hyperopt TPE + contrastive self-supervised proxy (no labels)",
    ),
    Method(
        "tpe-written",
        "tpe-hyperopt",
        "lookup-12",
        "hyperopt TPE with the CSNAS authors' written-down, unused gamma 0.2 / 20,000 candidates",
        strategy_settings={"preset": "written"},
    ),
    Method(
        "csnas-simclr",
        "tpe-hyperopt",
        "contrastive",
        "CSNAS search with SimCLR NT-Xent and strong augmentation instead of PIRL",
        proxy_settings={"variant": "simclr"},
    ),
    Method(
        "supervised-tpe",
        "tpe-hyperopt",
        "supervised",
        "the same TPE + supervised proxy at the same compute",
    ),
    *(
        Method(
            f"{proxy}-tpe",
            "tpe-hyperopt",
            proxy,
            f"hyperopt TPE (the `tpe` settings) + the {label} zero-cost proxy ({labels})",
        )
        for proxy, label, labels in (
            ("naswot", "NASWOT", "no labels"),
            ("synflow", "SynFlow", "no data, no labels"),
            ("swap", "SWAP-Score", "no labels"),
            ("az-nas", "AZ-NAS (log-rank aggregate vs a fixed reference)", "no data, no labels"),
            ("meco", "MeCo", "no labels"),
            ("vkdnw", "VKDNW", "no data, no labels"),
            ("zico", "ZiCo", "128 labels per cell"),
        )
    ),
    *(
        Method(
            f"{proxy}-rea",
            "rea",
            proxy,
            f"regularised evolution (the `rea` settings) + the {label} zero-cost proxy ({labels})",
        )
        for proxy, label, labels in (
            # the 0-label recipe fixed before any search result: AZ-NAS's published
            # aggregation, evolutionary search as AZ-NAS's own search
            ("az-nas", "AZ-NAS (log-rank aggregate vs a fixed reference)", "no data, no labels"),
            # the strongest label-free proxy of the 200-cell study table when the searches
            # started (MeCo, rho 0.904 over 3 proxy seeds), as the SWAP paper searched
            ("meco", "MeCo", "no labels"),
        )
    ),
):
    METHODS.register(_m.name, _m)


def compose(strategy: str, proxy: str, strategy_settings: dict[str, Any] | None = None) -> Method:
    """Any registered strategy with any proxy (`harness run --strategy S --proxy P`).

    The preset that is exactly this pairing (same strategy, proxy and strategy settings, no
    proxy settings of its own) is returned as it is, so `--strategy rea --proxy meco` and
    `--method meco-rea` are one experiment with one set of runs. Any other pairing is named by
    both, `rea+meco`, with non-default strategy settings in brackets
    (`rea[population_size=20]+meco`): two pairings in one store never share a name. With the
    default proxy (the table lookup) the strategy alone names it, as `random` and `rea` do."""
    settings = dict(strategy_settings or {})
    for _, m in METHODS.items():
        if (m.strategy, m.proxy, m.strategy_settings, m.proxy_settings) == (
            strategy,
            proxy,
            settings,
            {},
        ):
            return m
    name = strategy + _bracket(settings) + ("" if proxy == DEFAULT_PROXY else "+" + proxy)
    return Method(
        name,
        strategy,
        proxy,
        f"strategy {strategy} with proxy {proxy}",
        strategy_settings=settings,
    )


def _bracket(settings: dict[str, Any]) -> str:
    """`[key=value,...]` in key order, each value as JSON (`12` and `"12"` stay apart), or ''
    for none."""
    if not settings:
        return ""
    import json

    from harness import HarnessError

    parts = []
    for key, value in sorted(settings.items()):
        try:
            parts.append(f"{key}={json.dumps(value, sort_keys=True)}")
        except (TypeError, ValueError):
            raise HarnessError(
                f"strategy setting {key!r} must be a JSON value (number, string, true/false, "
                f"list, dict or null), got {type(value).__name__}"
            ) from None
    return "[" + ",".join(parts) + "]"
