"""Numeric input of the effects layer: one conversion for every array argument, naming the bad entry."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["as_numeric"]


def as_numeric(values, *, name: str, caller: str = "effect_sizes") -> np.ndarray:
    """1-d float array; missing values (None, NaN, pd.NA) become NaN, anything else non-numeric is an error.

    The error names the argument, the position and the value found.
    """
    if isinstance(values, (str, bytes)):
        raise ParameterError(f"The '{name}' parameter of {caller} must be numeric. Got {values!r} instead.")
    out = _fast_float(values)
    if out is not None:
        return _check_finite(out, name, caller)
    seq = values.to_numpy(dtype=object) if isinstance(values, (pd.Series, pd.Index)) else values
    arr = np.atleast_1d(np.asarray(seq, dtype=object))
    if arr.ndim != 1:
        raise ParameterError(f"The '{name}' parameter of {caller} must be one-dimensional; got shape {arr.shape}.")
    out = np.empty(arr.shape[0], dtype=float)
    for i, v in enumerate(arr):
        if v is None or v is pd.NA or v is pd.NaT:
            out[i] = np.nan
            continue
        if isinstance(v, (str, bytes, bool, np.bool_)):
            raise ParameterError(f"The '{name}' parameter of {caller} must be numeric; "
                                 f"position {i} is {v!r}.")
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise ParameterError(f"The '{name}' parameter of {caller} must be numeric; "
                                 f"position {i} is {v!r}.") from None
    return _check_finite(out, name, caller)


def _fast_float(values):
    """Plain numeric input (numbers, numeric arrays/Series incl. nullable ones) converted without a loop."""
    try:
        if isinstance(values, (pd.Series, pd.Index)):
            if values.dtype == object or values.dtype == bool or pd.api.types.is_string_dtype(values.dtype):
                return None
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(values)
            if arr.dtype.kind not in "iuf":
                return None
            arr = arr.astype(float)
    except (TypeError, ValueError):
        return None
    return np.atleast_1d(arr) if arr.ndim <= 1 else None


def _check_finite(out: np.ndarray, name: str, caller: str) -> np.ndarray:
    if np.any(np.isinf(out)):
        i = int(np.flatnonzero(np.isinf(out))[0])
        raise ParameterError(f"The '{name}' parameter of {caller} must contain finite numbers or missing "
                             f"values; position {i} is {float(out[i])!r}.")
    return out
