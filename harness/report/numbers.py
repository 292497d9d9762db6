"""How one number is written in every table: fixed digits, "-" for missing, p-values."""

from __future__ import annotations

import math

import numpy as np


def fmt_num(v: object, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.{digits}f}"
    return str(v)


def fmt_p(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    f = float(v)  # type: ignore[arg-type]
    return "<0.001" if f < 0.001 else f"{f:.3f}"
