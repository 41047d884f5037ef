"""Weighted projection algebra of the meta-analytic model without forming k×k matrices.

metafor writes everything with ``P = W - W X (X'WX)^-1 X'W`` (a k×k matrix). With
``S = diag(sqrt(w))`` and the thin QR ``S X = Q R`` we have ``P = S (I - Q Q') S``, so every
quantity needed (``P y``, ``tr P``, ``tr(P D1 P D2)``-type traces, ``log|X'WX|``) costs
O(k p²) and, for an intercept-only model, O(k) with no QR at all.

References
----------
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. *J Educ Behav Stat* 30(3):261-293. doi:10.3102/10769986030003261
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Proj", "proj"]


@dataclass(frozen=True, slots=True, eq=False)
class Proj:
    """``P = S (I - Q Q') S`` for weights ``w`` (``S = diag(sqrt(w))``) and design ``X = S^-1 Q R``."""

    w: np.ndarray      # (k,) weights
    sw: np.ndarray     # (k,) sqrt(w)
    q: np.ndarray      # (k, p) orthonormal basis of S X
    r: np.ndarray      # (p, p) triangular factor
    h: np.ndarray      # (k,) leverages, rowSums(Q^2)

    def apply(self, y: np.ndarray) -> np.ndarray:
        """``P y = S (S y - Q Q' S y)``."""
        sy = self.sw * y
        return self.sw * (sy - self.q @ (self.q.T @ sy))

    def quad(self, y: np.ndarray) -> float:
        """``y' P y`` (the weighted residual sum of squares)."""
        sy = self.sw * y
        u = self.q.T @ sy
        return float(sy @ sy - u @ u)

    def trace(self) -> float:
        """``tr P = sum w (1 - h)``."""
        return float(np.sum(self.w * (1.0 - self.h)))

    def diag(self) -> np.ndarray:
        """Diagonal of ``P``."""
        return self.w * (1.0 - self.h)

    def trace2(self, d1: np.ndarray, d2: np.ndarray) -> float:
        """``tr((I-H) D1 (I-H) D2)`` for diagonal ``D1, D2`` (``H = Q Q'``).

        ``= sum(d1 d2) - 2 sum(h d1 d2) + sum((Q'D1Q) * (Q'D2Q))``. With ``d1 = d2 = w`` this is
        ``tr(PP) = sum(P*P)``; with ``d1 = d2 = w v`` it is ``tr(PVPV)``; with ``d1 = w v``,
        ``d2 = w`` it is ``tr(PVP) = sum(PV*P)``.
        """
        a = self.q.T @ (d1[:, None] * self.q)
        b = a if d2 is d1 else self.q.T @ (d2[:, None] * self.q)
        dd = d1 * d2
        return float(np.sum(dd) - 2.0 * np.sum(self.h * dd) + np.sum(a * b))

    def solve(self, y: np.ndarray) -> np.ndarray:
        """Weighted least squares coefficients ``(X'WX)^-1 X'W y``."""
        return np.linalg.solve(self.r, self.q.T @ (self.sw * y))

    def inv_xwx(self) -> np.ndarray:
        """``(X'WX)^-1 = R^-1 R^-T``."""
        rinv = np.linalg.inv(self.r)
        return rinv @ rinv.T

    def logdet_xwx(self) -> float:
        """``log |X'WX| = 2 sum log |diag R|``."""
        return float(2.0 * np.sum(np.log(np.abs(np.diag(self.r)))))


def proj(w: np.ndarray, X: np.ndarray | None) -> Proj:
    """Projection for weights ``w`` and design ``X`` (``None`` = intercept only, no QR needed)."""
    sw = np.sqrt(w)
    if X is None:
        total = float(np.sum(w))
        root = np.sqrt(total)
        q = (sw / root)[:, None]
        return Proj(w=w, sw=sw, q=q, r=np.array([[root]]), h=w / total)
    q, r = np.linalg.qr(sw[:, None] * X)
    return Proj(w=w, sw=sw, q=q, r=r, h=np.sum(q * q, axis=1))
