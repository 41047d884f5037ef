"""Threshold-analysis inputs from a fitted network (the reference's netmeta construction).

Treatments are ordered reference first, then the network's order (nmathresh's ``trt.code``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["network_means", "study_inputs", "contrast_inputs"]


def network_means(net, model: str):
    """(codes, d, Cov d): d_k = estimate of k versus the reference, k in ``codes[1:]``."""
    codes = (net.reference, *[t for t in net.treatments if t != net.reference])
    mean = net.league(model).loc[list(codes[1:]), net.reference].to_numpy(float)
    post = net.covariance(model).loc[list(codes[1:]), list(codes[1:])].to_numpy(float)
    return codes, mean, post


def _design(treat: list[str], base: list[str], codes) -> np.ndarray:
    """+1 at the treatment, -1 at its comparator unless that is the reference."""
    pos = {c: i - 1 for i, c in enumerate(codes)}
    X = np.zeros((len(treat), len(codes) - 1))
    for r, (t, b) in enumerate(zip(treat, base)):
        X[r, pos[t]] = 1.0
        if pos[b] >= 0:
            X[r, pos[b]] = -1.0
    return X


def study_inputs(net, model: str, codes):
    """Per study, every arm against the study's first arm in ``codes`` order: with the study's
    Laplacian ``L = Σ w b bᵀ`` and ``r = Σ w b TE`` (reduced weights of ``model``),
    ``V = L[-1,-1]⁻¹`` and ``y = V r[-1]`` (the study's least-squares contrasts)."""
    a = net.model_arrays(model)
    trt, names = a["treatments"], a["studies"]
    rank = {c: i for i, c in enumerate(codes)}
    rows, blocks = [], []
    for s in range(len(names)):
        r = np.flatnonzero(a["study"] == s)
        arms = sorted({trt[i] for i in np.r_[a["t1"][r], a["t2"][r]]}, key=rank.__getitem__)
        idx = {t: i for i, t in enumerate(arms)}
        L = np.zeros((len(arms), len(arms)))
        rhs = np.zeros(len(arms))
        for j in r:
            i1, i2, w = idx[trt[a["t1"][j]]], idx[trt[a["t2"][j]]], a["w"][j]
            L[i1, i1] += w; L[i2, i2] += w; L[i1, i2] -= w; L[i2, i1] -= w
            rhs[i1] += w * a["te"][j]; rhs[i2] -= w * a["te"][j]
        Vs = np.linalg.inv(L[1:, 1:])
        y = Vs @ rhs[1:]
        blocks.append(Vs)
        rows += [{"data_point": f"{names[s]}: {t} vs {arms[0]}", "study": names[s], "treatment": t,
                  "versus": arms[0], "effect": y[k], "se": np.sqrt(Vs[k, k])} for k, t in enumerate(arms[1:])]
    points = pd.DataFrame(rows)
    from scipy.linalg import block_diag     # here: scipy.linalg costs ~30 ms to import
    return _design(list(points["treatment"]), list(points["versus"]), codes), block_diag(*blocks), points


def contrast_inputs(net, model: str, codes):
    """One data point per directly compared pair (b versus a, a before b in ``codes``):
    ``y = Σ w·TE / Σ w`` and variance ``1/Σ w`` over its comparisons (reduced weights)."""
    a = net.model_arrays(model)
    trt = a["treatments"]
    rank = {c: i for i, c in enumerate(codes)}
    p1 = np.array([rank[trt[i]] for i in a["t1"]])
    p2 = np.array([rank[trt[i]] for i in a["t2"]])
    lo, hi = np.minimum(p1, p2), np.maximum(p1, p2)
    te_b = np.where(p1 == hi, a["te"], -a["te"])         # oriented hi versus lo
    rows = []
    for ia, ib in sorted(set(zip(lo.tolist(), hi.tolist()))):
        sel = (lo == ia) & (hi == ib)
        w = a["w"][sel]
        studies = "; ".join(dict.fromkeys(a["studies"][s] for s in a["study"][sel]))
        rows.append({"data_point": f"{codes[ib]} vs {codes[ia]}", "treatment": codes[ib], "versus": codes[ia],
                     "k": int(sel.sum()), "studies": studies, "effect": float(np.sum(w * te_b[sel]) / np.sum(w)),
                     "se": float(np.sqrt(1.0 / np.sum(w)))})
    points = pd.DataFrame(rows)
    V = np.diag(points["se"].to_numpy() ** 2)
    return _design(list(points["treatment"]), list(points["versus"]), codes), V, points
