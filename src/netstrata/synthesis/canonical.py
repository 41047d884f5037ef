"""Canonical row order: the analyses read every table sorted by its content, never by file order.

Floating-point sums depend on the order of their terms, so a network fitted from the same rows in
another order can differ in the last bits. :func:`canonical_review` sorts each table of a review
by its key columns (the table's declared unique key, :data:`netstrata.data.spec.TABLES`), then by
every other column as text, so a review whose rows are shuffled gives byte-identical results
(``results.json``); the spreadsheet row numbers (the index) travel with their rows.
"""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..data.spec import TABLES

__all__ = ["canonical_review", "canonical_frame"]


def _text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def canonical_frame(frame: pd.DataFrame, key=()) -> pd.DataFrame:
    """``frame`` sorted by ``key`` columns, then the others (in sorted name order), compared as
    text; numbers in key columns compare as numbers. The index is kept."""
    if len(frame) < 2:
        return frame
    cols = [c for c in key if c in frame.columns]
    cols += sorted(c for c in frame.columns if c not in cols)

    def sort_key(c):
        col = frame[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            return [(0, float(v)) if np.isfinite(v) else (1, 0.0) for v in col.to_numpy(float)]
        return [(0, _text(v)) for v in col]

    keys = [sort_key(c) for c in cols]
    order = sorted(range(len(frame)), key=lambda i: tuple(k[i] for k in keys))
    return frame.iloc[order]


def canonical_review(review):
    """A copy of ``review`` whose tables are in canonical row order (see the module docstring)."""
    tables = {name: canonical_frame(frame, getattr(TABLES.get(name), "key", ()))
              for name, frame in review.tables.items()}
    return replace(review, tables=MappingProxyType(tables))
