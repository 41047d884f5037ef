"""Conclusion categories of one comparison, and how often a conclusion holds across a multiverse.

Definitions (treat1 versus treat2, on the analysis scale; ratio measures on the log scale):

* the threshold ``m`` is the outcome's MID (``mid`` in the plan; for a ratio measure ``mid`` is a
  ratio > 1 and ``m = log(mid)``); without a MID, ``m = 0`` (the line of no effect);
* the *benefit* direction is negative when small values are desirable (e.g. pain), positive
  otherwise (e.g. success); write ``b = -1`` or ``+1`` and look at ``b·effect``;
* **benefit**: the whole confidence interval lies beyond the MID on the benefit side,
  ``min(b·ci_low, b·ci_high) > m``;
* **harm**: the whole interval lies beyond the MID on the harm side, ``max(b·ci_low, b·ci_high) < -m``;
* **inconclusive**: anything else (the interval touches or crosses ``±m``), or no finite interval
  (``not_estimable`` if the comparison has no estimate in a specification).

Strict inequalities: an interval ending exactly at the MID is inconclusive.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["CATEGORIES", "RATIO_MEASURES", "threshold", "classify", "classify_frame", "holding"]

CATEGORIES = ("benefit", "harm", "inconclusive")
RATIO_MEASURES = ("RR", "OR", "ROM", "IRR", "HR")


def threshold(mid: float | None, measure: str) -> float:
    """The MID on the analysis scale (0 without a MID)."""
    if mid is None:
        return 0.0
    if measure in RATIO_MEASURES:
        if not mid > 1:
            raise ParameterError(f"The MID of a ratio measure ({measure}) must be a ratio > 1 "
                                 f"(e.g. 1.25). Got {mid!r} instead.")
        return math.log(mid)
    return float(mid)


def classify(ci_low: float, ci_high: float, *, mid_threshold: float = 0.0, small_values: str = "desirable") -> str:
    """Conclusion category of one interval (see the module docstring)."""
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return "inconclusive"
    b = -1.0 if small_values == "desirable" else 1.0
    lo, hi = sorted((b * ci_low, b * ci_high))
    if lo > mid_threshold:
        return "benefit"
    if hi < -mid_threshold:
        return "harm"
    return "inconclusive"


def classify_frame(frame: pd.DataFrame) -> np.ndarray:
    """Vectorised :func:`classify` over columns ci_low, ci_high, mid_threshold, small_values."""
    b = np.where(frame["small_values"].to_numpy() == "desirable", -1.0, 1.0)
    a, c = b * frame["ci_low"].to_numpy(float), b * frame["ci_high"].to_numpy(float)
    lo, hi, m = np.minimum(a, c), np.maximum(a, c), frame["mid_threshold"].to_numpy(float)
    out = np.where(lo > m, "benefit", np.where(hi < -m, "harm", "inconclusive"))
    return np.where(np.isfinite(a) & np.isfinite(c), out, "inconclusive").astype(object)


def holding(curve: pd.DataFrame, primary_index: int = 0) -> pd.DataFrame:
    """Per comparison: share of specifications per category and how often the primary one holds.

    ``curve`` has one row per specification × comparison with ``specification``, ``comparison``
    and ``conclusion`` (a finer node map may give several rows of one comparison in one
    specification: each is one estimate of it). Shares and ``holds`` are over the ``n_estimable``
    estimates (rows with a finite estimate); ``n_specifications`` counts every specification run
    and ``n_specifications_estimable`` those with at least one estimate of the comparison. The
    primary conclusion is the conclusion in specification ``primary_index``.
    """
    cols = ["comparison", "stratum", "treat1", "treat2", "n_specifications", "n_specifications_estimable",
            "n_estimable", "primary",
            *(f"share_{c}" for c in CATEGORIES), "holds", "estimate_min", "estimate_max"]
    if not len(curve):
        return pd.DataFrame([], columns=cols)
    n_specs = int(curve["specification"].nunique())
    first = curve.drop_duplicates("comparison").set_index("comparison").sort_index()
    est = curve[curve["conclusion"] != "not_estimable"]
    by = est.groupby("comparison", sort=True)
    k = by.size().reindex(first.index, fill_value=0)
    counts = est.groupby(["comparison", "conclusion"]).size()
    prim = (curve[curve["specification"] == primary_index].drop_duplicates("comparison")
            .set_index("comparison")["conclusion"].reindex(first.index).fillna("not_estimable"))
    out = pd.DataFrame({"comparison": first.index, "stratum": first["stratum"].to_numpy(),
                        "treat1": first["treat1"].to_numpy(), "treat2": first["treat2"].to_numpy(),
                        "n_specifications": n_specs,
                        "n_specifications_estimable": by["specification"].nunique().reindex(first.index, fill_value=0)
                        .to_numpy(), "n_estimable": k.to_numpy(), "primary": prim.to_numpy()})
    kk = k.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        for c in CATEGORIES:
            n = counts.xs(c, level="conclusion").reindex(first.index, fill_value=0).to_numpy() \
                if c in counts.index.get_level_values("conclusion") else np.zeros(len(kk), dtype=np.int64)
            out[f"share_{c}"] = np.where(kk > 0, n / np.where(kk > 0, kk, 1), np.nan)
        held = np.array([counts.get((comp, p), 0) for comp, p in zip(first.index, prim)], dtype=np.int64)
        out["holds"] = np.where((kk > 0) & (prim.to_numpy() != "not_estimable"), held / np.where(kk > 0, kk, 1),
                                np.nan)
    out["estimate_min"] = by["estimate"].min().reindex(first.index).to_numpy(float)
    out["estimate_max"] = by["estimate"].max().reindex(first.index).to_numpy(float)
    return out[cols]
