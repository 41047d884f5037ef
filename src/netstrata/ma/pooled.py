"""One vocabulary for pooled estimates: what every pairwise-type result shares.

Every pairwise-type result (:class:`~netstrata.ma.PairwiseResult`,
:class:`~netstrata.ma.MantelHaenszelResult`, :class:`~netstrata.ma.PetoResult`,
:class:`~netstrata.ma.PooledProportion`, :class:`~netstrata.ma.GlmmProportion`) has the fields
``estimate, se, ci_low, ci_high, pvalue`` on the analysis scale (log for ratios), ``level`` and
``measure`` (a code of :data:`netstrata.effects.MEASURES`, or None when the caller did not say).
The mixin :class:`PooledEstimate` derives the rest from them once:

* :attr:`~PooledEstimate.pooled`: the estimate as a small frozen :class:`Pooled`;
* :meth:`~PooledEstimate.backtransform`: values on the natural scale (exp for log measures, expit
  for logits, ...; the registry's back-transform, metafor's ``transf``);
* :meth:`~PooledEstimate.estimate_frame`: the one-row table ``estimate, se, ci_low, ci_high,
  pvalue`` (and ``pi_low``/``pi_high`` where the result has a prediction interval), on either scale;
* :attr:`~PooledEstimate.scale_label`: the scale in words ("log risk ratio").

Back-transformed rows carry no standard error (it is a statement about the analysis scale), as
metafor's ``predict(res, transf=exp)`` drops it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..effects.registry import Measure, get_measure
from ..errors import ParameterError

__all__ = ["POOLED_FIELDS", "Pooled", "PooledEstimate", "backtransform_columns"]

#: The fields every pairwise-type result has (the shared vocabulary).
POOLED_FIELDS = ("estimate", "se", "ci_low", "ci_high", "pvalue", "measure", "level")

#: Scales whose back-transform is the identity: nothing to do for ``backtransf=True``.
NATURAL_SCALES = ("identity", "arcsine difference")

_NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Pooled:
    """A pooled estimate on the analysis scale, with its interval, test and measure."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pvalue: float
    measure: str | None
    level: float
    pi_low: float = _NAN
    pi_high: float = _NAN


def _entry(measure, caller: str) -> Measure:
    if measure is None:
        raise ParameterError(f"{caller}: the measure is unknown, so there is no back-transformation; give "
                             "measure= when fitting (e.g. pairwise(..., measure='RR')) or pass the frame "
                             "that netstrata.effect_sizes returned.")
    return get_measure(measure, caller=caller)


def backtransform_columns(frame: pd.DataFrame, measure, rows=None, *,
                          columns=("estimate", "ci_low", "ci_high", "pi_low", "pi_high"),
                          se_columns=("se",), n=None, caller: str = "summary") -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` of ``rows`` (all rows when None) on the natural scale
    and their ``se_columns`` set to NaN; a ParameterError when ``measure`` is None. Measures
    analysed on their natural scale (MD, RD, ...) are returned unchanged, standard errors included."""
    entry = _entry(measure, caller)
    out = frame.copy()
    if entry.scale in NATURAL_SCALES:
        return out
    back = entry.back_transform
    rows = out.index if rows is None else list(rows)
    for col in columns:
        if col in out.columns:
            out.loc[rows, col] = back(out.loc[rows, col].to_numpy(dtype=float), n)
    for col in se_columns:
        if col in out.columns:
            out.loc[rows, col] = _NAN
    return out


class PooledEstimate:
    """Mixin for frozen result dataclasses with the fields in :data:`POOLED_FIELDS`."""

    __slots__ = ()

    # Provided by the dataclass that mixes this in (declared here for the type checker only:
    # annotations without values create neither slots nor dataclass fields).
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pvalue: float
    measure: str | None
    level: float

    @property
    def pooled(self) -> Pooled:
        """The pooled estimate as a :class:`Pooled` (analysis scale)."""
        return Pooled(float(self.estimate), float(self.se), float(self.ci_low), float(self.ci_high),
                      float(self.pvalue), self.measure, float(self.level),
                      float(getattr(self, "pi_low", _NAN)), float(getattr(self, "pi_high", _NAN)))

    @property
    def scale(self) -> str | None:
        """The analysis scale of the measure ("log", "identity", ...); None when the measure is unknown."""
        return None if self.measure is None else get_measure(self.measure).scale

    @property
    def scale_label(self) -> str:
        """The analysis scale in words ("log risk ratio"); "effect" when the measure is unknown."""
        return "effect" if self.measure is None else get_measure(self.measure).scale_label

    def _backtransform_n(self):
        """Sample size the back-transform needs (only PFT); results that have one override this."""
        return None

    def backtransform(self, values) -> np.ndarray:
        """``values`` (analysis scale) on the natural scale of the measure (metafor's ``transf``)."""
        entry = _entry(self.measure, type(self).__name__ + ".backtransform")
        return entry.back_transform(np.asarray(values, dtype=float), self._backtransform_n())

    def estimate_frame(self, backtransf: bool = False) -> pd.DataFrame:
        """One row: ``estimate, se, ci_low, ci_high, pvalue`` (+ ``pi_low, pi_high`` where the result
        has them); ``backtransf=True`` gives estimate and bounds on the natural scale, without se."""
        p = self.pooled
        row = {"estimate": p.estimate, "se": p.se, "ci_low": p.ci_low, "ci_high": p.ci_high, "pvalue": p.pvalue}
        if hasattr(self, "pi_low"):
            row |= {"pi_low": p.pi_low, "pi_high": p.pi_high}
        frame = pd.DataFrame([row], index=["estimate"])
        if backtransf:
            frame = backtransform_columns(frame, self.measure, n=self._backtransform_n(),
                                          caller=type(self).__name__ + ".estimate_frame")
        return frame

    def _scale_note(self, backtransf: bool) -> str:
        """The sentence a summary prints about its scale."""
        if self.measure is None:
            return "Measure not given: effects on the scale they were supplied on."
        entry = get_measure(self.measure)
        if not backtransf or entry.scale in NATURAL_SCALES:
            return f"Effects on the {entry.scale_label} scale (measure {entry.code})."
        return (f"Estimate and intervals back-transformed from the {entry.scale_label} scale to the "
                f"{entry.label.lower()} (measure {entry.code}); standard errors belong to the analysis scale and are not shown.")
