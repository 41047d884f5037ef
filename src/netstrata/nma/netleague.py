"""The league table as netmeta's ``netleague`` lays it out: network estimates in the lower triangle,
direct estimates in the upper triangle, treatment names on the diagonal.

Orientation (netmeta 2.9-0, ``?netleague``): in the lower triangle cell [i, j] (i > j) is the
*column* treatment versus the *row* treatment, in the upper triangle cell [i, j] (i < j) the row
treatment versus the column treatment; so [1, 2] and [2, 1] both compare treatment 1 with 2,
the first by direct evidence, the second by the network. For the random-effects model the
direct estimates use the network's τ² (as netmeta). ``direct=False`` puts network estimates in
both triangles (netmeta's ``netleague(x, x)``, reciprocal above the diagonal).

This module only arranges numbers (full precision); :mod:`netstrata.present` renders them.

References
----------
Hutton B et al. (2015). The PRISMA extension statement for network meta-analyses. Ann Intern
Med 162:777-784. doi:10.7326/M14-2385
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import check_option
from ..effects.registry import get_measure
from ..errors import ParameterError
from .tables import wald

__all__ = ["NetLeague", "netleague"]


@dataclass(frozen=True, slots=True)
class NetLeague:
    """A netleague table: ``estimate``, ``ci_low``, ``ci_high`` are n × n frames in the layout
    above (diagonal NaN), on the natural scale when ``backtransf`` (e.g. odds ratios), else on
    the analysis scale (log odds ratios). ``scale_label`` says which."""

    treatments: tuple[str, ...]
    model: str
    measure: str | None
    level: float
    backtransf: bool
    direct: bool
    estimate: pd.DataFrame
    ci_low: pd.DataFrame
    ci_high: pd.DataFrame

    @property
    def scale_label(self) -> str:
        if self.measure is None:
            return "effect"
        entry = get_measure(self.measure)
        return entry.label.lower() if self.backtransf else entry.scale_label

    @property
    def caption(self) -> str:
        upper = "direct estimates, row versus column" if self.direct else \
            "network estimates, row versus column"
        return (f"Lower triangle: network estimates ({self.model} effects), column versus row; upper "
                f"triangle: {upper}; {self.scale_label} with {100 * self.level:g}% CI.")


def _arrange(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Cell [i, j] = lower[j, i] below the diagonal (column vs row), upper[i, j] above it."""
    n = lower.shape[0]
    out = np.full((n, n), np.nan)
    below = np.tril_indices(n, -1)
    above = np.triu_indices(n, 1)
    out[below] = lower.T[below]
    out[above] = upper[above]
    return out


def netleague(fit, model: str = "random", *, backtransf: bool = False, direct: bool = True,
              seq=None) -> NetLeague:
    """The netleague table of a network fit (``NetworkResult``; see the module docstring).

    ``seq`` orders rows and columns (default: the fit's treatment order). ``backtransf=True``
    needs the fit's measure; the back-transform of a ratio measure is ``exp``.
    """
    model = check_option(model, name="model", allowed=("common", "random"), caller="netleague")
    order = list(fit.treatments) if seq is None else [str(t) for t in seq]
    if sorted(order) != sorted(fit.treatments):
        raise ParameterError(f"The 'seq' parameter of netleague must list each treatment once: "
                             f"{list(fit.treatments)}. Got {order}.")
    te = fit.league(model).loc[order, order].to_numpy(dtype=float)
    ci = fit.league_ci(model)
    lo, hi = (f.loc[order, order].to_numpy(dtype=float) for f in ci)
    if direct:
        d_te, d_se = (f.loc[order, order].to_numpy(dtype=float) for f in fit.direct(model))
        with np.errstate(invalid="ignore"):
            d_lo, d_hi, _, _ = wald(d_te, d_se, fit.level)
    else:
        d_te, d_lo, d_hi = te, lo, hi
    est, low, high = _arrange(te, d_te), _arrange(lo, d_lo), _arrange(hi, d_hi)
    if backtransf:
        if fit.measure is None:
            raise ParameterError("netleague: backtransf=True needs the measure of the network; give "
                                 "network(..., measure='OR') or contrasts from effect_sizes.")
        back = get_measure(fit.measure).back_transform
        est, low, high = back(est), back(low), back(high)

    def frame(m):
        return pd.DataFrame(m, index=order, columns=order)

    return NetLeague(tuple(order), model, fit.measure, fit.level, bool(backtransf), bool(direct),
                     frame(est), frame(low), frame(high))
