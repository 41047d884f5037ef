"""Mantel-Haenszel pooling of 2x2 tables and of incidence rates, as metafor 3.8-1 ``rma.mh`` computes it.

The pooled estimate uses the tables as given (metafor's defaults add nothing); the Q test uses
per-study effects computed as ``escalc`` does (see :mod:`netstrata.ma.mh.tables`). Besides the
estimate, the Cochran-Mantel-Haenszel test of no association and the Breslow-Day and Tarone
tests of homogeneity are reported for the odds ratio. Incidence rates (IRR, IRD) are pooled by
:mod:`netstrata.ma.mh.rates`, with the Mantel-Haenszel test of no association for the IRR.

References
----------
Mantel N, Haenszel W (1959). J Natl Cancer Inst 22(4):719-748. doi:10.1093/jnci/22.4.719
Robins J, Breslow N, Greenland S (1986). Biometrics 42(2):311-323. doi:10.2307/2531052
Greenland S, Robins JM (1985). Biometrics 41(1):55-68. doi:10.2307/2530643
Sato T, Greenland S, Robins JM (1989). Biometrics 45(4):1323-1324. https://www.jstor.org/stable/2531784
Cochran WG (1954). Biometrics 10(4):417-451. doi:10.2307/3001616
Tarone RE (1985). Biometrika 72(1):91-95. doi:10.1093/biomet/72.1.91
Viechtbauer W (2010). J Stat Softw 36(3):1-48. doi:10.18637/jss.v036.i03
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd
from ..._dist import chi2_sf

from ..._summary import Summary
from ..._validate import check_level, check_option
from ...errors import DataError, ParameterError, StatisticalWarning
from .rates import (RATE_MEASURES, adjust_rates, mh_rate_difference, mh_rate_ratio, mh_rate_test,
                       rate_drop_reasons, rate_effects, rate_inputs)
from .tables import (DROP_REASONS, ZeroCellRule, add_to_cells, check_rules, check_tables, double_zero,
                        effect_drop_reasons, frozen, q_test, study_labels, table_effects, wald,
                        warn_undefined)
from ..pooled import PooledEstimate, backtransform_columns

__all__ = ["TableMeasure", "MH_MEASURES", "MantelHaenszelResult", "mantel_haenszel"]


@dataclass(frozen=True, slots=True)
class TableMeasure:
    """One effect measure of a 2x2 table: code, label, scale and the reference of its MH variance."""

    code: str
    label: str
    scale: str  # "log" (back-transform with exp) or "identity"
    reference: str


MH_MEASURES: dict[str, TableMeasure] = {
    m.code: m
    for m in (
        TableMeasure("OR", "odds ratio", "log",
                     "Robins, Breslow & Greenland (1986) doi:10.2307/2531052"),
        TableMeasure("RR", "risk ratio", "log",
                     "Greenland & Robins (1985) doi:10.2307/2530643"),
        TableMeasure("RD", "risk difference", "identity",
                     "Sato, Greenland & Robins (1989) https://www.jstor.org/stable/2531784"),
        TableMeasure("IRR", "incidence rate ratio", "log",
                     "Greenland & Robins (1985) doi:10.2307/2530643"),
        TableMeasure("IRD", "incidence rate difference", "identity",
                     "Rothman, Greenland & Lash (2008), Modern Epidemiology, ch. 15"),
    )
}


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------

def mh_odds_ratio(a, b, c, d):
    """log MH odds ratio and its Robins-Breslow-Greenland (1986) standard error.

    R_i = a_i d_i / N_i, S_i = b_i c_i / N_i, P_i = (a_i + d_i)/N_i, Q_i = (b_i + c_i)/N_i;
    OR = sum R / sum S; Var(log OR) = [sum PR / R^2 + sum (PS + QR) / (R S) + sum QS / S^2] / 2.
    """
    n = a + b + c + d
    p, q = a / n + d / n, b / n + c / n
    r_i, s_i = (a / n) * d, (b / n) * c
    r, s = r_i.sum(), s_i.sum()
    if r == 0 or s == 0:
        return np.nan, np.nan
    var = 0.5 * (np.sum(p * r_i) / r**2 + np.sum(p * s_i + q * r_i) / (r * s) + np.sum(q * s_i) / s**2)
    return float(np.log(r / s)), float(np.sqrt(var))


def mh_risk_ratio(a, b, c, d):
    """log MH risk ratio and Greenland-Robins (1985) standard error.

    R = sum a n2/N, S = sum c n1/N; Var(log RR) = sum (n1 n2 (a+c)/N^2 - a c/N) / (R S).
    """
    n1, n2 = a + b, c + d
    n = n1 + n2
    if a.sum() == 0 or c.sum() == 0:
        return np.nan, np.nan
    r, s = np.sum(a * (n2 / n)), np.sum(c * (n1 / n))
    var = np.sum((n1 / n) * (n2 / n) * (a + c) - (a / n) * c) / (r * s)
    return float(np.log(r / s)), float(np.sqrt(var))


def mh_risk_difference(a, b, c, d):
    """MH risk difference and its Sato-Greenland-Robins (1989) standard error (as metafor).

    RD = sum (a n2 - c n1)/N / W with W = sum n1 n2/N;
    Var = [RD sum (c (n1/N)^2 - a (n2/N)^2 + (n1/N)(n2/N)(n2-n1)/2)
           + sum (a (n2-c) + c (n1-a)) / N / 2] / W^2.
    """
    n1, n2 = a + b, c + d
    n = n1 + n2
    w = np.sum(n1 * (n2 / n))
    rd = np.sum(a * (n2 / n) - c * (n1 / n)) / w
    num = rd * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
    num += np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2
    with np.errstate(invalid="ignore"):  # a negative variance estimate gives se = NaN, as in R
        return float(rd), float(np.sqrt(num / w**2))


def cochran_mantel_haenszel(a, b, c, d, correct: bool):
    """Cochran (N) and Cochran-Mantel-Haenszel (N - 1) chi-square statistics, 1 df.

    X = (|sum a - n1 m1/N| - 0.5 correct)^2 / sum n1 n2 m1 m2 / (N^2 N') with N' = N or N - 1.
    """
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    if xt.sum() == 0 or yt.sum() == 0:
        return np.nan, np.nan
    top = (abs(np.sum(a - (n1 / n) * xt)) - (0.5 if correct else 0.0)) ** 2
    cochran = top / np.sum((n1 / n) * (n2 / n) * (xt * (yt / n)))
    cmh = top / np.sum((n1 / n) * (n2 / n) * (xt * (yt / (n - 1))))
    return float(cochran), float(cmh)


def breslow_day_tarone(a, b, c, d, log_or: float):
    """Breslow-Day and Tarone (1985) heterogeneity statistics of the MH odds ratio.

    N11 solves the fitted table with odds ratio psi (quadratic root); tables with N11 <= 0 or no
    events / no non-events are left out (``informative``). BD = sum (a - N11)^2 / V,
    1/V = 1/N11 + 1/N12 + 1/N21 + 1/N22; Tarone = BD - (sum a - N11)^2 / sum V.
    """
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    if np.isnan(log_or):
        return np.nan, np.nan, np.zeros(a.shape, dtype=bool)
    psi = np.exp(log_or)
    if psi == 1:
        n11 = (n1 / n) * xt
    else:
        big_a = psi * (n1 + xt) + (n2 - xt)
        with np.errstate(invalid="ignore"):  # NaN roots (R: NaNs produced) fail the filter below
            big_b = np.sqrt(big_a**2 - 4 * n1 * xt * psi * (psi - 1))
        n11 = (big_a - big_b) / (2 * (psi - 1))
    pos = (n11 > 0) & (xt > 0) & (yt > 0)
    e11 = n11[pos]
    v = 1 / (1 / e11 + 1 / (n1[pos] - e11) + 1 / (xt[pos] - e11) + 1 / (e11 - n1[pos] - xt[pos] + n[pos]))
    dev = a[pos] - e11
    bd = max(0.0, float(np.sum(dev**2 / v)))
    if not pos.any():  # R: max(0, 0 - 0/0) is NaN
        return bd, np.nan, pos
    tarone = max(0.0, bd - float(np.sum(dev) ** 2 / np.sum(v)))
    return bd, tarone, pos


_POOLERS = {"OR": mh_odds_ratio, "RR": mh_risk_ratio, "RD": mh_risk_difference,
            "IRR": mh_rate_ratio, "IRD": mh_rate_difference}


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MantelHaenszelResult(PooledEstimate):
    """Mantel-Haenszel common-effect estimate (metafor's ``rma.mh``).

    ``estimate``, ``ci_low``, ``ci_high`` are on the analysis scale (log for OR, RR and IRR).
    ``q`` is the inverse-variance heterogeneity statistic on ``k_yi - 1`` df from the per-study
    effects (``effect``, ``variance``); ``i2`` is in percent. ``cmh``/``cochran`` are the
    Cochran-Mantel-Haenszel and Cochran tests of no association, ``breslow_day``/``tarone`` the
    heterogeneity tests on ``k_pos - 1`` df (OR only; NaN otherwise); for the IRR, ``cmh`` is
    metafor's Mantel-Haenszel test of no association for rates (``MH``). ``dropped`` lists
    ``(study, reason)`` for every study left out of some quantity.
    """

    measure: str
    k: int
    k_yi: int
    k_pos: int | None
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    q: float
    q_pvalue: float
    i2: float
    h2: float
    cmh: float
    cmh_pvalue: float
    cochran: float
    cochran_pvalue: float
    breslow_day: float
    breslow_day_pvalue: float
    tarone: float
    tarone_pvalue: float
    effect: np.ndarray
    variance: np.ndarray
    study: tuple
    dropped: tuple
    level: float
    correct: bool
    method: str = "MH"
    tau2: float = 0.0

    @property
    def scale(self) -> str:
        return MH_MEASURES[self.measure].scale

    @property
    def ratio(self) -> tuple[float, float, float] | None:
        """(estimate, ci_low, ci_high) back-transformed with exp for OR/RR/IRR; None for RD/IRD."""
        if self.scale != "log":
            return None
        return float(np.exp(self.estimate)), float(np.exp(self.ci_low)), float(np.exp(self.ci_high))

    def __repr__(self) -> str:
        return (f"MantelHaenszelResult(k={self.k}, measure={self.measure!r}, "
                f"estimate={self.estimate:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}], q={self.q:.4f})")

    def summary(self, backtransf: bool = False) -> Summary:
        """The pooled estimate and the tests as one table; ``backtransf=True`` gives the estimate
        and its CI on the natural scale (odds ratio, rate ratio, ...)."""
        rows = {
            "pooled (MH)": [self.estimate, self.se, self.ci_low, self.ci_high, self.statistic, np.nan, self.pvalue],
            "Q heterogeneity": [np.nan, np.nan, np.nan, np.nan, self.q, self.k_yi - 1, self.q_pvalue],
        }
        if self.measure == "OR":
            kp = (self.k_pos or 0) - 1
            rows["CMH test"] = [np.nan] * 4 + [self.cmh, 1, self.cmh_pvalue]
            rows["Breslow-Day test"] = [np.nan] * 4 + [self.breslow_day, kp, self.breslow_day_pvalue]
            rows["Tarone test"] = [np.nan] * 4 + [self.tarone, kp, self.tarone_pvalue]
        elif self.measure == "IRR":
            rows["MH test"] = [np.nan] * 4 + [self.cmh, 1, self.cmh_pvalue]
        frame = pd.DataFrame.from_dict(
            rows, orient="index", columns=["estimate", "se", "ci_low", "ci_high", "statistic", "df", "pvalue"])
        if backtransf:
            frame = backtransform_columns(frame, self.measure, ["pooled (MH)"], caller="MantelHaenszelResult.summary")
        notes = [f"{self._scale_note(backtransf)} Level {self.level:.0%}; k = {self.k}; I2 = {self.i2:.1f}%; "
                 f"H2 = {self.h2:.3f}."]
        notes += [f"Left out: {s}: {r}" for s, r in self.dropped]
        return Summary(title=f"Mantel-Haenszel common-effect model ({self.measure})", frame=frame, notes=tuple(notes))


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------

def mantel_haenszel(events_1, n_1=None, events_2=None, n_2=None, *, measure: str = "OR", level: float = 0.95,
                    correct: bool = True, add=0.5, to="only0", drop00=True, study=None, time_1=None,
                    time_2=None) -> MantelHaenszelResult:
    """Mantel-Haenszel common-effect meta-analysis of 2x2 tables or incidence rates (metafor's ``rma.mh``).

    Parameters
    ----------
    events_1, n_1, events_2, n_2 : array-like
        Events and participants in group 1 (treatment) and group 2 (control) of each study
        (metafor's ``ai``, ``n1i``, ``ci``, ``n2i``).
    measure : {"OR", "RR", "RD", "IRR", "IRD"}, default="OR"
        Odds ratio, risk ratio (both pooled on the log scale) or risk difference of 2x2 tables;
        incidence rate ratio (log scale) or incidence rate difference of events over person-time.
    level : float, default=0.95
        Confidence level (0.95 or 95).
    correct : bool, default=True
        Continuity correction of the Cochran-Mantel-Haenszel test (OR) and of the
        Mantel-Haenszel test for rates (IRR).
    add, to, drop00 : value or pair, default 0.5, "only0", True
        As metafor: the first value is the continuity-correction rule of the per-study effects
        used by the Q test (``to`` one of {"all", "only0", "if0all", "none"}; ``drop00`` leaves
        out tables with no events or only events in both arms); the optional second value applies
        to the tables of the MH estimate (default 0, "none", False: nothing is added).
    study : sequence, optional
        Study labels (1..k if omitted); used in ``dropped`` and warnings.
    time_1, time_2 : array-like, optional
        Person-time of group 1 and group 2, for IRR and IRD (metafor's ``t1i``, ``t2i``; the
        events are ``events_1``, ``events_2``, metafor's ``x1i``, ``x2i``); ``n_1``/``n_2``
        are then not given.

    Returns
    -------
    MantelHaenszelResult

    Warns
    -----
    StatisticalWarning
        When a study has no defined effect size (left out of the Q test, as metafor warns
        "Some yi/vi values are NA.") or the MH estimate is undefined.

    Notes
    -----
    OR: exp(beta) = sum(a d / N) / sum(b c / N), variance of Robins, Breslow & Greenland (1986).
    RR: exp(beta) = sum(a n2 / N) / sum(c n1 / N), variance of Greenland & Robins (1985).
    RD: beta = sum((a n2 - c n1)/N) / sum(n1 n2 / N), variance of Sato et al. (1989).
    IRR, IRD: see :mod:`netstrata.ma.mh.rates` (Greenland & Robins 1985; Rothman et al. 2008).
    Q = sum w_i (y_i - beta)^2 with the per-study effects and variances (escalc) on k_yi - 1 df.

    References
    ----------
    Mantel & Haenszel (1959) doi:10.1093/jnci/22.4.719; Robins, Breslow & Greenland (1986)
    doi:10.2307/2531052; Greenland & Robins (1985) doi:10.2307/2530643; Cochran (1954)
    doi:10.2307/3001616; Tarone (1985) doi:10.1093/biomet/72.1.91.

    Examples
    --------
    >>> res = mantel_haenszel([4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(res.estimate, 4)
    -1.4215
    >>> irr = mantel_haenszel([7, 8], time_1=[1344, 1600], events_2=[11, 8], time_2=[1988, 1461], measure="IRR")
    >>> round(float(irr.backtransform(irr.estimate)), 4)
    0.9276
    """
    caller = "mantel_haenszel"
    measure = check_option(measure, name="measure", allowed=tuple(MH_MEASURES), caller=caller)
    level = check_level(level, caller=caller)
    if not isinstance(correct, (bool, np.bool_)):
        raise ParameterError(f"The 'correct' parameter of {caller} must be True or False. Got {correct!r} instead.")
    rule_es, rule_mh = check_rules(add, to, drop00, caller=caller)
    if measure in RATE_MEASURES:
        data = _rate_data(events_1, n_1, events_2, n_2, time_1, time_2, measure, rule_es, rule_mh, study, caller)
    else:
        data = _table_data(events_1, n_1, events_2, n_2, time_1, time_2, measure, rule_es, rule_mh, study, caller)
    labels, yi, vi, reasons, keep, pooled_in = data
    warn_undefined(labels, reasons, caller)
    dropped = [(s, DROP_REASONS[r]) for s, r in zip(labels, reasons) if r is not None]
    dropped += [(s, DROP_REASONS["table_dropped"]) for s, kept in zip(labels, keep) if not kept]
    if not keep.any():
        raise DataError(f"{caller}: no study is left after drop00 (every study has no events, or only "
                        "events, in both groups).")

    with np.errstate(divide="ignore", invalid="ignore"):  # degenerate tables give Inf/NaN, as in R
        beta, se = _POOLERS[measure](*pooled_in)
    if np.isnan(beta):
        warnings.warn(f"{caller}: the MH {measure} is undefined (no events in one of the groups across all "
                      "studies); estimate and tests are NaN.", StatisticalWarning, stacklevel=2)
    z, p, lo, hi = wald(beta, se, level)
    k_yi = int(np.sum(~np.isnan(yi)))
    q, q_p, i2, h2 = q_test(yi, vi, beta, k_yi)

    tests = _Tests(cmh=np.nan, cmh_pvalue=np.nan, cochran=np.nan, cochran_pvalue=np.nan, breslow_day=np.nan,
                   breslow_day_pvalue=np.nan, tarone=np.nan, tarone_pvalue=np.nan)
    k_pos: int | None = None
    if measure == "OR":
        tests, k_pos, informative = _or_tests(*pooled_in, beta, correct)
        kept_labels = [s for s, kept in zip(labels, keep) if kept]
        dropped += [(s, DROP_REASONS["not_informative"]) for s, inf in zip(kept_labels, informative)
                    if not inf and np.isfinite(beta)]
    elif measure == "IRR":
        tests["cmh"], tests["cmh_pvalue"] = mh_rate_test(*pooled_in, correct)

    return MantelHaenszelResult(
        measure=measure, k=int(keep.sum()), k_yi=k_yi, k_pos=k_pos, estimate=beta, se=se, statistic=z,
        pvalue=p, ci_low=lo, ci_high=hi, q=q, q_pvalue=q_p, i2=i2, h2=h2, **tests,
        effect=frozen(yi), variance=frozen(vi), study=labels, dropped=tuple(dropped), level=level,
        correct=bool(correct))


class _Tests(TypedDict):
    """The association and homogeneity tests of a MH fit (NaN where a measure has none)."""

    cmh: float
    cmh_pvalue: float
    cochran: float
    cochran_pvalue: float
    breslow_day: float
    breslow_day_pvalue: float
    tarone: float
    tarone_pvalue: float


#: Four arrays a pooler takes: the 2x2 cells (a, b, c, d) or the rates (x1, t1, x2, t2).
_Cells = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: labels, per-study effects and variances, why some have none, the studies kept, the pooler's input
_MHData = tuple[tuple, np.ndarray, np.ndarray, list[str | None], np.ndarray, _Cells]


def _table_data(events_1, n_1, events_2, n_2, time_1, time_2, measure, rule_es, rule_mh, study,
                caller) -> _MHData:
    """2x2 tables: labels, per-study effects, why some have none, the tables kept and adjusted."""
    if time_1 is not None or time_2 is not None:
        raise ParameterError(f"{caller}: time_1/time_2 (person-time) go with measure 'IRR' or 'IRD', "
                             f"not {measure!r}.")
    if n_1 is None or events_2 is None or n_2 is None:
        raise ParameterError(f"{caller}: measure {measure!r} needs events_1, n_1, events_2 and n_2.")
    a, b, c, d = check_tables(events_1, n_1, events_2, n_2, caller=caller)
    labels = study_labels(study, a.size, caller=caller)
    yi, vi = table_effects(a, b, c, d, measure, rule_es)
    reasons = effect_drop_reasons(a, b, c, d, yi, rule_es)
    keep = ~double_zero(a, b, c, d) if rule_mh.drop00 else np.ones(a.size, dtype=bool)
    cells = add_to_cells(a[keep], b[keep], c[keep], d[keep], rule_mh.add, rule_mh.to)
    return labels, yi, vi, reasons, keep, cells


def _rate_data(events_1, n_1, events_2, n_2, time_1, time_2, measure, rule_es, rule_mh, study,
               caller) -> _MHData:
    """Incidence rates: labels, per-study effects, why some have none, the studies kept and adjusted."""
    x1, t1, x2, t2 = rate_inputs(events_1, n_1, events_2, n_2, time_1, time_2, caller=caller)
    labels = study_labels(study, x1.size, caller=caller)
    yi, vi = rate_effects(x1, t1, x2, t2, measure, rule_es)
    reasons = rate_drop_reasons(x1, x2, yi, rule_es)
    keep = ~((x1 == 0) & (x2 == 0)) if rule_mh.drop00 else np.ones(x1.size, dtype=bool)
    a1, a2 = adjust_rates(x1[keep], x2[keep], ZeroCellRule(rule_mh.add, rule_mh.to, False))
    return labels, yi, vi, reasons, keep, (a1, t1[keep], a2, t2[keep])


def _or_tests(a, b, c, d, beta: float, correct: bool) -> tuple[_Tests, int, np.ndarray]:
    """CMH/Cochran and Breslow-Day/Tarone tests with their p-values (OR only)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # degenerate tables give Inf/NaN, as in R
        cochran, cmh = cochran_mantel_haenszel(a, b, c, d, correct)
        bd, tarone, informative = breslow_day_tarone(a, b, c, d, beta)
    k_pos = int(informative.sum())
    df = k_pos - 1

    def chi2_p(x, dof):
        return float(chi2_sf(x, dof)) if not np.isnan(x) and dof >= 1 else np.nan

    tests = _Tests(cmh=cmh, cmh_pvalue=chi2_p(cmh, 1), cochran=cochran, cochran_pvalue=chi2_p(cochran, 1),
                   breslow_day=bd, breslow_day_pvalue=chi2_p(bd, df), tarone=tarone,
                   tarone_pvalue=chi2_p(tarone, df))
    return tests, k_pos, informative
