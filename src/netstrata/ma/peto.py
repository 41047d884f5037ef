"""Peto's one-step odds ratio, as metafor 3.8-1 ``rma.peto`` computes it.

References
----------
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Prog Cardiovasc Dis 27(5):335-371.
doi:10.1016/s0033-0620(85)80003-7
Bradburn MJ, Deeks JJ, Berlin JA, Localio AR (2007). Stat Med 26(1):53-77. doi:10.1002/sim.2528
Viechtbauer W (2010). J Stat Softw 36(3):1-48. doi:10.18637/jss.v036.i03
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._summary import Summary
from .._validate import check_level
from ..errors import DataError
from .pooled import PooledEstimate, backtransform_columns
from .mh.tables import (DROP_REASONS, frozen, add_to_cells, check_rules, check_tables, double_zero,
                 effect_drop_reasons, heterogeneity, study_labels, table_effects, wald, warn_undefined)

__all__ = ["PetoResult", "peto"]

PETO_REFERENCE = "Yusuf et al. (1985) doi:10.1016/s0033-0620(85)80003-7"


def peto_kernel(a, b, c, d):
    """Observed minus expected events and hypergeometric variances of each table.

    E_i = m1 n1 / N, V_i = m1 m2 (n1/N)(n2/N) / (N - 1), with m1 = a + c, m2 = b + d
    (V_i = 0 when a table has no events or only events).
    """
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    return a - xt * n1 / n, xt * yt * (n1 / n) * (n2 / n) / (n - 1)


def peto_q(o_minus_e, v) -> tuple[float, int]:
    """Peto's heterogeneity statistic over tables with V_i > 0, and their number k_pos.

    Q = sum (O_i - E_i)^2 / V_i - (sum O_i - E_i)^2 / sum V_i.
    """
    pos = v > 0
    q = np.sum(o_minus_e[pos] ** 2 / v[pos]) - np.sum(o_minus_e) ** 2 / np.sum(v[pos])
    return max(0.0, float(q)), int(pos.sum())


@dataclass(frozen=True, slots=True)
class PetoResult(PooledEstimate):
    """Peto's one-step pooled log odds ratio (metafor's ``rma.peto``).

    ``effect``/``variance`` are the per-study Peto log odds ratios (escalc ``PETO``) under the
    first continuity-correction rule; ``q`` is Peto's heterogeneity statistic on ``k_yi - 1``
    df (``i2`` in percent); ``dropped`` lists ``(study, reason)``.
    """

    k: int
    k_yi: int
    k_pos: int
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
    effect: np.ndarray
    variance: np.ndarray
    study: tuple
    dropped: tuple
    level: float
    measure: str = "PETO"
    method: str = "Peto"
    tau2: float = 0.0

    @property
    def ratio(self) -> tuple[float, float, float]:
        """(odds ratio, ci_low, ci_high) back-transformed with exp."""
        return float(np.exp(self.estimate)), float(np.exp(self.ci_low)), float(np.exp(self.ci_high))

    def __repr__(self) -> str:
        return (f"PetoResult(k={self.k}, estimate={self.estimate:.4f} [{self.ci_low:.4f}, "
                f"{self.ci_high:.4f}], q={self.q:.4f})")

    def summary(self, backtransf: bool = False) -> Summary:
        """The pooled log odds ratio and Q; ``backtransf=True`` gives the odds ratio and its CI."""
        frame = pd.DataFrame.from_dict({
            "pooled (Peto)": [self.estimate, self.se, self.ci_low, self.ci_high, self.statistic, np.nan, self.pvalue],
            "Q heterogeneity": [np.nan] * 4 + [self.q, self.k_yi - 1, self.q_pvalue],
        }, orient="index", columns=["estimate", "se", "ci_low", "ci_high", "statistic", "df", "pvalue"])
        if backtransf:
            frame = backtransform_columns(frame, self.measure, ["pooled (Peto)"], caller="PetoResult.summary")
        notes = [f"{self._scale_note(backtransf)} Level {self.level:.0%}; k = {self.k}; "
                 f"I2 = {self.i2:.1f}%; H2 = {self.h2:.3f}."]
        notes += [f"Left out: {s}: {r}" for s, r in self.dropped]
        return Summary(title="Peto one-step common-effect model (log odds ratio)", frame=frame, notes=tuple(notes))


def peto(events_1, n_1, events_2, n_2, *, level: float = 0.95, add=0.5, to="only0", drop00=True,
         study=None) -> PetoResult:
    """Peto's one-step common-effect meta-analysis of 2x2 tables (metafor's ``rma.peto``).

    Parameters
    ----------
    events_1, n_1, events_2, n_2 : array-like
        Events and participants in group 1 (treatment) and group 2 (control) of each study.
    level : float, default=0.95
        Confidence level (0.95 or 95).
    add, to, drop00 : value or pair, default 0.5, "only0", True
        As metafor: the first value is the rule of the per-study Peto effects (``effect``,
        ``variance``; they define ``k_yi``); the optional second value applies to the tables of
        the pooled estimate (default 0, "none", False).
    study : sequence, optional
        Study labels (1..k if omitted).

    Returns
    -------
    PetoResult

    Raises
    ------
    DataError
        When no table has both events and non-events (Peto's method cannot be used).

    Notes
    -----
    beta = sum(O_i - E_i) / sum V_i, se = 1 / sqrt(sum V_i), with E_i = m1 n1 / N and the
    hypergeometric variance V_i = m1 m2 n1 n2 / (N^2 (N - 1)).

    References
    ----------
    Yusuf et al. (1985) doi:10.1016/s0033-0620(85)80003-7; Bradburn et al. (2007)
    doi:10.1002/sim.2528.

    Examples
    --------
    >>> res = peto([4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(res.estimate, 4)
    -1.2401
    """
    caller = "peto"
    level = check_level(level, caller=caller)
    a, b, c, d = check_tables(events_1, n_1, events_2, n_2, caller=caller)
    rule_es, rule_pooled = check_rules(add, to, drop00, caller=caller)
    labels = study_labels(study, a.size, caller=caller)

    yi, vi = table_effects(a, b, c, d, "PETO", rule_es)
    reasons = effect_drop_reasons(a, b, c, d, yi, rule_es)
    warn_undefined(labels, reasons, caller)
    dropped = [(s, DROP_REASONS[r]) for s, r in zip(labels, reasons) if r is not None]

    keep = ~double_zero(a, b, c, d) if rule_pooled.drop00 else np.ones(a.size, dtype=bool)
    dropped += [(s, DROP_REASONS["table_dropped"]) for s, kept in zip(labels, keep) if not kept]
    if not keep.any():
        raise DataError(f"{caller}: no table is left after drop00 (every study has no events, or only "
                        "events, in both arms).")
    with np.errstate(divide="ignore", invalid="ignore"):
        o_e, v = peto_kernel(*add_to_cells(a[keep], b[keep], c[keep], d[keep], rule_pooled.add, rule_pooled.to))
    if np.sum(v) == 0:
        raise DataError("One of the two outcomes never occurred in any of the tables; Peto's method cannot "
                        "be used (every table has a zero hypergeometric variance).")

    beta = float(np.sum(o_e) / np.sum(v))
    se = float(np.sqrt(1 / np.sum(v)))
    z, p, lo, hi = wald(beta, se, level)
    k_yi = int(np.sum(~np.isnan(yi)))
    q, k_pos = peto_q(o_e, v)
    q_p, i2, h2 = heterogeneity(q, k_yi) if k_pos > 1 else (1.0, 0.0, 1.0)

    return PetoResult(
        k=int(keep.sum()), k_yi=k_yi, k_pos=k_pos, estimate=beta, se=se, statistic=z, pvalue=p, ci_low=lo,
        ci_high=hi, q=q, q_pvalue=q_p, i2=i2, h2=h2, effect=frozen(yi), variance=frozen(vi), study=labels,
        dropped=tuple(dropped), level=level)

