"""2x2-table helpers shared by :mod:`netstrata.ma.mh` and :mod:`netstrata.ma.peto`.

Argument checks for event/participant counts, metafor's continuity-correction rules
(``add``/``to``/``drop00``), per-study effects as metafor 3.8-1 ``escalc`` computes them for
the Q test, Wald inference and the inverse-variance Q test, and the exclusion reasons.

References
----------
Viechtbauer W (2010). J Stat Softw 36(3):1-48. doi:10.18637/jss.v036.i03
Sweeting MJ, Sutton AJ, Lambert PC (2004). Stat Med 23(9):1351-1375. doi:10.1002/sim.1761
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from ..._dist import chi2_sf, norm_isf, norm_sf

from ..._validate import as_float_array, check_option, check_same_length
from ...errors import ParameterError, StatisticalWarning

__all__ = ["ZeroCellRule", "ADD_TO", "DROP_REASONS", "check_tables", "check_rules", "study_labels",
           "double_zero", "add_to_cells", "table_effects", "wald", "heterogeneity", "q_test",
           "effect_drop_reasons", "warn_undefined", "frozen"]

ADD_TO = ("all", "only0", "if0all", "none")

# Why a study leaves (part of) an analysis: code -> message for the exclusion register.
DROP_REASONS = {
    "no_events": "no events in either arm: effect size undefined, left out of the Q test",
    "all_events": "events in every participant of both arms: effect size undefined, left out of the Q test",
    "zero_cell": "a zero cell without continuity correction: effect size undefined, left out of the Q test",
    "table_dropped": "no events (or only events) in both arms: table left out of the pooled estimate (drop00)",
    "not_informative": "no events (or only events) in both arms: left out of the Breslow-Day and Tarone tests",
}


# --------------------------------------------------------------------------------------------
# Boundary helpers (shared with peto.py)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ZeroCellRule:
    """One continuity-correction rule: add ``add`` to cells by rule ``to``; drop 0/0 tables."""

    add: float
    to: str
    drop00: bool


def check_tables(events_1, n_1, events_2, n_2, *, caller: str):
    """Validate four count vectors; return the cells a, b, c, d of the 2x2 tables."""
    arrays = {name: as_float_array(val, name=name, caller=caller, nonnegative=True)
              for name, val in (("events_1", events_1), ("n_1", n_1),
                                ("events_2", events_2), ("n_2", n_2))}
    check_same_length(caller, **arrays)
    for ev, n in (("events_1", "n_1"), ("events_2", "n_2")):
        bad = np.flatnonzero(arrays[ev] > arrays[n])
        if bad.size:
            i = int(bad[0])
            raise ParameterError(
                f"The '{ev}' parameter of {caller} must not exceed '{n}'; position {i} has "
                f"{arrays[ev][i]!r} events out of {arrays[n][i]!r}.")
        zero = np.flatnonzero(arrays[n] == 0)
        if zero.size:
            raise ParameterError(
                f"The '{n}' parameter of {caller} must be positive; position {int(zero[0])} is 0.")
    a, c = arrays["events_1"], arrays["events_2"]
    return a, arrays["n_1"] - a, c, arrays["n_2"] - c


def check_rules(add, to, drop00, *, caller: str, second: tuple = (0.0, "none", False)):
    """Split metafor-style ``add``/``to``/``drop00`` (a value or a pair) into two rules.

    The first rule computes the per-study effects (``escalc``); the second adjusts the tables
    used by the pooled estimate (metafor's defaults for the second: ``0``, ``"none"``, False).
    """
    def pair(value, name):
        if isinstance(value, (str, bool, int, float, np.number, np.bool_)):
            return value, second[("add", "to", "drop00").index(name)]
        value = tuple(value)
        if len(value) != 2:
            raise ParameterError(f"The '{name}' parameter of {caller} must be one value or two; got {len(value)}.")
        return value

    adds, tos, drops = pair(add, "add"), pair(to, "to"), pair(drop00, "drop00")
    rules = []
    for a, t, d in zip(adds, tos, drops):
        a_arr = as_float_array(a, name="add", caller=caller, nonnegative=True)
        if a_arr.size != 1:
            raise ParameterError(f"The 'add' parameter of {caller} must be a number; got {a!r}.")
        if not isinstance(d, (bool, np.bool_)):
            raise ParameterError(f"The 'drop00' parameter of {caller} must be True or False. Got {d!r} instead.")
        rules.append(ZeroCellRule(float(a_arr[0]), check_option(t, name="to", allowed=ADD_TO, caller=caller),
                                  bool(d)))
    return rules[0], rules[1]


def study_labels(study, k: int, *, caller: str) -> tuple:
    """Study labels as a tuple (1, ..., k when none are given, as metafor does)."""
    if study is None:
        return tuple(range(1, k + 1))
    labels = tuple(study)
    if len(labels) != k:
        raise ParameterError(f"The 'study' parameter of {caller} must have {k} labels; got {len(labels)}.")
    return labels


def alpha_of(level: float) -> float:
    """1 - level, computed as metafor's ``.level`` does from a percentage ((100 - 95) / 100)."""
    return (100.0 - 100.0 * level) / 100.0


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------

def double_zero(a, b, c, d):
    """Tables with no events (a = c = 0) or only events (b = d = 0) in both arms."""
    return ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))


def add_to_cells(a, b, c, d, add: float, to: str):
    """Continuity correction as metafor: add ``add`` to all cells of all tables ("all"), of tables
    with a zero cell ("only0"), of all tables if any has a zero cell ("if0all"), or none.
    NaN tables (dropped) stay NaN and never trigger "if0all"."""
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)  # NaN compares False
    if to == "all":
        hit = np.ones_like(a, dtype=bool)
    elif to == "only0":
        hit = zero
    elif to == "if0all":
        hit = np.full(a.shape, bool(zero.any()))
    else:
        hit = np.zeros_like(a, dtype=bool)
    plus = np.where(hit, add, 0.0)
    return a + plus, b + plus, c + plus, d + plus


def table_effects(a, b, c, d, measure: str, rule: ZeroCellRule):
    """Per-study effect and variance as metafor's ``escalc`` (vtype "LS"); NaN where undefined.

    OR: log(p1/(1-p1)) - log(p2/(1-p2)), v = 1/a + 1/b + 1/c + 1/d
    RR: log(p1) - log(p2),               v = 1/a - 1/n1 + 1/c - 1/n2
    RD: p1 - p2,                         v = p1(1-p1)/n1 + p2(1-p2)/n2
    PETO: (a - E)/V, v = 1/V with E = (a+c) n1/N, V = (a+c)(b+d)(n1/N)(n2/N)/(N-1)
    """
    a, b, c, d = (np.asarray(x, dtype=float).copy() for x in (a, b, c, d))
    if rule.drop00:
        gone = double_zero(a, b, c, d)
        for x in (a, b, c, d):
            x[gone] = np.nan
    a, b, c, d = add_to_cells(a, b, c, d, rule.add, rule.to)
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "RD":
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # PETO
            ni = n1 + n2
            xt, yt = a + c, b + d
            big_v = xt * yt * (n1 / ni) * (n2 / ni) / (ni - 1)
            yi = (a - xt * n1 / ni) / big_v
            vi = 1 / big_v
    bad = ~(np.isfinite(yi) & np.isfinite(vi))  # escalc recodes +-Inf to NA
    yi[bad], vi[bad] = np.nan, np.nan
    return yi, vi


def wald(beta: float, se: float, level: float):
    """z = beta/se, two-sided p = 2(1 - Phi(|z|)), CI beta -/+ z_{1-alpha/2} se."""
    if not (np.isfinite(beta) and np.isfinite(se)):
        return (np.nan,) * 4
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0 (e.g. RD of 0/0 tables): z is NaN or Inf
        z = float(np.float64(beta) / se)
    crit = norm_isf(alpha_of(level) / 2)
    return z, 2 * norm_sf(abs(z)), beta - crit * se, beta + crit * se


def heterogeneity(q: float, k_yi: int):
    """p-value, I2 (%) and H2 of a Q statistic on k_yi - 1 df; (1, 0, 1) when k_yi <= 1."""
    if k_yi <= 1:
        return 1.0, 0.0, 1.0
    df = k_yi - 1
    i2 = max(0.0, 100 * (q - df) / q) if q > 0 else 0.0  # R: max(0, -Inf) = 0 when Q = 0
    return float(chi2_sf(q, df)), i2, q / df


def inverse_variance_q(yi, vi, beta: float) -> float:
    """Q = max(0, sum w_i (y_i - beta)^2), w_i = 1/v_i, over studies with a defined effect."""
    ok = ~np.isnan(yi)
    return max(0.0, float(np.sum((yi[ok] - beta) ** 2 / vi[ok])))


def q_test(yi, vi, beta: float, k_yi: int):
    """(Q, p, I2, H2) as metafor: Q = 0 when k_yi <= 1, all NaN when the estimate is undefined."""
    if k_yi <= 1:
        return (0.0, *heterogeneity(0.0, k_yi))
    if not np.isfinite(beta):
        return (np.nan,) * 4
    q = inverse_variance_q(yi, vi, beta)
    return (q, *heterogeneity(q, k_yi))


# --------------------------------------------------------------------------------------------
# Exclusions
# --------------------------------------------------------------------------------------------

def effect_drop_reasons(a, b, c, d, yi, rule: ZeroCellRule) -> list[str | None]:
    """Why each study has no effect size (None where it has one)."""
    reasons: list[str | None] = []
    for i in range(a.size):
        if not np.isnan(yi[i]):
            reasons.append(None)
        elif rule.drop00 and a[i] == 0 and c[i] == 0:
            reasons.append("no_events")
        elif rule.drop00 and b[i] == 0 and d[i] == 0:
            reasons.append("all_events")
        else:
            reasons.append("zero_cell")
    return reasons


def warn_undefined(study: tuple, reasons: Sequence[str | None], caller: str) -> None:
    """Typed warning listing the studies whose effect size is undefined (metafor: 'Some yi/vi values are NA.')."""
    missing = [str(s) for s, r in zip(study, reasons) if r is not None]
    if missing:
        warnings.warn(
            f"{caller}: {len(missing)} stud{'y has' if len(missing) == 1 else 'ies have'} no defined effect size "
            f"and {'is' if len(missing) == 1 else 'are'} left out of the Q test: {', '.join(missing)}. "
            "Use drop00=False to keep double-zero studies with a continuity correction.",
            StatisticalWarning, stacklevel=3)


def frozen(x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=float)
    x.flags.writeable = False
    return x
