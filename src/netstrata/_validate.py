"""Boundary checks for public functions: one message format for every bad argument."""
from __future__ import annotations

from typing import Collection

import numpy as np

from .errors import ParameterError, closest

__all__ = ["check_option", "check_level", "as_float_array", "check_same_length"]


def check_option(value, *, name: str, allowed: Collection[str], caller: str, ignore_case: bool = True):
    """Return the canonical spelling of ``value`` if it is one of ``allowed``.

    >>> check_option("reml", name="method", allowed=["DL", "REML"], caller="pairwise")
    'REML'
    """
    if isinstance(value, str):
        for a in allowed:
            if value == a or (ignore_case and value.lower() == a.lower()):
                return a
    shown = "{" + ", ".join(repr(a) for a in allowed) + "}"
    hint = closest(value, allowed) if isinstance(value, str) else None
    tail = f" Did you mean {hint!r}?" if hint and hint != value else ""
    raise ParameterError(
        f"The '{name}' parameter of {caller} must be one of {shown}. Got {value!r} instead.{tail}"
    )


def check_level(level, *, caller: str) -> float:
    """Accept a confidence level as 0.95 or 95 (metafor's style); return it as a fraction."""
    try:
        lv = float(level)
    except (TypeError, ValueError):
        lv = float("nan")
    if 1 < lv < 100:
        lv = lv / 100
    if not 0 < lv < 1:
        raise ParameterError(
            f"The 'level' parameter of {caller} must be a number in (0, 1) or (1, 100). Got {level!r} instead."
        )
    return lv


def as_float_array(values, *, name: str, caller: str, finite: bool = True,
                   nonnegative: bool = False, positive: bool = False, allow_empty: bool = False) -> np.ndarray:
    """Convert ``values`` to a 1-d float array, naming the argument and position of any bad entry."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(
            f"The '{name}' parameter of {caller} must be numeric. Got {values!r} instead."
        ) from None
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise ParameterError(f"The '{name}' parameter of {caller} must be one-dimensional; got shape {arr.shape}.")
    if arr.size == 0 and not allow_empty:
        raise ParameterError(f"The '{name}' parameter of {caller} is empty; at least one value is required.")
    if finite and not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ParameterError(
            f"The '{name}' parameter of {caller} must contain finite numbers; position {i} is {float(arr[i])!r}."
        )
    if positive and np.any(arr <= 0):
        i = int(np.flatnonzero(arr <= 0)[0])
        raise ParameterError(
            f"The '{name}' parameter of {caller} must be positive; position {i} is {float(arr[i])!r}."
        )
    if nonnegative and np.any(arr < 0):
        i = int(np.flatnonzero(arr < 0)[0])
        raise ParameterError(
            f"The '{name}' parameter of {caller} must be non-negative; position {i} is {float(arr[i])!r}."
        )
    return arr


def check_same_length(caller: str, **arrays) -> int:
    """All arrays passed by keyword must have one length; return it."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise ParameterError(f"The arguments of {caller} must have the same length; got {shown}.")
    return next(iter(lengths.values()), 0)
