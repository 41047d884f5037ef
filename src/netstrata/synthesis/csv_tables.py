"""The CSV text of a run's tables, fast: ``safe_csv_frame(frame).to_csv(...)`` byte for byte.

``tables/*.csv`` are written with ``float_format="%.17g"`` (every double read back exactly), text
cells neutralised for spreadsheets (:func:`netstrata._text.safe_csv_frame`) and ``"\\n"`` line
ends. pandas formats and quotes every cell in Python; a multiverse of 1,000 specifications has a
curve of about 300,000 rows (110 MB), which took pandas 6 s. Here each column is formatted at
once (``"%.17g"`` for float64, ``str`` for integers and booleans) and every distinct text value is
neutralised and quoted once, by the ``csv`` module itself (as pandas quotes: ``QUOTE_MINIMAL``).
A table with a column of any other kind (dates, categories, objects other than text, numbers
and missing values) is written by pandas as before.
"""
from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd

from .._text import neutralise_cell, safe_csv_frame

__all__ = ["csv_text"]

_PLAIN = (str, int, float, bool)


def csv_text(frame: pd.DataFrame) -> str:
    """``safe_csv_frame(frame).to_csv(index=False, float_format="%.17g", lineterminator="\\n")``."""
    simple = frame.shape[1] and not isinstance(frame.columns, pd.MultiIndex)
    quote = _Quoter()
    columns = [_column(frame.iloc[:, i], quote) for i in range(frame.shape[1])] if simple else None
    if columns is None or any(c is None for c in columns):
        return safe_csv_frame(frame).to_csv(index=False, float_format="%.17g", lineterminator="\n")
    names = [neutralise_cell(str(c)) if isinstance(c, str) else c for c in frame.columns]
    header = ",".join(quote(n if isinstance(n, str) else str(n)) for n in names)
    return "\n".join([header, *map(",".join, zip(*columns))]) + "\n"


def _column(col: pd.Series, quote) -> list[str] | None:
    """The cells of one column as written, or None for pandas to write the table."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype == np.float64:
        arr = col.to_numpy()
        repeated = _repeated(arr, lambda x: "%.17g" % x, signed_zeros=True)
        if repeated is not None:
            return repeated
        out = ["%.17g" % x for x in arr.tolist()]
        for i in np.flatnonzero(np.isnan(arr)).tolist():
            out[i] = ""
        return out
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        arr = col.to_numpy()
        repeated = _repeated(arr, str)
        return repeated if repeated is not None else [str(v) for v in arr.tolist()]
    if not (dtype == object or pd.api.types.is_string_dtype(dtype)):
        return None
    if isinstance(dtype, pd.StringDtype) or pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(col, use_na_sentinel=True)     # text: each distinct value once
        cells = np.array([quote(neutralise_cell(u)) for u in uniques] + [""], dtype=object)
        return cells[codes].tolist()
    values = col.tolist()
    if not all(v is None or type(v) in _PLAIN for v in values):
        return None
    return [quote(_cell(v)) for v in values]


def _repeated(arr: np.ndarray, fmt, signed_zeros: bool = False) -> list[str] | None:
    """The cells of a numeric column with many repeated values, each distinct value formatted once
    (NaN empty); None when most values are distinct, or when both 0.0 and -0.0 occur (hashing
    takes them as one value; ``"%.17g"`` writes them as "0" and "-0")."""
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    if 2 * len(uniques) >= len(arr):
        return None
    if signed_zeros:
        zero = arr == 0
        if zero.any() and np.signbit(arr[zero]).any() and not np.signbit(arr[zero]).all():
            return None
    cells = np.array([fmt(x) for x in uniques.tolist()] + [""], dtype=object)    # code -1 (NaN): ""
    return cells[codes].tolist()


def _cell(value) -> str:
    """A text column's cell before quoting: text neutralised, missing empty, numbers as ``csv``
    writes them (``str``)."""
    if value is None or (type(value) is float and math.isnan(value)):
        return ""
    if type(value) is str:
        return neutralise_cell(value)
    return str(value)


class _Quoter:
    """A text cell as the ``csv`` module writes it in a row of several cells (each distinct value
    quoted once)."""

    def __init__(self):
        self.done: dict[str, str] = {"": ""}
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")

    def __call__(self, value: str) -> str:
        out = self.done.get(value)
        if out is None:
            self.buffer.seek(0)
            self.buffer.truncate()
            self.writer.writerow([value, ""])          # "<value>,\n" with the value quoted as needed
            out = self.done[value] = self.buffer.getvalue()[:-2]
        return out
