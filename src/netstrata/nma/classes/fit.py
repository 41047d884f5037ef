"""Fits of the three class models on one connected network (arrays; see .kernel).

``ClassInputs`` holds everything a fit needs: the REML data reduction netmeta uses for tau²
(likelihood), the graph arrays netmeta uses for its estimates, and the class designs.  The
likelihood is maximised on the former; the estimates at the maximum come from the graph
(``graph_terms``), so that the independent model is ``network()`` exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .kernel import ClassDesign, LikData, fit_variances, graph_terms, likelihood_data, mixed_solve
from ..component import reml_data
from ..kernel import multiarm_blocks
from ..prepare import Prepared

__all__ = ["CLASS_MODELS", "ClassInputs", "ClassFit", "class_inputs", "fit_class_model", "estimates_at"]

#: model -> what it assumes (registry data: validation, docs and the report read it)
CLASS_MODELS = {
    "independent": "each treatment its own effect (the split network; netmeta)",
    "exchangeable": "treatment effects drawn from a normal distribution around their class effect",
    "common": "one effect per class (the lumped network on relabelled treatments)",
}
EFFECTS = ("common", "random")


class ClassInputs(NamedTuple):
    prep: Prepared
    reference: int                 # index of the reference treatment
    class_of: np.ndarray           # (n,) class index of each treatment
    classes: tuple[str, ...]
    data: LikData
    graph: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple, int]   # (t1, t2, te, var, blocks, n)
    designs: dict                  # model -> ClassDesign
    group_class: np.ndarray        # class index of each variance group (-1: shared by all)
    note: str | None


@dataclass(frozen=True, slots=True)
class ClassFit:
    """One class model fitted with tau² estimated (``random``) or 0 (``common``)."""

    effects: np.ndarray        # (n,) d_k versus the reference (reference 0)
    cov: np.ndarray            # (n, n) prediction-error covariance of effects
    class_effects: np.ndarray  # (c,) class effects versus the reference's class (0); NaN if none
    class_cov: np.ndarray      # (c, c)
    tau2: float
    sigma2: np.ndarray         # (c,) within-class variance per class; NaN where it has none
    loglik: float
    reml: bool
    converged: bool
    n_parameters: int          # fixed effects + variance parameters (tau² only if estimated)


def _designs(class_of: np.ndarray, reference: int, n_classes: int, shared: bool):
    """ClassDesign of each model and the class of each variance group."""
    others = np.delete(np.arange(len(class_of)), reference)
    ref_class = class_of[reference]
    cls = class_of[others]
    mean_classes = [c for c in range(n_classes) if c != ref_class]
    M = (cls[:, None] == np.array(mean_classes, dtype=int)[None, :]).astype(float)
    sizes = np.bincount(class_of, minlength=n_classes)
    varying = [c for c in range(n_classes) if sizes[c] >= 2]     # a one-member class has none
    gindex = {c: (0 if shared else i) for i, c in enumerate(varying)}
    group = np.array([gindex.get(c, -1) for c in cls], dtype=int)
    n_sigma = (1 if varying else 0) if shared else len(varying)
    designs = {"independent": ClassDesign(np.eye(len(others)), np.full(len(others), -1), 0),
               "common": ClassDesign(M, np.full(len(others), -1), 0),
               "exchangeable": ClassDesign(M, group, n_sigma)}
    group_class = np.array([-1] if shared and varying else varying, dtype=int)
    return designs, group_class


def class_inputs(prep: Prepared, class_of: np.ndarray, classes: tuple[str, ...], reference: int,
                 shared: bool) -> ClassInputs:
    y, X, V, K, note = reml_data(prep)
    data = likelihood_data(y, np.delete(X, reference, axis=1), V, K)
    blocks = tuple(multiarm_blocks(prep.study, prep.t1, prep.t2))
    graph = (prep.t1, prep.t2, prep.te, prep.se ** 2, blocks, prep.n)
    designs, group_class = _designs(class_of, reference, len(classes), shared)
    return ClassInputs(prep, reference, class_of, classes, data, graph, designs, group_class, note)


def _class_sigma2(inp: ClassInputs, design: ClassDesign, sigma2: np.ndarray) -> np.ndarray:
    out = np.full(len(inp.classes), np.nan)
    for g, c in enumerate(inp.group_class[: design.n_sigma]):
        if c < 0:
            sizes = np.bincount(inp.class_of, minlength=len(inp.classes))
            out[sizes >= 2] = sigma2[g]
        else:
            out[c] = sigma2[g]
    return out


def _moment_sigma2(inp: ClassInputs, tau2: float) -> float:
    """Starting value: pooled within-class variance of the independent estimates (≥ 1e-4)."""
    lam, b = graph_terms(*inp.graph[:5], inp.graph[5], inp.reference, tau2)
    d = np.linalg.solve(lam, b)
    cls = np.delete(inp.class_of, inp.reference)
    dev = [d[cls == c] - d[cls == c].mean() for c in np.unique(cls) if np.sum(cls == c) > 1]
    pooled = float(np.mean(np.concatenate(dev) ** 2)) if dev else 0.0
    return max(pooled, 1e-4)


def _starts(inp: ClassInputs, reml: bool, tau2: float | None, known: dict | None = None):
    """Candidate (tau2, sigma2) starting points for the exchangeable model: the common model's
    optimum (sigma² = 0) and the independent model's tau² with a moment estimate of sigma².
    ``known``: tau² of the common / independent fits if already estimated."""
    known = known or {}
    fixed = tau2 is not None

    def t2(model):
        if fixed:
            return tau2
        return known[model] if model in known else fit_variances(inp.data, inp.designs[model], reml=reml).tau2

    t_common, t_indep = t2("common"), t2("independent")
    s_mom = _moment_sigma2(inp, t_indep)
    return [(t_common, 0.0), (t_indep, s_mom)]


def fit_class_model(inp: ClassInputs, model: str, *, reml: bool, effects: str, known: dict | None = None) -> ClassFit:
    """Fit ``model`` ('independent', 'exchangeable', 'common'); ``effects`` 'random' estimates
    tau², 'common' fixes it at 0 (netmeta's common-effects model).  ``known``: tau² of other
    models already fitted the same way (starting values)."""
    design = inp.designs[model]
    tau2 = None if effects == "random" else 0.0
    starts = _starts(inp, reml, tau2, known) if design.n_sigma else ()
    vf = fit_variances(inp.data, design, reml=reml, tau2=tau2, starts=starts)
    k = design.M.shape[1] + design.n_sigma + (1 if tau2 is None else 0)
    return estimates_at(inp, model, vf.tau2, vf.sigma2, loglik=vf.loglik, reml=reml, converged=vf.converged,
                        n_parameters=k)


def estimates_at(inp: ClassInputs, model: str, tau2: float, sigma2, *, loglik: float = float("nan"),
                 reml: bool = True, converged: bool = True, n_parameters: int = 0) -> ClassFit:
    """Estimates of ``model`` at given variance components (graph fit at ``tau2``, Henderson's
    equations at ``sigma2``, one value per variance group)."""
    design = inp.designs[model]
    sigma2 = np.broadcast_to(np.asarray(sigma2, float), (design.n_sigma,))
    lam, b = graph_terms(*inp.graph[:5], inp.graph[5], inp.reference, tau2)
    sol = mixed_solve(lam, b, design, sigma2)
    n, ref = inp.graph[5], inp.reference
    others = np.delete(np.arange(n), ref)
    effects_ = np.zeros(n)
    effects_[others] = sol.A @ sol.theta
    cov = np.zeros((n, n))
    cov[np.ix_(others, others)] = sol.A @ sol.c_inverse() @ sol.A.T
    class_est, class_cov = _class_estimates(inp, model, sol, design.M.shape[1])
    return ClassFit(effects_, cov, class_est, class_cov, float(tau2), _class_sigma2(inp, design, sigma2),
                    loglik, reml, converged, n_parameters)


def _class_estimates(inp: ClassInputs, model: str, sol, q: int):
    """Class effects versus the reference's class and their covariance (NaN for the
    independent model, which has none)."""
    c = len(inp.classes)
    est, cov = np.full(c, np.nan), np.full((c, c), np.nan)
    if model == "independent":
        return est, cov
    ref_class = inp.class_of[inp.reference]
    mean_classes = [j for j in range(c) if j != ref_class]
    est[ref_class] = 0.0
    est[mean_classes] = sol.theta[:q]
    cov[:] = 0.0
    cov[np.ix_(mean_classes, mean_classes)] = sol.c_inverse()[:q, :q]
    return est, cov
