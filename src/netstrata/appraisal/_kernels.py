"""Plain-NumPy kernels for plausibility checks (arrays in, arrays out; formulas in comments)."""
from __future__ import annotations

import numpy as np

__all__ = ["pooled_smd", "max_abs_smd", "ci_asymmetry"]


def pooled_smd(m1, s1, n1, m2, s2, n2):
    """Standardised mean difference with the pooled SD (Cohen's d).

    d = (m1 - m2) / s_p,  s_p = sqrt(((n1-1) s1^2 + (n2-1) s2^2) / (n1 + n2 - 2))
    Cochrane Handbook v6.5, section 6.5.1.2.
    """
    sp = np.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (n1 + n2 - 2))
    return (m1 - m2) / sp


def max_abs_smd(mean, sd, n) -> float:
    """Largest |d| over all pairs of arms of one study/outcome/time point."""
    i, j = np.triu_indices(len(mean), k=1)
    return float(np.max(np.abs(pooled_smd(mean[i], sd[i], n[i], mean[j], sd[j], n[j]))))


def ci_asymmetry(estimate, low, high):
    """Relative asymmetry of a confidence interval around its estimate.

    a = |(high - est) - (est - low)| / (high - low); 0 for a symmetric (Wald) interval.
    Ratios (OR, RR, HR) are symmetric on the log scale: pass log values.
    """
    estimate, low, high = (np.asarray(x, dtype=float) for x in (estimate, low, high))
    width = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(width > 0, np.abs((high - estimate) - (estimate - low)) / width, np.nan)
