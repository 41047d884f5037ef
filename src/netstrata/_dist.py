"""Normal, t and chi-square distribution functions from ``scipy.special`` (bottom layer).

Importing ``scipy.stats`` costs about 0.4 s, a fifth of a small ``netstrata run``. Every call
netstrata made of it is one of the functions below, and ``scipy.stats`` computes each with
exactly these ``scipy.special`` calls (scipy 1.11-1.17: ``norm_gen``, ``t_gen``, ``chi2_gen``),
so the values are the same bits. The argument handling of ``rv_continuous`` (out-of-support
``x``, ``q`` of 0 or 1, NaN, ``df <= 0``) is reproduced; ``tests/test_dist.py`` checks both
against ``scipy.stats`` on a grid that includes those edges.

Scalars in give NumPy float64 scalars out, arrays give arrays, as ``scipy.stats`` does.
"""
from __future__ import annotations

import numpy as np
from scipy.special import chdtr, chdtrc, chdtri, gammaincinv, ndtr, ndtri, stdtr, stdtrit

__all__ = ["norm_cdf", "norm_sf", "norm_ppf", "norm_isf", "t_cdf", "t_sf", "t_ppf", "t_isf",
           "chi2_cdf", "chi2_sf", "chi2_ppf", "chi2_isf", "z_quantile"]


def _out(values):
    values = np.asarray(values, dtype=float)
    return values[()] if values.ndim == 0 else values


# ----------------------------------------------------------------- standard normal
def norm_cdf(x):
    """Φ(x) (``scipy.stats.norm.cdf``)."""
    return ndtr(x)


def norm_sf(x):
    """1 − Φ(x) = Φ(−x) (``scipy.stats.norm.sf``)."""
    return ndtr(-np.asarray(x, dtype=float))


def norm_ppf(q):
    """Φ⁻¹(q) (``scipy.stats.norm.ppf``)."""
    return ndtri(q)


def norm_isf(q):
    """Φ⁻¹(1 − q) = −Φ⁻¹(q) (``scipy.stats.norm.isf``)."""
    return -ndtri(q)


def z_quantile(level: float) -> float:
    """Two-sided normal critical value of a ``level`` interval: Φ⁻¹(1/2 + level/2)."""
    return float(ndtri(0.5 + level / 2))


# ----------------------------------------------------------------- Student t
def _t_valid(df):
    return np.asarray(df, dtype=float) > 0


def t_cdf(x, df):
    """``scipy.stats.t.cdf``: stdtr(df, x); NaN where df <= 0."""
    with np.errstate(invalid="ignore"):
        return _out(np.where(_t_valid(df), stdtr(df, x), np.nan))


def t_sf(x, df):
    """``scipy.stats.t.sf``: stdtr(df, −x); NaN where df <= 0."""
    with np.errstate(invalid="ignore"):
        return _out(np.where(_t_valid(df), stdtr(df, -np.asarray(x, dtype=float)), np.nan))


def _t_quantile(q, df, sign: float):
    q = np.asarray(q, dtype=float)
    with np.errstate(invalid="ignore"):
        out = sign * stdtrit(df, q)
        out = np.where(q == 0, -sign * np.inf, np.where(q == 1, sign * np.inf, out))
        return _out(np.where(_t_valid(df) & (q >= 0) & (q <= 1), out, np.nan))


def t_ppf(q, df):
    """``scipy.stats.t.ppf``: stdtrit(df, q); −inf at q = 0, inf at q = 1."""
    return _t_quantile(q, df, 1.0)


def t_isf(q, df):
    """``scipy.stats.t.isf``: −stdtrit(df, q); inf at q = 0, −inf at q = 1."""
    return _t_quantile(q, df, -1.0)


# ----------------------------------------------------------------- chi-square
def _chi2_tail(x, df, fn, at_zero: float):
    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(x <= 0, at_zero, np.where(np.isposinf(x), 1.0 - at_zero, fn(df, x)))
        return _out(np.where((df > 0) & ~np.isnan(x), out, np.nan))


def chi2_cdf(x, df):
    """``scipy.stats.chi2.cdf``: chdtr(df, x); 0 for x <= 0; NaN where df <= 0."""
    return _chi2_tail(x, df, chdtr, 0.0)


def chi2_sf(x, df):
    """``scipy.stats.chi2.sf``: chdtrc(df, x); 1 for x <= 0; NaN where df <= 0."""
    return _chi2_tail(x, df, chdtrc, 1.0)


def _chi2_quantile(q, df, fn, at_zero: float, at_one: float):
    q, df = np.asarray(q, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(q == 0, at_zero, np.where(q == 1, at_one, fn(q, df)))
        return _out(np.where((df > 0) & (q >= 0) & (q <= 1), out, np.nan))


def chi2_ppf(q, df):
    """``scipy.stats.chi2.ppf``: 2·gammaincinv(df/2, q); 0 at q = 0, inf at q = 1."""
    return _chi2_quantile(q, df, lambda q, df: 2 * gammaincinv(df / 2, q), 0.0, np.inf)


def chi2_isf(q, df):
    """``scipy.stats.chi2.isf``: chdtri(df, q); inf at q = 0, 0 at q = 1."""
    return _chi2_quantile(q, df, lambda q, df: chdtri(df, q), np.inf, 0.0)
