"""The fits behind :func:`netstrata.ma.layers.combine_layers` (inputs validated and ordered).

One function per approach; each returns ``(combined, note, comparison, subgroup, regression)`` where
``note`` says why ``combined`` (or, for the subgroup approach, the comparison) is missing.
The bias-adjustment kernel is :func:`bias_adjust`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ...errors import ParameterError
from ..fit import rma_fit
from .approaches import DESIGN_CODES
from .result import DesignComparison, LayeredResult
from ..metareg import MetaRegressionResult, meta_regression
from ..pairwise import PairwiseResult, pairwise, result_from_fit
from ..subgroups import subgroups

__all__ = ["fit_layers", "bias_adjust", "NO_RCT", "NO_NRS", "CERTAINTY"]

NO_RCT = "no randomised studies in this stratum"
NO_NRS = "no non-randomised comparative studies in this stratum"
#: GRADE starting certainty of a body of evidence by its best design (Balshem 2011).
CERTAINTY = {"rct": "randomised evidence: start at High (GRADE)",
             "nrs": "observational evidence only: start at Low (GRADE)"}


def bias_adjust(y: np.ndarray, v: np.ndarray, nrs: np.ndarray, inflation: float, shift: float):
    """Bias-adjusted NRS data: y_i − δ and α·v_i for NRS i; RCTs unchanged.

    δ = ``shift`` is the expected bias of an NRS (Turner 2009, additive bias with mean δ);
    α = ``inflation`` ≥ 1 scales its variance (proportional down-weighting; Efthimiou 2017's
    design-adjusted analysis uses the weight w = 1/α).
    """
    return np.where(nrs, y - shift, y), np.where(nrs, v * inflation, v)


def _separate_comparison(sg) -> DesignComparison:
    """NRS − RCT from the separate fits: d = θ_N − θ_R, se = sqrt(se_N² + se_R²); Q-between (1 df) = (d/se)²."""
    rct, nrs = sg.fits
    d = nrs.estimate - rct.estimate
    se = float(np.hypot(rct.se, nrs.se))
    z = float(-special.ndtri((1.0 - rct.level) / 2.0))
    return DesignComparison(
        tau2_model="separate", rct_estimate=rct.estimate, rct_se=rct.se, rct_ci_low=rct.ci_low,
        rct_ci_high=rct.ci_high, nrs_estimate=nrs.estimate, nrs_se=nrs.se, nrs_ci_low=nrs.ci_low,
        nrs_ci_high=nrs.ci_high, difference=d, se=se, ci_low=d - z * se, ci_high=d + z * se,
        pvalue=float(2.0 * special.ndtr(-abs(d) / se)), test="Q_between", q=sg.q_between,
        q_df=(sg.q_between_df,), q_pvalue=sg.q_between_pvalue)


def _common_comparison(reg: MetaRegressionResult) -> DesignComparison:
    """From θ = β0 + β1·[NRS]: RCT level β0, NRS level β0 + β1 (var V00 + V11 + 2V01), difference β1.

    Level intervals use the model's critical value (z, or t with k - 2 df for Knapp-Hartung).
    """
    b, V, crit = reg.coef, reg.vcov, reg.fit.crit
    rct, nrs = float(b[0]), float(b[0] + b[1])
    se_r, se_n = float(np.sqrt(V[0, 0])), float(np.sqrt(V[0, 0] + V[1, 1] + 2.0 * V[0, 1]))
    return DesignComparison(
        tau2_model="common", rct_estimate=rct, rct_se=se_r, rct_ci_low=rct - crit * se_r,
        rct_ci_high=rct + crit * se_r, nrs_estimate=nrs, nrs_se=se_n, nrs_ci_low=nrs - crit * se_n,
        nrs_ci_high=nrs + crit * se_n,
        difference=float(b[1]), se=float(reg.se[1]), ci_low=float(reg.ci_low[1]), ci_high=float(reg.ci_high[1]),
        pvalue=float(reg.pvalue[1]), test="QM", q=reg.qm, q_df=reg.qm_df, q_pvalue=reg.qm_pvalue, df=reg.df)


def _design_regression(y, v, design, method, ci, level) -> tuple[MetaRegressionResult | None, str | None]:
    """rma(yi, vi, mods = ~ factor(design)) with RCT as the reference level, or (None, reason)."""
    mods = pd.DataFrame({"design": pd.Categorical(design, categories=DESIGN_CODES)})
    try:
        return meta_regression(y, v, mods, method=method, ci=ci, level=level), None
    except ParameterError as exc:
        return None, f"the design meta-regression cannot be fitted: {exc}"


def _subgroup(y, v, design, spec, method, ci, level):
    groups = pd.Categorical(design, categories=DESIGN_CODES)
    sg = subgroups(y, v, groups, method=method, ci=ci, level=level)
    combined = pairwise(y, v, method=method, ci=ci, level=level)
    if not spec.common_tau2:
        return combined, None, _separate_comparison(sg), sg, None
    reg, why = _design_regression(y, v, design, method, ci, level)
    if reg is None:  # too few studies for one tau2 and two coefficients
        return combined, why, None, sg, None
    return combined, None, _common_comparison(reg), sg, reg


def _moderator(y, v, design, spec, method, ci, level):
    reg, why = _design_regression(y, v, design, method, ci, level)
    if reg is None:
        return None, why, None, None, None
    return result_from_fit(reg.fit, ci), None, _common_comparison(reg), None, reg


def _downweight(y, v, design, spec, method, ci, level):
    ya, va = bias_adjust(y, v, design == "NRS_comparative", spec.inflation, spec.shift)
    # the kernel, not pairwise(): a large inflation is a deliberate variance ratio, not a units slip
    fit = rma_fit(ya, va, None, method, ci == "hksj", level)
    return result_from_fit(fit, ci), None, None, None, None


def _separate(y, v, design, spec, method, ci, level):
    return None, "approach 'separate': the layers are not combined", None, None, None


_APPROACH_FITS = {"separate": _separate, "subgroup": _subgroup, "moderator": _moderator, "downweight": _downweight}


def _layer(y, v, mask, method, ci, level, reason) -> tuple[PairwiseResult | None, str | None]:
    if not mask.any():
        return None, reason
    return pairwise(y[mask], v[mask], method=method, ci=ci, level=level), None


def fit_layers(y, v, design, study, order, spec, method, ci, level) -> LayeredResult:
    """Fit the RCT layer, the NRS layer and (if the approach asks and RCTs exist) the combination."""
    is_rct = design == "RCT"
    rct, rct_reason = _layer(y, v, is_rct, method, ci, level, NO_RCT)
    nrs, nrs_reason = _layer(y, v, ~is_rct, method, ci, level, NO_NRS)
    combined, reason, comparison, sg, reg = None, None, None, None, None
    if spec.approach == "separate":
        reason = _separate(y, v, design, spec, method, ci, level)[1]
    elif rct is None:
        reason = (f"{NO_RCT}: a combined estimate is never reported without the randomised-only one; "
                  "the non-randomised layer is reported on its own")
    elif nrs is None:
        reason = f"{NO_NRS}: nothing to combine; the randomised layer stands alone"
    else:
        combined, reason, comparison, sg, reg = _APPROACH_FITS[spec.approach](
            y, v, design, spec, method, ci, level)
    order = np.array(order, dtype=int)
    order.setflags(write=False)  # the result is frozen; so are its arrays
    notes: tuple[str, ...] = ()
    if combined is not None and reason:
        notes, reason = (reason,), None
    return LayeredResult(
        approach=spec.approach, method=method, ci=ci, level=level, inflation=spec.inflation, shift=spec.shift,
        common_tau2=spec.common_tau2, rct=rct, nrs=nrs, combined=combined, rct_reason=rct_reason,
        nrs_reason=nrs_reason, combined_reason=reason, comparison=comparison, subgroup=sg, regression=reg,
        fallback=None if rct is not None else "nrs", certainty_note=CERTAINTY["rct" if rct is not None else "nrs"],
        study=tuple(str(s) for s in study), design=tuple(str(d) for d in design), order=order, notes=notes)
