"""Array → DataFrame helpers for NetworkResult (presentation of full-precision numbers only)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
from .._dist import norm_ppf, norm_sf, t_ppf, t_sf

from .component import ComponentFit
from .kernel import resistance

if TYPE_CHECKING:
    from .prepare import Prepared

__all__ = ["assemble", "wald", "row_frame", "design_labels"]


class _WithPrep(Protocol):
    """Anything that carries the prepared contrasts (a ComponentFit, a ComponentNetworkResult)."""

    @property
    def prep(self) -> Prepared: ...


def assemble(parts: tuple[ComponentFit, ...], index: list[np.ndarray], n: int, fn) -> np.ndarray:
    """Global n × n matrix from per-component matrices ``fn(part)``; NaN across components."""
    out = np.full((n, n), np.nan)
    for part, idx in zip(parts, index):
        out[np.ix_(idx, idx)] = fn(part)
    return out


def wald(effect: np.ndarray, se: np.ndarray, level: float, df: float | None = None):
    """(ci_low, ci_high, z, pvalue) as meta's ``ci``: normal, or t with ``df`` (prediction)."""
    q = norm_ppf(1 - (1 - level) / 2) if df is None else t_ppf(1 - (1 - level) / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = effect / se
        p = 2 * norm_sf(np.abs(z)) if df is None else 2 * t_sf(np.abs(z), df)
    return effect - q * se, effect + q * se, z, p


def design_labels(part: _WithPrep) -> np.ndarray:
    """Design (sorted treatments of the study joined by ':') of every row."""
    p = part.prep
    names = []
    for s in range(len(p.studies)):
        r = p.study == s
        arms = np.unique(np.r_[p.t1[r], p.t2[r]])
        names.append(":".join(p.treatments[i] for i in arms))
    return np.array(names, dtype=object)[p.study]


def row_frame(part: ComponentFit) -> pd.DataFrame:
    """One row per comparison used (netmeta's comparison-level output), input order."""
    p = part.prep
    out = {"row": p.source_row, "study": [p.studies[s] for s in p.study],
           "treat1": [p.treatments[i] for i in p.t1], "treat2": [p.treatments[i] for i in p.t2],
           "effect": p.te, "se": p.se, "design": design_labels(part),
           "narms": part.narms[p.study]}
    for model in ("common", "random"):
        g = part.graph(model)
        var_nma = resistance(g.lplus)[p.t1, p.t2]
        w = 1.0 / part.var(model)
        with np.errstate(invalid="ignore"):      # negative reduced variances: NaN (as R)
            out[f"se_adj_{model}"] = np.sqrt(part.var(model))
        out[f"w_{model}"] = w
        out[f"fitted_{model}"] = g.fitted
        out[f"se_fitted_{model}"] = np.sqrt(var_nma)
        out[f"q_{model}"] = w * (p.te - g.fitted) ** 2
        if model == "common":
            out["leverage_common"] = np.where(part.narms[p.study] > 2, np.nan, w * var_nma)
    return pd.DataFrame(out)
