"""Fit of one connected (sub-)network: common and random effects graph models (netmeta netmeta()).

Arrays only; the public result object (``result.NetworkResult``) wraps one ``ComponentFit`` per
connected component.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from .._dist import chi2_sf as _chi2_sf, norm_ppf

from ..errors import StatisticalWarning
from .kernel import (GraphFit, MultiArmBlock, dl_tau2, fit_graph, multiarm_blocks,
                     reduce_multiarm_variances, resistance)
from .prepare import Prepared, prepare_contrasts
from .reml import reml_design, reml_tau2

__all__ = ["ComponentFit", "fit_component", "fit_rows", "isquared", "chi2_sf"]


def chi2_sf(q, df):
    """Upper chi-square tail; NaN where df == 0 (netmeta sets such p-values to NA)."""
    q = np.asarray(q, dtype=float)
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(df > 0, _chi2_sf(q, np.where(df > 0, df, 1)), np.nan)
    return out if out.ndim else float(out)


def isquared(q: float, df: float, level: float = 0.95) -> tuple[float, float, float]:
    """I² with the Higgins-Thompson CI as fractions (meta isquared/calcH; doi:10.1002/sim.1186)."""
    k = df + 1
    if not np.isfinite(k) or k <= 1:
        return (np.nan, np.nan, np.nan)
    H = np.sqrt(q / (k - 1))
    if q > k:
        se_log = 0.5 * (np.log(q) - np.log(k - 1)) / (np.sqrt(2 * q) - np.sqrt(2 * k - 3)) if k >= 2 else np.nan
    else:
        se_log = np.sqrt(1 / (2 * (k - 2)) * (1 - 1 / (3 * (k - 2) ** 2))) if k > 2 else np.nan
    z = norm_ppf(1 - (1 - level) / 2)
    centre = np.log(max(H, 1.0))
    vals = (np.exp(centre), max(np.exp(centre - z * se_log), 1.0), max(np.exp(centre + z * se_log), 1.0))
    i2, lo, hi = (float((h * h - 1) / (h * h)) for h in vals)
    return i2, lo, hi


@dataclass(frozen=True, slots=True)
class ComponentFit:
    """Common and random effects fits of one connected network (netmeta res.f / res.r)."""

    prep: Prepared
    blocks: tuple[MultiArmBlock, ...]
    narms: np.ndarray           # arms per study (index = study code)
    var_common: np.ndarray      # reduced variances, common model
    var_random: np.ndarray      # reduced variances of se² + tau², random model
    common: GraphFit
    random: GraphFit
    q: float
    df: int
    tau2: float                 # NaN when df == 0 (netmeta NA); the random model then uses 0
    method: str
    reml_note: str | None

    @property
    def n(self) -> int:
        return self.prep.n

    @property
    def tau2_used(self) -> float:
        return 0.0 if not np.isfinite(self.tau2) else self.tau2

    def graph(self, model: str) -> GraphFit:
        return self.common if model == "common" else self.random

    def var(self, model: str) -> np.ndarray:
        return self.var_common if model == "common" else self.var_random

    def league(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        """(TE, seTE) matrices, cell [i, j] = i versus j."""
        g = self.graph(model)
        return g.theta[:, None] - g.theta[None, :], np.sqrt(resistance(g.lplus))


def _single_rows(study: np.ndarray) -> np.ndarray:
    counts = np.bincount(study)
    return np.flatnonzero(counts[study] == 1)


def _split_studies(prep: Prepared) -> list[str]:
    """Studies whose rows are not contiguous in the input."""
    return sorted(prep.studies[s] for s in range(len(prep.studies))
                  if np.ptp(np.flatnonzero(prep.study == s)) + 1 != np.sum(prep.study == s))


def _netmeta_reml_flags(prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """netmeta 2.9-0's REML keep / flip flags, computed study by study (order of first
    appearance; baseline = first treatment if in the study, else the study's last) and returned
    concatenated, i.e. in study-grouped order.  netmeta applies them to rows in input order."""
    keep, flip = [], []
    for s in range(len(prep.studies)):
        r = np.flatnonzero(prep.study == s)
        arms = np.unique(np.r_[prep.t1[r], prep.t2[r]])
        base = 0 if 0 in arms else arms[-1]
        keep.append((prep.t1[r] == base) | (prep.t2[r] == base))
        flip.append(prep.t1[r] == base)
    return np.concatenate(keep), np.concatenate(flip)


def reml_data(prep: Prepared):
    """netmeta's REML data reduction of ``prep``: ``(y, X, V blocks, K blocks, note)`` with ``X``
    over all n treatments (+1 at the comparison's other treatment, -1 at its baseline).

    When the rows of a multi-arm study are not contiguous, netmeta's flags shift onto
    neighbouring rows (they are positionally paired with rows in input order); we reproduce this
    so that tau² matches netmeta, and say so in ``note``.  The class-effect models
    (:mod:`netstrata.nma.classes`) maximise their likelihood on the same data.
    """
    var = prep.se ** 2
    split = _split_studies(prep)
    if not split:
        y, X, V, K = reml_design(prep.study, prep.t1, prep.t2, prep.te, var, prep.n, 0,
                                 covariance=prep.covariance, full=True)
        return y, X, V, K, None
    keep_flag, flip_flag = _netmeta_reml_flags(prep)
    keep = np.flatnonzero(keep_flag)
    flip = flip_flag[keep]
    y = np.where(flip, -prep.te[keep], prep.te[keep])
    other = np.where(flip, prep.t2[keep], prep.t1[keep])
    base = np.where(flip, prep.t1[keep], prep.t2[keep])
    note = ("REML tau2 reproduces netmeta 2.9-0, whose REML data reduction pairs flags with rows "
            "positionally; the rows of study/studies " + ", ".join(repr(s) for s in split) +
            " are not contiguous, which shifts that pairing (group each study's rows together "
            "to avoid it).")
    return (*_reml_matrices(prep.study[keep], other, base, y, var[keep], prep.n), note)


def identifiable_columns(X: np.ndarray) -> np.ndarray:
    """``X`` without the columns of treatments it does not use and without its last used column
    (netmeta's ``contrasts - 1`` parametrisation of the rma.mv call)."""
    return X[:, np.any(X != 0, axis=0)][:, :-1]


def _reml(prep: Prepared) -> tuple[float, str | None]:
    """REML tau² of netmeta's rma.mv model (see :func:`reml_data`)."""
    y, X, V, K, note = reml_data(prep)
    return reml_tau2(y, identifiable_columns(X), V, K), note


def _reml_matrices(study, other, base, y, var, n):
    """(y, X, V blocks, K blocks) for rows already reduced (comparisons other vs base), grouped
    by study; diagonal V; K = 1 for the same comparison label, 0.5 for different ones.  ``X`` has
    all n columns."""
    order = np.argsort(study, kind="stable")
    study, other, base, y, var = study[order], other[order], base[order], y[order], var[order]
    m = len(y)
    X = np.zeros((m, n))
    X[np.arange(m), other] += 1.0
    X[np.arange(m), base] -= 1.0
    label = other * n + base
    V_blocks, K_blocks = [], []
    for s in np.unique(study):
        r = np.flatnonzero(study == s)
        V_blocks.append(np.diag(var[r]))
        K_blocks.append(np.where(label[r][:, None] == label[r][None, :], 1.0, 0.5))
    return y, X, V_blocks, K_blocks


def _warn_negative(prep: Prepared, var: np.ndarray) -> None:
    """netmeta warns when the multi-arm reduction gives negative variances (weights)."""
    bad = sorted({prep.studies[s] for s in prep.study[var < 0]})
    if bad:
        warnings.warn("The multi-arm weight reduction gave negative variances for study/studies "
                      + ", ".join(repr(b) for b in bad) + " (their pairwise variances are far from "
                      "consistent); check the standard errors of these studies.",
                      StatisticalWarning, stacklevel=4)


def fit_component(prep: Prepared, method: str, tau2_preset: float | None = None,
                  blocks: tuple | None = None) -> ComponentFit:
    """netmeta's common and random effects fits of a connected network (netmeta.R section 6).

    ``tau2_preset`` fixes tau² (netmeta ``tau.preset`` = its square root) instead of estimating it.
    ``blocks``: ``multiarm_blocks`` of ``prep`` when the caller has them.
    """
    counts = np.bincount(prep.study, minlength=len(prep.studies))
    if blocks is None:
        # no study with two or more rows: no multi-arm block (what multiarm_blocks finds), not searched
        blocks = tuple(multiarm_blocks(prep.study, prep.t1, prep.t2)) if counts.max(initial=0) > 1 else ()
    narms = np.rint((1 + np.sqrt(8 * counts + 1)) / 2).astype(int)
    var0 = prep.se ** 2
    var_c = reduce_multiarm_variances(var0, list(blocks))
    _warn_negative(prep, var_c)
    common = fit_graph(prep.te, 1.0 / var_c, prep.t1, prep.t2, prep.n)
    df = int(np.sum(narms - 1) - (prep.n - 1))
    note = None
    if tau2_preset is not None:
        tau2 = float(tau2_preset)
    elif method == "REML":
        tau2, note = _reml(prep)
    else:
        tau2 = dl_tau2(common.q, df, 1.0 / var_c, common.lplus, prep.t1, prep.t2,
                       _single_rows(prep.study), list(blocks))
    used = tau2 if np.isfinite(tau2) else 0.0
    var_r = reduce_multiarm_variances(var0 + used, list(blocks))
    random = fit_graph(prep.te, 1.0 / var_r, prep.t1, prep.t2, prep.n)
    return ComponentFit(prep, blocks, narms, var_c, var_r, common, random, common.q, df, tau2,
                        method, note)


def fit_rows(rows, method: str) -> ComponentFit:
    """The fit of a connected network from contrast rows (``study, treat1, treat2, effect, se``)
    that a result has already checked: what a refit (SIDDE, bootstrap) needs, and exactly what
    ``network(rows, method=method)`` computes for a connected network, without its result."""
    prep, _ = prepare_contrasts(rows, "network")
    return fit_component(prep, method)
