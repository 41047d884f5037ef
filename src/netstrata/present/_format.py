"""Rounding and number formatting: the only place in netstrata where numbers are rounded.

Results keep full precision (convention 10); tables, figure labels and the report call these
helpers. Missing values print as an en dash, p-values below 0.001 as ``<0.001``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Hashable, Mapping

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["MISSING", "fmt_num", "fmt_p", "fmt_ci", "fmt_estimate", "format_frame", "MeasureScale",
           "measure_scale", "check_frame"]

MISSING = "\u2013"  # en dash


def _is_missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


#: Bounds of ratios shown as numbers; beyond them "<0.01" / ">1000" (a ratio is never 0.00, and a
#: prediction interval of a sparse network can reach 10^9, which no reader can use as a number).
RATIO_FLOOR, RATIO_CEILING = 0.01, 1000.0


def fmt_num(x, digits: int = 2, *, ratio: bool = False) -> str:
    """``x`` rounded to ``digits`` decimals (``-0.00`` printed as ``0.00``); text is passed through.
    ``ratio=True`` (a back-transformed ratio): below 0.01 ``<0.01``, above 1000 ``>1000``."""
    if ratio and isinstance(x, (float, np.floating, int, np.integer)) and math.isfinite(x) and x > 0:
        if x < RATIO_FLOOR:
            return f"<{RATIO_FLOOR:g}"
        if x > RATIO_CEILING:
            return f">{RATIO_CEILING:g}"
    if _is_missing(x):
        return MISSING
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if not isinstance(x, (float, np.floating)):
        return str(x)
    if math.isinf(x):
        return "\u221e" if x > 0 else "\u2212\u221e"
    text = f"{x:.{digits}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def fmt_p(p, digits: int = 3) -> str:
    """A p-value: ``<0.001`` below 10^-digits, else rounded to ``digits`` decimals."""
    if _is_missing(p):
        return MISSING
    p = float(p)
    floor = 10.0 ** -digits
    return f"<{floor:.{digits}f}" if p < floor else f"{p:.{digits}f}"


def fmt_ci(low, high, digits: int = 2, *, ratio: bool = False) -> str:
    """``low to high`` (words, not a hyphen, so negative bounds stay readable)."""
    if _is_missing(low) and _is_missing(high):
        return MISSING
    return f"{fmt_num(low, digits, ratio=ratio)} to {fmt_num(high, digits, ratio=ratio)}"


def fmt_estimate(effect, low=None, high=None, digits: int = 2, *, ratio: bool = False) -> str:
    """``effect (low to high)``; just the effect when both bounds are missing."""
    est = fmt_num(effect, digits, ratio=ratio)
    if _is_missing(low) and _is_missing(high):
        return est
    return f"{est} ({fmt_ci(low, high, digits, ratio=ratio)})"


def _is_p_column(name) -> bool:
    name = str(name).lower()
    return name in ("pvalue", "p", "p_value") or name.endswith("_pvalue")


def format_frame(frame: pd.DataFrame, digits: int | Mapping[str, int] = 2, p_digits: int = 3,
                 ratio_columns=()) -> pd.DataFrame:
    """A copy of ``frame`` with every cell as display text.

    Parameters
    ----------
    frame : DataFrame
    digits : int or mapping column -> int, default=2
        Decimals for float columns; a mapping sets them per column (others use 2).
    p_digits : int, default=3
        Decimals for p-value columns (``pvalue`` or ``*_pvalue``).
    ratio_columns : iterable of str, optional
        Columns holding back-transformed ratios (``fmt_num(..., ratio=True)``).
    """
    out: dict[Hashable, list[str]] = {}
    ratios = set(ratio_columns)
    for col in frame.columns:
        values = frame[col].tolist()
        if _is_p_column(col):
            out[col] = [fmt_p(v, p_digits) for v in values]
        else:
            d = digits.get(col, 2) if isinstance(digits, Mapping) else digits
            out[col] = [fmt_num(v, d, ratio=col in ratios) for v in values]
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def check_frame(frame, required, *, name: str, caller: str) -> pd.DataFrame:
    """Validate that ``frame`` is a DataFrame holding the ``required`` columns."""
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"The '{name}' parameter of {caller} must be a pandas DataFrame. "
                             f"Got {type(frame).__name__} instead.")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ParameterError(f"The '{name}' parameter of {caller} must have the columns "
                             f"{list(required)}; missing {missing}. Found {list(frame.columns)}.")
    return frame


@dataclass(frozen=True, slots=True)
class MeasureScale:
    """How to show a measure: label, whether it is a ratio (log axis) and the back-transform.

    Read from :mod:`netstrata.effects.registry` (convention 6); unknown codes (e.g. a generic
    ``"effect"``) show on the identity scale.
    """

    code: str
    label: str
    is_ratio: bool
    back: Callable | None = field(default=None, repr=False)

    @property
    def null(self) -> float:
        """The no-effect value on the displayed (natural) scale."""
        return 1.0 if self.is_ratio else 0.0

    @property
    def axis_label(self) -> str:
        return f"{self.label} (log scale)" if self.is_ratio else self.label

    def natural(self, values) -> np.ndarray:
        """Analysis scale -> displayed scale (``exp`` for ratio measures)."""
        values = np.asarray(values, dtype=float)
        if not self.is_ratio:
            return values
        return np.asarray(self.back(values), dtype=float) if self.back is not None else np.exp(values)


# Ratio measures used in network input that are not escalc codes (analysed on the log scale).
_EXTRA_RATIOS = {"HR": "Hazard ratio"}


def measure_scale(measure=None) -> MeasureScale:
    """The :class:`MeasureScale` of a measure code (``None`` -> generic identity scale)."""
    if measure is None:
        return MeasureScale("", "Effect", False)
    if isinstance(measure, MeasureScale):
        return measure
    from ..effects.registry import MEASURES

    code = str(getattr(measure, "code", measure))
    if code.upper() in _EXTRA_RATIOS:
        return MeasureScale(code.upper(), _EXTRA_RATIOS[code.upper()], True)
    entry = MEASURES.get(code.upper())
    if entry is None:
        return MeasureScale(code, code, False)
    # Two-group log measures display as ratios; one-group transformed proportions stay on the
    # analysis scale (their back-transform is not a monotone exp and needs n for PFT).
    ratio = entry.is_ratio and entry.two_group
    return MeasureScale(entry.code, entry.label, ratio, entry.back_transform if ratio else None)
