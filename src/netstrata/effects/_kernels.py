"""Effect-size kernels: arrays in, (effect, variance) out, one formula each (metafor 3.8-1 ``escalc``).

Group 1 versus group 2 throughout: ``effect = f(group 1) - f(group 2)`` on the analysis scale.
Binary kernels receive the four cells *after* any continuity correction, ``a, b`` (events and
non-events in group 1) and ``c, d`` (group 2); proportion kernels receive ``x, m`` (events and
non-events); rate kernels ``x1, t1, x2, t2``; mean kernels ``m1, sd1, n1, m2, sd2, n2``.
Kernels trust their inputs (validation happens once, in ``effect_sizes``); divisions by zero give
``inf``/``nan`` that the front door turns into missing values, as metafor does.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
doi:10.18637/jss.v036.i03 (the formulas below follow R/escalc.r of metafor 3.8-1).
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln

__all__ = [
    "log_odds_ratio", "log_risk_ratio", "risk_difference", "peto_log_odds_ratio", "arcsine_difference",
    "mean_difference", "standardized_mean_difference", "log_ratio_of_means", "hedges_correction",
    "raw_proportion", "log_proportion", "logit_proportion", "arcsine_proportion", "freeman_tukey_proportion",
    "raw_correlation", "fisher_z_correlation", "log_incidence_rate_ratio", "incidence_rate_difference",
]

_ERR = dict(divide="ignore", invalid="ignore", over="ignore")


def _wmean(x, w):
    """Weighted mean over the pairs where both are present (metafor's ``.wmean(na.rm=TRUE)``)."""
    ok = ~(np.isnan(x) | np.isnan(w))
    return np.sum(x[ok] * w[ok]) / np.sum(w[ok])


# ---------------------------------------------------------------- two-group binary (2x2 tables)

def log_odds_ratio(a, b, c, d, vtype="LS"):
    """log OR = log(a d / (b c)); Woolf's variance 1/a + 1/b + 1/c + 1/d."""
    with np.errstate(**_ERR):
        p1, p2 = a / (a + b), c / (c + d)
        yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
        vi = 1 / a + 1 / b + 1 / c + 1 / d
    return yi, vi


def log_risk_ratio(a, b, c, d, vtype="LS"):
    """log RR = log(p1) - log(p2); variance 1/a - 1/n1 + 1/c - 1/n2 (Katz 1978)."""
    with np.errstate(**_ERR):
        n1, n2 = a + b, c + d
        yi = np.log(a / n1) - np.log(c / n2)
        vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
    return yi, vi


def risk_difference(a, b, c, d, vtype="LS"):
    """RD = p1 - p2; variance p(1-p)/n per group ("LS"), /(n-1) ("UB"), or pooled mean p ("AV")."""
    with np.errstate(**_ERR):
        n1, n2 = a + b, c + d
        p1, p2 = a / n1, c / n2
        yi = p1 - p2
        if vtype == "UB":
            vi = p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1)
        elif vtype == "AV":  # sample-size weighted mean proportions (homogeneity)
            q1, q2 = _wmean(p1, n1), _wmean(p2, n2)
            vi = q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2
        else:
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return yi, vi


def peto_log_odds_ratio(a, b, c, d, vtype="LS"):
    """Peto's one-step log OR: (O - E) / V, variance 1/V, with the hypergeometric E and V.

    E = (a + c) n1 / N,  V = (a + c)(b + d) n1 n2 / (N^2 (N - 1))  (Yusuf et al. 1985).
    """
    with np.errstate(**_ERR):
        n1, n2 = a + b, c + d
        nn = n1 + n2
        e = (a + c) * n1 / nn
        v = (a + c) * (b + d) * (n1 / nn) * (n2 / nn) / (nn - 1)
        yi = (a - e) / v
        vi = 1 / v
    return yi, vi


def arcsine_difference(a, b, c, d, vtype="LS"):
    """Arcsine risk difference asin(sqrt(p1)) - asin(sqrt(p2)); variance 1/(4 n1) + 1/(4 n2)."""
    with np.errstate(**_ERR):
        n1, n2 = a + b, c + d
        yi = np.arcsin(np.sqrt(a / n1)) - np.arcsin(np.sqrt(c / n2))
        vi = 1 / (4 * n1) + 1 / (4 * n2)
    return yi, vi


# ---------------------------------------------------------------- two-group means

def hedges_correction(m):
    """Exact small-sample factor c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)); NaN for m <= 1.

    Computed on the log scale to avoid overflow (metafor's ``.cmicalc``); Hedges (1981), eq. 6b.
    """
    m = np.asarray(m, dtype=float)
    with np.errstate(**_ERR):
        out = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, out)


def _pooled_sd(sd1, n1, sd2, n2):
    # s_p = sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (n1 + n2 - 2))
    return np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))


def mean_difference(m1, sd1, n1, m2, sd2, n2, vtype="LS"):
    """MD = m1 - m2; variance sd1^2/n1 + sd2^2/n2 ("LS"/"UB") or s_p^2 (1/n1 + 1/n2) ("HO")."""
    with np.errstate(**_ERR):
        yi = m1 - m2
        if vtype == "HO":
            vi = _pooled_sd(sd1, n1, sd2, n2) ** 2 * (1 / n1 + 1 / n2)
        else:
            vi = sd1**2 / n1 + sd2**2 / n2
    return yi, vi


def standardized_mean_difference(m1, sd1, n1, m2, sd2, n2, vtype="LS"):
    """Hedges' g = c(m) (m1 - m2) / s_p with m = n1 + n2 - 2 and the exact c(m).

    Variance "LS": 1/n1 + 1/n2 + g^2 / (2 (n1 + n2)); "UB": 1/n1 + 1/n2 + (1 - (m-2)/(m c(m)^2)) g^2;
    "LS2": c(m)^2 (1/n1 + 1/n2 + d^2 / (2 (n1 + n2))) (Borenstein 2009, eq. 4.24);
    "AV": as "LS" with the sample-size weighted mean g.
    """
    with np.errstate(**_ERR):
        mi = n1 + n2 - 2
        di = (m1 - m2) / _pooled_sd(sd1, n1, sd2, n2)
        cm = hedges_correction(mi)
        yi = cm * di
        base = 1 / n1 + 1 / n2
        if vtype == "UB":
            vi = base + (1 - (mi - 2) / (mi * cm**2)) * yi**2
        elif vtype == "LS2":
            vi = cm**2 * (base + di**2 / (2 * (n1 + n2)))
        elif vtype == "AV":
            vi = base + _wmean(yi, n1 + n2) ** 2 / (2 * (n1 + n2))
        else:
            vi = base + yi**2 / (2 * (n1 + n2))
    return yi, vi


def log_ratio_of_means(m1, sd1, n1, m2, sd2, n2, vtype="LS"):
    """log ROM = log(m1 / m2); variance sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2) (Hedges et al. 1999).

    "HO" uses the pooled SD in both terms.
    """
    with np.errstate(**_ERR):
        yi = np.log(m1 / m2)
        if vtype == "HO":
            sp2 = _pooled_sd(sd1, n1, sd2, n2) ** 2
            vi = sp2 / (n1 * m1**2) + sp2 / (n2 * m2**2)
        else:
            vi = sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
    return yi, vi


# ---------------------------------------------------------------- single proportions

def raw_proportion(x, m, vtype="LS"):
    """p = x / n; variance p(1-p)/n ("LS"), /(n-1) ("UB"), or with the weighted mean p ("AV")."""
    with np.errstate(**_ERR):
        n = x + m
        p = x / n
        if vtype == "UB":
            vi = p * (1 - p) / (n - 1)
        elif vtype == "AV":
            q = _wmean(p, n)
            vi = q * (1 - q) / n
        else:
            vi = p * (1 - p) / n
    return p, vi


def log_proportion(x, m, vtype="LS"):
    """log p; variance 1/x - 1/n."""
    with np.errstate(**_ERR):
        n = x + m
        return np.log(x / n), 1 / x - 1 / n


def logit_proportion(x, m, vtype="LS"):
    """logit p = log(x / m); variance 1/x + 1/m ("LS") or 1/(q n) + 1/((1-q) n), q = mean p ("AV")."""
    with np.errstate(**_ERR):
        n = x + m
        p = x / n
        yi = np.log(p / (1 - p))
        if vtype == "AV":
            q = _wmean(p, n)
            vi = 1 / (q * n) + 1 / ((1 - q) * n)
        else:
            vi = 1 / x + 1 / m
    return yi, vi


def arcsine_proportion(x, m, vtype="LS"):
    """Angular transformation asin(sqrt(p)); variance 1/(4n)."""
    with np.errstate(**_ERR):
        n = x + m
        return np.arcsin(np.sqrt(x / n)), 1 / (4 * n)


def freeman_tukey_proportion(x, m, vtype="LS"):
    """Freeman-Tukey double arcsine: (asin sqrt(x/(n+1)) + asin sqrt((x+1)/(n+1))) / 2; variance 1/(4n+2)."""
    with np.errstate(**_ERR):
        n = x + m
        yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
        return yi, 1 / (4 * n + 2)


# ---------------------------------------------------------------- correlations

def raw_correlation(r, n, vtype="LS"):
    """r; variance (1 - r^2)^2 / (n - 1) ("LS") or with the weighted mean r ("AV"); NaN for n <= 3."""
    with np.errstate(**_ERR):
        rbar = _wmean(r, n) if vtype == "AV" else r
        vi = (1 - rbar**2) ** 2 / (n - 1)
    return r.copy(), np.where(n <= 3, np.nan, vi)


def fisher_z_correlation(r, n, vtype="LS"):
    """Fisher's z = atanh(r) = log((1+r)/(1-r)) / 2; variance 1/(n - 3); NaN for n <= 3."""
    with np.errstate(**_ERR):
        yi = 0.5 * np.log((1 + r) / (1 - r))
        vi = 1 / (n - 3)
    return yi, np.where(n <= 3, np.nan, vi)


# ---------------------------------------------------------------- two-group incidence rates

def log_incidence_rate_ratio(x1, t1, x2, t2, vtype="LS"):
    """log IRR = log(x1/t1) - log(x2/t2); variance 1/x1 + 1/x2."""
    with np.errstate(**_ERR):
        return np.log(x1 / t1) - np.log(x2 / t2), 1 / x1 + 1 / x2


def incidence_rate_difference(x1, t1, x2, t2, vtype="LS"):
    """IRD = x1/t1 - x2/t2; variance x1/t1^2 + x2/t2^2."""
    with np.errstate(**_ERR):
        return x1 / t1 - x2 / t2, x1 / t1**2 + x2 / t2**2
