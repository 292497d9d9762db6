"""The conformance kit: pytest classes that check a plugin keeps the harness's contracts.

Subclass one class per object, give it a case (what to build and at what size), and pytest
runs every check on it (modelled on optuna's `optuna.testing.pytest_samplers`):

```python
from harness.testing import StrategyCase, StrategyConformance


class TestMyStrategy(StrategyConformance):
    case = StrategyCase("my-strategy", plugins=("mylab_nas",))
```

- `StrategyConformance` with a `StrategyCase`: valid numbered suggestions; the same
  suggestions for the same seed and tells, also in a fresh process; another seed differs;
  resume (a fresh object replaying a stored run) continues identically; failed trials;
  pending trials; unknown or repeated tells raise; settings JSON round trip.
- `ProxyConformance` with a `ProxyCase`: direction; the same score for the same seed (also
  in a fresh process), seed-independent when `deterministic`; the caller's random states
  untouched; `labels_used`; settings JSON round trip; a finite score on every cell of a
  seeded draw.
- `SpaceConformance` with a `SpaceCase`: parse/format and encode/decode round trips;
  canonical key stable and shared by given isomorphic pairs; seeded sampling; mutation
  stays valid; `network()` runs a forward pass at a tiny scale.
- `BenchmarkConformance` with a `BenchmarkCase`: metric names; its space is registered;
  truth in range where it has a table; a JSON manifest.

To run every check on several objects, override the class's case fixture with
`@pytest.fixture(params=...)` (the harness's own suite does this for every built-in).

The kit needs pytest, which is not a runtime dependency of the harness: install the
development extra (`pip install "csnas-harness[dev]"`) or pytest itself. Nothing in the
harness imports this package.
"""

from __future__ import annotations

try:
    import pytest
except ImportError as err:  # pragma: no cover - the dev extra installs pytest
    raise ImportError(
        'harness.testing needs pytest: pip install "csnas-harness[dev]" (or pytest)'
    ) from err

# pytest explains a failed `assert` (the values compared) only in modules it rewrites: test
# files, conftest, and these, named before they import
pytest.register_assert_rewrite(
    "harness.testing._common",
    "harness.testing.benchmarks",
    "harness.testing.proxies",
    "harness.testing.spaces",
    "harness.testing.strategies",
)

from harness.testing.benchmarks import BenchmarkCase, BenchmarkConformance  # noqa: E402
from harness.testing.proxies import ProxyCase, ProxyConformance  # noqa: E402
from harness.testing.spaces import SpaceCase, SpaceConformance  # noqa: E402
from harness.testing.strategies import StrategyCase, StrategyConformance, objective  # noqa: E402

__all__ = [
    "BenchmarkCase",
    "BenchmarkConformance",
    "ProxyCase",
    "ProxyConformance",
    "SpaceCase",
    "SpaceConformance",
    "StrategyCase",
    "StrategyConformance",
    "objective",
]
