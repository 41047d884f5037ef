"""Mantel-Haenszel pooling of incidence rates (IRR, IRD), as metafor 3.8-1 ``rma.mh`` computes it.

Each study gives events ``x1``, ``x2`` over person-time ``t1``, ``t2`` (group 1 versus group 2),
``T = t1 + t2``. With ``R = sum x1 t2 / T`` and ``S = sum x2 t1 / T``:

* IRR: log IRR = log(R / S), Var = sum (t1/T)(t2/T)(x1 + x2) / (R S) (Greenland & Robins 1985);
  the estimate is undefined (NaN) when either group has no events in any study;
* IRD: IRD = sum (x1 t2 - x2 t1)/T / W with W = sum t1 t2 / T,
  SE = sqrt(sum (t1 t2 / T)^2 (x1/t1^2 + x2/t2^2)) / W (Rothman, Greenland & Lash 2008, ch. 15);
* the Mantel-Haenszel test of no association (IRR only), 1 df:
  MH = (|sum x1 - (x1 + x2) t1/T| - 0.5 correct)^2 / sum (x1 + x2)(t1/T)(t2/T).

The heterogeneity test uses the per-study effects as ``escalc`` computes them under the first
continuity-correction rule (``add``, ``to``, ``drop00``; metafor's defaults 1/2, "only0", True):
y = log(x1/t1) - log(x2/t2), v = 1/x1 + 1/x2 (IRR); y = x1/t1 - x2/t2, v = x1/t1² + x2/t2² (IRD).
The second rule adjusts the counts of the pooled estimate (default: nothing is added).

References
----------
Greenland S, Robins JM (1985). Biometrics 41(1):55-68. doi:10.2307/2530643
Rothman KJ, Greenland S, Lash TL (2008). Modern Epidemiology, 3rd ed., ch. 15. Lippincott.
Viechtbauer W (2010). J Stat Softw 36(3):1-48. doi:10.18637/jss.v036.i03
"""
from __future__ import annotations

import numpy as np
from ..._dist import chi2_sf

from ..._validate import as_float_array, check_same_length
from ...effects._kernels import incidence_rate_difference, log_incidence_rate_ratio
from ...errors import ParameterError
from .tables import ZeroCellRule

__all__ = ["RATE_MEASURES", "check_rates", "rate_effects", "rate_drop_reasons", "mh_rate_ratio",
           "mh_rate_difference", "mh_rate_test", "adjust_rates", "rate_inputs"]

RATE_MEASURES = ("IRR", "IRD")
_KERNELS = {"IRR": log_incidence_rate_ratio, "IRD": incidence_rate_difference}


def check_rates(events_1, time_1, events_2, time_2, *, caller: str):
    """Validate events (>= 0) and person-times (> 0); return x1, t1, x2, t2 as float arrays."""
    x1 = as_float_array(events_1, name="events_1", caller=caller, nonnegative=True)
    t1 = as_float_array(time_1, name="time_1", caller=caller, positive=True)
    x2 = as_float_array(events_2, name="events_2", caller=caller, nonnegative=True)
    t2 = as_float_array(time_2, name="time_2", caller=caller, positive=True)
    check_same_length(caller, events_1=x1, time_1=t1, events_2=x2, time_2=t2)
    return x1, t1, x2, t2


def adjust_rates(x1, x2, rule: ZeroCellRule):
    """metafor's rules for event counts: drop00 sets studies without events in both groups to NaN;
    then ``add`` goes to both counts of every study ("all"), of studies with a zero count
    ("only0"), of all studies if any has one ("if0all"), or nowhere ("none")."""
    x1, x2 = np.array(x1, dtype=float), np.array(x2, dtype=float)
    if rule.drop00:
        both = (x1 == 0) & (x2 == 0)
        x1[both] = np.nan
        x2[both] = np.nan
    zero = (x1 == 0) | (x2 == 0)                  # NaN compares False
    hit = {"all": np.ones(x1.shape, dtype=bool), "only0": zero,
           "if0all": np.full(x1.shape, bool(zero.any())), "none": np.zeros(x1.shape, dtype=bool)}[rule.to]
    plus = np.where(hit, rule.add, 0.0)
    return x1 + plus, x2 + plus


def rate_effects(x1, t1, x2, t2, measure: str, rule: ZeroCellRule):
    """Per-study effects and variances as ``escalc`` (IRR or IRD); NaN where undefined."""
    a1, a2 = adjust_rates(x1, x2, rule)
    yi, vi = _KERNELS[measure](a1, t1, a2, t2)
    bad = ~(np.isfinite(yi) & np.isfinite(vi))   # escalc recodes +-Inf to NA
    yi, vi = np.where(bad, np.nan, yi), np.where(bad, np.nan, vi)
    return yi, vi


def rate_drop_reasons(x1, x2, yi, rule: ZeroCellRule) -> list[str | None]:
    """Why each study has no effect size: no events in both groups (drop00), or a zero count."""
    return [None if not np.isnan(y) else ("no_events" if rule.drop00 and a == 0 and b == 0 else "zero_cell")
            for a, b, y in zip(x1, x2, yi)]


def mh_rate_ratio(x1, t1, x2, t2) -> tuple[float, float]:
    """log MH incidence rate ratio and its standard error (Greenland & Robins 1985)."""
    if x1.sum() == 0 or x2.sum() == 0:
        return np.nan, np.nan
    big_t = t1 + t2
    r, s = np.sum(x1 * (t2 / big_t)), np.sum(x2 * (t1 / big_t))
    var = np.sum((t1 / big_t) * (t2 / big_t) * (x1 + x2)) / (r * s)
    return float(np.log(r / s)), float(np.sqrt(var))


def mh_rate_difference(x1, t1, x2, t2) -> tuple[float, float]:
    """MH incidence rate difference and its standard error (Rothman, Greenland & Lash 2008)."""
    big_t = t1 + t2
    w = np.sum((t1 / big_t) * t2)
    ird = np.sum((x1 * t2 - x2 * t1) / big_t) / w
    se = np.sqrt(np.sum(((t1 / big_t) * t2) ** 2 * (x1 / t1**2 + x2 / t2**2))) / w
    return float(ird), float(se)


def mh_rate_test(x1, t1, x2, t2, correct: bool) -> tuple[float, float]:
    """Mantel-Haenszel chi-square test of no association for rates (1 df) and its p-value."""
    xt = x1 + x2
    if xt.sum() == 0:
        return np.nan, np.nan
    big_t = t1 + t2
    top = (abs(np.sum(x1 - xt * (t1 / big_t))) - (0.5 if correct else 0.0)) ** 2
    stat = float(top / np.sum(xt * (t1 / big_t) * (t2 / big_t)))
    return stat, float(chi2_sf(stat, 1))


def rate_inputs(events_1, n_1, events_2, n_2, time_1, time_2, *, caller: str):
    """The four rate arrays; refuses participant counts (n_1/n_2) in place of person-time."""
    if n_1 is not None or n_2 is not None:
        raise ParameterError(f"{caller}: incidence rates use person-time: pass time_1= and time_2= "
                             "(metafor's t1i, t2i), not n_1/n_2.")
    if time_1 is None or time_2 is None or events_2 is None:
        raise ParameterError(f"{caller}: measure IRR/IRD needs events_1, time_1, events_2 and time_2.")
    return check_rates(events_1, time_1, events_2, time_2, caller=caller)
