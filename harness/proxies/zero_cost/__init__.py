"""Zero-cost proxies computed from the untrained network of any space that builds networks.

One module per proxy; `common` holds the shared settings, batch, network and Evaluation code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from harness.proxies import PROXIES

TAG = "zero-cost"


class _Tagged(Mapping[str, Callable[..., Any]]):
    """A live view: the proxies registered with the "zero-cost" tag (a plugin's too), in
    registration order, each factory imported when it is looked up."""

    def __getitem__(self, name: str) -> Callable[..., Any]:
        if name not in PROXIES.tagged(TAG):
            raise KeyError(name)
        return PROXIES.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(PROXIES.tagged(TAG))

    def __len__(self) -> int:
        return len(PROXIES.tagged(TAG))


#: proxy name -> factory, in the order the tables show them
ZERO_COST: Mapping[str, Callable[..., Any]] = _Tagged()

__all__ = ["TAG", "ZERO_COST"]
