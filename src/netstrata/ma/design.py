"""Moderator tables → design matrices, as R's ``model.matrix`` does for ``mods = ~ a + factor(b)``.

Numeric columns enter as they are; non-numeric (or pandas categorical/boolean) columns become
treatment dummies with the first level as reference (levels sorted, as R's ``factor``; a pandas
``Categorical`` keeps its declared order). Columns that are linear combinations of earlier ones
are dropped with a warning, as metafor does ("Redundant predictors dropped from the model").
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError, StatisticalWarning

__all__ = ["Design", "design_matrix", "moderator_frame"]


@dataclass(frozen=True, slots=True, eq=False)
class Design:
    """A design matrix with its column names and the rows (studies) it keeps."""

    X: np.ndarray
    names: tuple[str, ...]
    rows: np.ndarray          # indices of the studies used (rows without missing moderators)
    intercept: bool
    dropped_columns: tuple[str, ...] = ()


def moderator_frame(moderators, k: int, caller: str) -> pd.DataFrame:
    """Accept a DataFrame, a dict of columns, a Series or a 1-d/2-d array; return a DataFrame."""
    if isinstance(moderators, pd.DataFrame):
        frame = moderators.reset_index(drop=True)
    elif isinstance(moderators, pd.Series):
        frame = moderators.reset_index(drop=True).to_frame(name=moderators.name or "x")
    elif isinstance(moderators, dict):
        frame = pd.DataFrame({str(n): list(c) if not hasattr(c, "__array__") else np.asarray(c)
                              for n, c in moderators.items()})
    else:
        arr = np.asarray(moderators)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ParameterError(f"The 'moderators' parameter of {caller} must be a table; got shape {arr.shape}.")
        frame = pd.DataFrame(arr, columns=[f"x{j + 1}" for j in range(arr.shape[1])])
    if len(frame) != k:
        raise ParameterError(f"The arguments of {caller} must have the same length; "
                             f"got effect={k}, moderators={len(frame)}.")
    return frame


def _is_categorical(col: pd.Series) -> bool:
    return (isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col)
            or not pd.api.types.is_numeric_dtype(col))


def _levels(col: pd.Series) -> list:
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna())
        return [c for c in col.cat.categories if c in present]
    return sorted(col.dropna().unique(), key=lambda x: (str(type(x)), x))


def _drop_redundant(X: np.ndarray, names: list[str], tol: float = 1e-7):
    """Keep columns not (numerically) spanned by earlier ones (R's lm pivoting, tol 1e-7)."""
    keep: list[int] = []
    for j in range(X.shape[1]):
        col = X[:, j]
        norm = np.linalg.norm(col)
        if keep:
            basis = X[:, keep]
            coef, *_ = np.linalg.lstsq(basis, col, rcond=None)
            resid = np.linalg.norm(col - basis @ coef)
        else:
            resid = norm
        if norm > 0 and resid > tol * norm:
            keep.append(j)
    dropped = tuple(names[j] for j in range(X.shape[1]) if j not in keep)
    return X[:, keep], [names[j] for j in keep], dropped


def design_matrix(frame: pd.DataFrame, *, intercept: bool, caller: str) -> Design:
    """Build the design; rows with a missing moderator are left out (listed in ``rows``)."""
    missing = frame.isna().any(axis=1).to_numpy()
    sub = frame.loc[~missing]
    blocks, names = [], []
    if intercept:
        blocks.append(np.ones((len(sub), 1)))
        names.append("intercept")
    full_coding = not intercept  # R: without intercept the first factor gets all its levels
    for name in sub.columns:
        col = sub[name]
        if _is_categorical(col):
            levels = _levels(col)
            first = 0 if full_coding else 1
            full_coding = False
            for lev in levels[first:]:
                blocks.append((col == lev).to_numpy(dtype=float)[:, None])
                names.append(f"{name}[{lev}]")
        else:
            blocks.append(col.to_numpy(dtype=float)[:, None])
            names.append(str(name))
    if not blocks:
        raise ParameterError(f"{caller}: the model has no columns (no intercept and no moderators).")
    X = np.hstack(blocks)
    X, names, dropped = _drop_redundant(X, names)
    if dropped:
        warnings.warn(f"{caller}: redundant moderator columns dropped from the model: {', '.join(dropped)}.",
                      StatisticalWarning, stacklevel=3)
    return Design(X=X, names=tuple(names), rows=np.flatnonzero(~missing), intercept=intercept,
                  dropped_columns=dropped)
