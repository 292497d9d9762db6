"""The committed reference experiments and their checks (`harness reference ...`).

`lookup`: the lookup-track experiment (12,000 trials); `proxy_track`: the label-free proxy track;
`zero_cost`: 160+ zero-cost scores at a small network scale. Their files live in the
checkout's `results/reference/` (`REFERENCE_DIR`; `$HARNESS_REFERENCE_DIR` points elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

#: results/reference/ of the checkout this package belongs to (or $HARNESS_REFERENCE_DIR)
REFERENCE_DIR = Path(
    os.environ.get("HARNESS_REFERENCE_DIR")
    or Path(__file__).resolve().parents[2] / "results" / "reference"
)
