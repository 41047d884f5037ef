"""Conversions a reviewer needs before effect sizes can be computed.

* ``se_from_ci``: standard error from a confidence interval, on the analysis scale (log for ratio
  measures): se = (high - low) / (2 z), z = Phi^-1((1 + level) / 2). The interval should be
  symmetric about the estimate on that scale; asymmetry beyond ``tolerance`` is reported as a
  finding (wrong scale? rounded or transcribed numbers? an interval from another method?).
* ``mean_sd_from_median``: sample mean and SD from the median with the range (scenario S1:
  min, median, max, n), the quartiles (S2: q1, median, q3, n) or both (S3), assuming normal data.
  Mean: Luo et al. (2018) optimal weights (default; S1: w = 4/(4 + n^0.75) on the mid-range,
  S2: w = 0.7 + 0.39/n on the mid-quartile, S3: their eq. (15)) or Wan et al. (2014) eqs. (2), (14),
  (10). (Equation numbers for Wan and Luo's S3 as cited in meta's R source; Luo's S1/S2 numbers
  were not checked against the paper.) SD: Wan et al. (2014) eqs. (7)/(9) (range), (15)/(16) (IQR), (12)/(13) (both), with
  xi(n) = 2 Phi^-1((n - 0.375)/(n + 0.25)) and eta(n) = 2 Phi^-1((0.75 n - 0.125)/(n + 0.25)), and
  Wan's exact tabulated values (their Tables 1 and 2) for small n (n <= 50 and n <= 201), as meta's
  ``metamean``/``metacont`` do.
* ``check_sd_vs_se``: flags a reported SD that looks like a standard error (implausibly large
  implied SMD, SDs that differ between arms by about sqrt(n), or an SD far below the instrument's
  usual SD) and suggests the fix sd = se * sqrt(n).

References
----------
Wan X, Wang W, Liu J, Tong T (2014). BMC Med Res Methodol 14:135. doi:10.1186/1471-2288-14-135
Luo D, Wan X, Liu J, Tong T (2018). Stat Methods Med Res 27(6):1785-1805. doi:10.1177/0962280216669183
Higgins JPT et al. (eds). Cochrane Handbook, section 6.5.2.2-6.5.2.3 (SE from CI; SD from SE).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from .._dist import norm_ppf

from .._validate import check_level, check_option
from ..errors import ParameterError, Problem
from .escalc import as_numeric
from .registry import get_measure

__all__ = ["Converted", "se_from_ci", "mean_sd_from_median", "check_sd_vs_se", "wan_xi", "wan_eta"]

# Wan et al. (2014), Table 1: xi(n) = 2 E(Z_(n)) for n = 1..50; Table 2: eta(n) for Q = (n-1)/4 = 1..50.
_WAN_T1 = np.array([
    0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078, 3.173, 3.259, 3.336, 3.407,
    3.472, 3.532, 3.588, 3.640, 3.689, 3.735, 3.778, 3.819, 3.858, 3.895, 3.931, 3.964, 3.997, 4.027,
    4.057, 4.086, 4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301, 4.322, 4.341, 4.361,
    4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498])
_WAN_T2 = np.array([
    0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303, 1.307, 1.311, 1.313, 1.316,
    1.318, 1.320, 1.322, 1.323, 1.324, 1.326, 1.327, 1.328, 1.329, 1.330, 1.330, 1.331, 1.332, 1.332,
    1.333, 1.333, 1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337, 1.337, 1.338, 1.338,
    1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340])


@dataclass(frozen=True, slots=True)
class Converted:
    """Converted values (``table``) and what a reviewer should look at (``findings``)."""

    table: pd.DataFrame
    findings: tuple[Problem, ...] = ()

    def __repr__(self) -> str:
        return f"Converted(rows={len(self.table)}, columns={list(self.table.columns)}, findings={len(self.findings)})"


def _labels(study, k: int) -> list:
    if study is None:
        return [None] * k
    labels = list(study)
    if len(labels) != k:
        raise ParameterError(f"The 'study' labels must have one entry per row ({k}); got {len(labels)}.")
    return labels


# ---------------------------------------------------------------- CI -> SE

def se_from_ci(ci_low, ci_high, estimate=None, *, measure: str = "MD", level=0.95, tolerance: float = 0.1,
               study=None) -> Converted:
    """Standard error from a confidence interval, on the measure's analysis scale.

    Parameters
    ----------
    ci_low, ci_high : array-like
        Interval bounds as reported (natural scale: ratios for OR/RR/IRR/ROM, not their logs).
    estimate : array-like, optional
        Reported point estimate (same scale); if omitted the interval's midpoint is used.
    measure : str, default="MD"
        A registry code; ratio measures ("log" scale) are converted with log().
    level : float, default=0.95
        Confidence level of the interval (0.95 or 95).
    tolerance : float, default=0.1
        Largest acceptable asymmetry |(high - est) - (est - low)| / (high - low) on the analysis scale.
    study : sequence of str, optional
        Labels used in the findings.

    Returns
    -------
    Converted
        ``table`` with ``effect`` (analysis scale), ``se`` and ``asymmetry``; ``findings`` for
        intervals that are not symmetric about the estimate.

    Notes
    -----
    se = (high - low) / (2 z) with z = Phi^-1((1 + level)/2) (Cochrane Handbook 6.5.2.2 / 6.5.2.3).
    """
    m = get_measure(measure, caller="se_from_ci")
    lv = check_level(level, caller="se_from_ci")
    lo = as_numeric(ci_low, name="ci_low", caller="se_from_ci")
    hi = as_numeric(ci_high, name="ci_high", caller="se_from_ci")
    est = None if estimate is None else as_numeric(estimate, name="estimate", caller="se_from_ci")
    k = len(lo)
    if len(hi) != k or (est is not None and len(est) != k):
        raise ParameterError("The arguments of se_from_ci must have the same length; got "
                             f"ci_low={k}, ci_high={len(hi)}" + ("" if est is None else f", estimate={len(est)}") + ".")
    for name, x in (("ci_low", lo), ("ci_high", hi), ("estimate", est)):
        if x is not None and m.is_ratio and np.any(x <= 0):
            i = int(np.flatnonzero(x <= 0)[0])
            raise ParameterError(f"The '{name}' parameter of se_from_ci must be > 0 for ratio measure "
                                 f"{m.code!r} (give the ratio, not its log); position {i} is {float(x[i])!r}.")
    if np.any(hi < lo):
        i = int(np.flatnonzero(hi < lo)[0])
        raise ParameterError(f"se_from_ci: position {i} has ci_high={float(hi[i])!r} below ci_low={float(lo[i])!r}.")
    f = np.log if m.is_ratio else (lambda v: v)
    l, h = f(lo), f(hi)
    e = (l + h) / 2 if est is None else f(est)
    se = (h - l) / (2 * norm_ppf((1 + lv) / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        asym = np.abs((h - e) - (e - l)) / (h - l)
    findings = _asymmetry_findings(asym, tolerance, m, lo, hi, est, _labels(study, k))
    return Converted(pd.DataFrame({"effect": e, "se": se, "asymmetry": asym}), findings)


def _asymmetry_findings(asym, tolerance, m, lo, hi, est, labels) -> tuple[Problem, ...]:
    out = []
    scale = "log scale" if m.is_ratio else "natural scale"
    for i in np.flatnonzero(asym > tolerance):
        hint = ("check the scale: a CI symmetric on the natural scale suggests a difference, not a ratio"
                if m.is_ratio and abs((hi[i] - est[i]) - (est[i] - lo[i])) <= tolerance * (hi[i] - lo[i])
                else "check the transcription, or whether the interval came from another method")
        out.append(Problem(f"confidence interval at position {i} is not symmetric about the estimate on the "
                           f"{scale} (asymmetry {asym[i]:.2f} > {tolerance})", study=labels[i],
                           found=(float(lo[i]), float(est[i]), float(hi[i])),
                           expected="an interval symmetric on the analysis scale", hint=hint))
    return tuple(out)


# ---------------------------------------------------------------- median/IQR/range -> mean/SD

def wan_xi(n, *, table: bool = True) -> np.ndarray:
    """xi(n) = 2 E(Z_(n)): Wan 2014 Table 1 for n <= 50 (if ``table``), else 2 Phi^-1((n - 0.375)/(n + 0.25))."""
    n = np.asarray(n, dtype=float)
    approx = 2 * norm_ppf((n - 0.375) / (n + 0.25))
    idx = np.clip(np.nan_to_num(n).astype(int) - 1, 0, 49)
    return np.where(table & (n <= 50), _WAN_T1[idx], approx)


def wan_eta(n, *, table: bool = True) -> np.ndarray:
    """eta(n): Wan 2014 Table 2 for n <= 201 (Q = ceil((n-1)/4), if ``table``), else 2 Phi^-1((0.75n - 0.125)/(n + 0.25))."""
    n = np.asarray(n, dtype=float)
    approx = 2 * norm_ppf((0.75 * n - 0.125) / (n + 0.25))
    idx = np.clip(np.ceil(0.25 * (np.nan_to_num(n) - 1)).astype(int) - 1, 0, 49)
    return np.where(table & (n <= 201), _WAN_T2[idx], approx)


def _mean_s1(a, m, b, n, method):
    if method == "wan":  # Wan (2014) eq. (2) (Hozo et al. 2005)
        return (a + 2 * m + b) / 4 + (a - 2 * m + b) / (4 * n)
    w = 4 / (4 + n**0.75)  # Luo (2018), scenario S1 weight
    return w * (a + b) / 2 + (1 - w) * m


def _mean_s2(q1, m, q3, n, method):
    if method == "wan":  # Wan (2014) eq. (14)
        return (q1 + m + q3) / 3
    w = 0.7 + 0.39 / n  # Luo (2018), scenario S2 weight
    return w * (q1 + q3) / 2 + (1 - w) * m


def _mean_s3(a, q1, m, q3, b, n, method):
    if method == "wan":  # Wan (2014) eq. (10)
        return (a + 2 * q1 + 2 * m + 2 * q3 + b) / 8
    w1 = 2.2 / (2.2 + n**0.75)  # Luo (2018) eq. (15)
    w2 = 0.7 - 0.72 / n**0.55
    return w1 * (a + b) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * m


def mean_sd_from_median(n, median, *, minimum=None, maximum=None, q1=None, q3=None,
                        method: str = "luo", small_n_table: bool = True) -> pd.DataFrame:
    """Estimate mean and SD from the median and the range and/or the interquartile range.

    Parameters
    ----------
    n : array-like
        Sample size of each group.
    median : array-like
    minimum, maximum : array-like, optional
        The range (scenario S1, or S3 with the quartiles).
    q1, q3 : array-like, optional
        First and third quartiles (scenario S2, or S3 with the range).
    method : {"luo", "wan"}, default="luo"
        Mean estimator: Luo et al. (2018) or Wan et al. (2014). The SD is always Wan et al.'s.
    small_n_table : bool, default=True
        Use Wan et al.'s exact tabulated xi(n), eta(n) for small n (as R's meta does); False uses
        their closed-form approximations for every n.

    Returns
    -------
    DataFrame with ``mean``, ``sd`` and ``scenario`` ("S1", "S2" or "S3").

    References
    ----------
    Wan X et al. (2014). doi:10.1186/1471-2288-14-135
    Luo D et al. (2018). doi:10.1177/0962280216669183
    """
    caller = "mean_sd_from_median"
    method = check_option(method, name="method", allowed=("luo", "wan"), caller=caller)
    has_range = minimum is not None or maximum is not None
    has_iqr = q1 is not None or q3 is not None
    if (minimum is None) != (maximum is None) or (q1 is None) != (q3 is None) or not (has_range or has_iqr):
        raise ParameterError(f"{caller} needs minimum and maximum (S1), q1 and q3 (S2), or all four (S3).")
    vals = {"n": n, "median": median, "minimum": minimum, "q1": q1, "q3": q3, "maximum": maximum}
    x = {k: as_numeric(v, name=k, caller=caller) for k, v in vals.items() if v is not None}
    if len({len(v) for v in x.values()}) > 1:
        raise ParameterError(f"The arguments of {caller} must have the same length; got "
                             + ", ".join(f"{k}={len(v)}" for k, v in x.items()) + ".")
    _check_order(x, caller)
    nn = x["n"]
    if has_range and has_iqr:
        mean = _mean_s3(x["minimum"], x["q1"], x["median"], x["q3"], x["maximum"], nn, method)
        # Wan (2014) eqs. (12)/(13): average of the range- and IQR-based estimates
        tab = small_n_table
        sd = 0.5 * ((x["maximum"] - x["minimum"]) / wan_xi(nn, table=tab) + (x["q3"] - x["q1"]) / wan_eta(nn, table=tab))
        scen = "S3"
    elif has_range:
        mean = _mean_s1(x["minimum"], x["median"], x["maximum"], nn, method)
        sd = (x["maximum"] - x["minimum"]) / wan_xi(nn, table=small_n_table)  # Wan (2014) eqs. (7)/(9)
        scen = "S1"
    else:
        mean = _mean_s2(x["q1"], x["median"], x["q3"], nn, method)
        sd = (x["q3"] - x["q1"]) / wan_eta(nn, table=small_n_table)  # Wan (2014) eqs. (15)/(16)
        scen = "S2"
    return pd.DataFrame({"mean": mean, "sd": sd, "scenario": scen})


def _check_order(x: dict, caller: str) -> None:
    if np.any(x["n"] < 2):
        i = int(np.flatnonzero(x["n"] < 2)[0])
        raise ParameterError(f"The 'n' parameter of {caller} must be >= 2; position {i} is {float(x['n'][i])!r}.")
    chain = [k for k in ("minimum", "q1", "median", "q3", "maximum") if k in x]
    for lo, hi in zip(chain, chain[1:]):
        bad = x[lo] > x[hi]
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ParameterError(f"{caller}: position {i} has {lo}={float(x[lo][i])!r} above {hi}={float(x[hi][i])!r}; "
                                 f"expected {' <= '.join(chain)}.")
    if "minimum" in x and np.any(x["minimum"] >= x["maximum"]):
        i = int(np.flatnonzero(x["minimum"] >= x["maximum"])[0])
        raise ParameterError(f"{caller}: position {i} has a range of width 0; the SD cannot be estimated.")
    if "q1" in x and np.any(x["q1"] >= x["q3"]):
        i = int(np.flatnonzero(x["q1"] >= x["q3"])[0])
        raise ParameterError(f"{caller}: position {i} has an interquartile range of width 0; the SD cannot be estimated.")


# ---------------------------------------------------------------- SD that may be an SE

def check_sd_vs_se(mean_1, sd_1, n_1, mean_2, sd_2, n_2, *, study=None, max_smd: float = 2.5,
                   typical_sd=None) -> tuple[Problem, ...]:
    """Flag SDs that look like standard errors; each finding suggests sd = se * sqrt(n).

    Signals, per two-group comparison (group 1 vs group 2):

    1. the implied |SMD| = |mean_1 - mean_2| / pooled SD exceeds ``max_smd`` while reading the SDs
       as SEs (sd * sqrt(n)) would give a plausible |SMD| <= 1;
    2. one arm's SD is smaller than the other's by a factor close to sqrt(n) (ratio > 3 and within
       a factor 1.5 of sqrt(n) of the smaller arm);
    3. an SD below a third of ``typical_sd`` (the instrument's usual SD, e.g. 2-2.5 cm on a 10 cm VAS).

    Returns
    -------
    tuple of Problem (empty when nothing looks wrong)
    """
    caller = "check_sd_vs_se"
    args = dict(mean_1=mean_1, sd_1=sd_1, n_1=n_1, mean_2=mean_2, sd_2=sd_2, n_2=n_2)
    x = {k: as_numeric(v, name=k, caller=caller) for k, v in args.items()}
    k = len(x["mean_1"])
    if any(len(v) != k for v in x.values()):
        raise ParameterError(f"The arguments of {caller} must have the same length; got "
                             + ", ".join(f"{a}={len(v)}" for a, v in x.items()) + ".")
    labels = _labels(study, k)
    out: list[Problem] = []
    for i in range(k):
        out += _check_one(i, {a: v[i] for a, v in x.items()}, labels[i], max_smd, typical_sd)
    return tuple(out)


def _fix(sd, n) -> str:
    return f"if {sd:g} is a standard error, sd = se * sqrt(n) = {sd * np.sqrt(n):.4g}"


def _check_one(i, r, label, max_smd, typical_sd) -> list[Problem]:
    out: list[Problem] = []
    m1, s1, n1, m2, s2, n2 = (r[a] for a in ("mean_1", "sd_1", "n_1", "mean_2", "sd_2", "n_2"))
    if np.isnan([m1, s1, n1, m2, s2, n2]).any() or min(s1, s2) <= 0:
        return out
    sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    smd = abs(m1 - m2) / sp
    s1f, s2f = s1 * np.sqrt(n1), s2 * np.sqrt(n2)
    smd_fixed = abs(m1 - m2) / np.sqrt(((n1 - 1) * s1f**2 + (n2 - 1) * s2f**2) / (n1 + n2 - 2))
    if smd > max_smd and smd_fixed <= 1:
        out.append(Problem(f"comparison {i}: the SDs imply |SMD| = {smd:.2f}, implausibly large; reading them as "
                           f"standard errors gives |SMD| = {smd_fixed:.2f}", study=label, column="sd",
                           found=(float(s1), float(s2)), expected=f"|SMD| <= {max_smd}",
                           hint=f"{_fix(s1, n1)} (arm 1) and {_fix(s2, n2)} (arm 2)"))
    small, big, n_small = (s1, s2, n1) if s1 < s2 else (s2, s1, n2)
    ratio = big / small
    if ratio > 3 and abs(np.log(ratio / np.sqrt(n_small))) < np.log(1.5):
        out.append(Problem(f"comparison {i}: one arm's SD is {ratio:.1f} times smaller than the other's, "
                           f"close to sqrt(n) = {np.sqrt(n_small):.1f}", study=label, column="sd",
                           found=float(small), expected="similar SDs in both arms", hint=_fix(small, n_small)))
    if typical_sd is not None:
        for arm, s, nn in ((1, s1, n1), (2, s2, n2)):
            if s < typical_sd / 3:
                out.append(Problem(f"comparison {i}, arm {arm}: SD {s:g} is far below the usual SD {typical_sd:g} "
                                   f"of this outcome", study=label, column="sd", found=float(s),
                                   expected=f">= {typical_sd / 3:.3g}", hint=_fix(s, nn)))
    return out
