"""The committed reference experiments and their checks (`harness reference ...`).

`lookup`: the lookup-track experiment (12,000 trials); `proxy_track`: the label-free proxy track;
`zero_cost`: 160+ zero-cost scores at a small network scale. They rerun, compare or rewrite the
files a checkout of the repository commits under `results/reference/`, so they need one: the
checkout is `--checkout DIR` (default: the current directory), or `$HARNESS_REFERENCE_DIR`
names its `results/reference/` folder itself. The installed package never looks for a checkout
beside its own files: a wheel's site-packages has none.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness import HarnessError

#: names the reference folder itself (a checkout's results/reference/), when no --checkout
ENV = "HARNESS_REFERENCE_DIR"
#: where a checkout keeps the reference results
RELATIVE = Path("results") / "reference"
#: the zero-cost reference scores, in the reference folder
ZERO_COST_SCORES = Path("zero_cost") / "reference_scores.csv"


def reference_dir(checkout: str | Path | None = None) -> Path:
    """`results/reference/` of the checkout at `checkout`; without one, `$HARNESS_REFERENCE_DIR`
    if set, else `results/reference/` under the current directory (relative: it follows the
    working directory, as `.ci/run` and the nox sessions use it from the repository root)."""
    if checkout is not None:
        return Path(checkout) / RELATIVE
    return Path(os.environ.get(ENV) or RELATIVE)


def checkout_root(checkout: str | Path | None = None) -> Path:
    """The checkout itself: `checkout`, else the current directory (relative)."""
    return Path(checkout) if checkout is not None else Path(".")


def require_checkout(
    command: str, checkout: str | Path | None = None, needs: str | None = None
) -> Path:
    """The reference folder of the checkout `command` works on, or one line naming what is
    missing and the option that points at a checkout; called before any work is done.
    `needs`: a file (relative to the reference folder) the command reads."""
    ref = reference_dir(checkout)
    if not ref.is_dir():
        missing = ref
    elif needs is not None and not (ref / needs).exists():
        missing = ref / needs
    else:
        return ref
    if checkout is None and os.environ.get(ENV):
        where = f"${ENV} is {os.environ[ENV]}, and {missing.absolute()} does not exist"
    else:
        where = f"{missing.absolute()} does not exist"
    raise HarnessError(
        f"`{command}` needs a checkout of the csnas-harness repository (it reads, reruns or "
        f"rewrites its committed results): {where}; run it from the checkout's root or give "
        "--checkout DIR"
    )
