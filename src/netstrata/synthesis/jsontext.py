"""Deterministic JSON of a run's results (``ProjectResult.to_json``, ``results.json``).

The convention:

* keys sorted, two-space indentation, UTF-8, a final newline;
* floats written with Python's ``repr`` (shortest text that reads back to the same double), so
  the same inputs give the same bytes on every run and platform with IEEE doubles;
* NaN and ±infinity become ``null`` (a missing or undefined number, e.g. tau² of a single
  study); ``-0.0`` is written as ``0.0``;
* no timestamp unless one is given to :func:`netstrata.synthesis.analyse_review` (``created``);
* effects are on the analysis scale (log for RR/OR), as in every netstrata result.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass

import msgspec
import numpy as np
import pandas as pd

__all__ = ["dumps", "encode", "encode_bytes", "jsonable"]


def _float(x: float):
    x = float(x)
    if not math.isfinite(x):
        return None
    return 0.0 if x == 0 else x


_INF = math.inf


def jsonable(obj):
    """Plain JSON types: dataclasses as dicts, tuples as lists, NaN as None, numpy scalars unwrapped."""
    t = type(obj)
    if t is str or t is bool or t is int or obj is None:         # the common exact types first,
        return obj                                                # as the general branches below
    if t is float:
        return obj if obj != 0 and -_INF < obj < _INF else _float(obj)
    if t is dict:           # a str or a finite non-zero float is its own conversion (no call)
        return _sorted({k if type(k) is str else str(k):
                        v if type(v) is str or (type(v) is float and v != 0 and -_INF < v < _INF) else jsonable(v)
                        for k, v in obj.items()})
    if t is list or t is tuple:
        return [v if type(v) is str or (type(v) is float and v != 0 and -_INF < v < _INF) else jsonable(v)
                for v in obj]
    return _general(obj)


def _general(obj):
    """:func:`jsonable` of anything that is not an exact str, bool, int, float, dict, list or tuple."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _float(obj)
    if isinstance(obj, Mapping):
        return _sorted({str(k): jsonable(v) for k, v in obj.items()})
    if isinstance(obj, pd.DataFrame):
        return _frame_records(obj)
    if isinstance(obj, (list, tuple, np.ndarray, pd.Series)):
        return [jsonable(v) for v in obj]
    if is_dataclass(obj):
        return _sorted({f.name: jsonable(getattr(obj, f.name)) for f in fields(obj)})
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def _sorted(d: dict) -> dict:
    """``d`` with its keys in sorted order (the order ``json.loads`` of :func:`dumps` gives)."""
    keys = list(d)
    return d if keys == sorted(keys) else {k: d[k] for k in sorted(keys)}


def _frame_records(frame: pd.DataFrame) -> list[dict]:
    """``[jsonable(r) for r in frame.to_dict("records")]``, a column at a time: float, integer
    and boolean columns are converted with NumPy (NaN/inf -> None, -0.0 -> 0.0, as
    :func:`_float`), other columns value by value (the values ``to_dict`` gives)."""
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):              # duplicate labels: to_dict's own semantics
        return [jsonable(r) for r in frame.to_dict("records")]
    order = sorted(range(len(names)), key=names.__getitem__)
    columns = [_column(frame.iloc[:, i]) for i in order]
    names = [names[i] for i in order]
    return [dict(zip(names, row)) for row in zip(*columns)] if columns else [{} for _ in range(len(frame))]


def _column(col: pd.Series) -> list:
    kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else None
    if kind == "f":
        arr = col.to_numpy()
        out = np.where(arr == 0, 0.0, arr).tolist()          # -0.0 -> 0.0
        for i in np.flatnonzero(~np.isfinite(arr)).tolist():
            out[i] = None
        return out
    if kind in ("i", "u", "b"):
        return col.to_numpy().tolist()
    values = col
    if isinstance(col.dtype, pd.StringDtype):    # text: the values iteration gives (str or the NA value),
        values = col.to_numpy(dtype=object).tolist()   # without a __getitem__ per element
    return [v if v is None or type(v) is str else jsonable(v) for v in values]


def dumps(payload) -> str:
    """Deterministic JSON text of ``payload`` (see the module docstring)."""
    return encode(jsonable(payload))


def encode(plain) -> str:
    """JSON text of ``plain``, a tree of plain JSON types (from :func:`jsonable`); see :func:`encode_bytes`."""
    return encode_bytes(plain).decode("utf-8")


def encode_bytes(plain) -> bytes:
    """The UTF-8 bytes of the JSON text of ``plain`` (what ``results.json`` holds).

    The standard library's C encoder writes compact JSON (keys sorted, floats as ``repr``) and
    ``msgspec.json.format`` indents it: the same bytes as ``json.dumps(..., indent=2)``, whose
    indenting encoder is pure Python and about 20 times slower on a large multiverse. The text
    goes to ``format`` as bytes (a ``str`` argument costs two more UTF-8 conversions of the whole
    text: 1.5 s instead of 0.5 s on a 230 MB multiverse)."""
    text = json.dumps(plain, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return msgspec.json.format(text.encode("utf-8"), indent=2) + b"\n"
