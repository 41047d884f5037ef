"""ThresholdResult: the frozen result of :func:`netstrata.threshold` / ``threshold_analysis``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..._summary import Summary
from .kernel import ThreshArrays, contrast_pairs, get_int

__all__ = ["ThresholdResult", "JointThreshold", "threshold_table"]


class JointThreshold(NamedTuple):
    """Thresholds when several data points move together by the same amount."""

    points: tuple[str, ...]
    threshold_low: float
    new_low: str | None
    threshold_high: float
    new_high: str | None


def _names(codes: tuple[str, ...], idx: tuple[int, ...]) -> str | None:
    return ", ".join(codes[i] for i in idx) if idx else None


def _note(lo: float, hi: float) -> str:
    if not np.isfinite(lo) and not np.isfinite(hi):
        return "no threshold: no change to this estimate alone changes the decision"
    if not np.isfinite(lo):
        return "no lower threshold: lowering this estimate never changes the decision"
    if not np.isfinite(hi):
        return "no upper threshold: raising this estimate never changes the decision"
    return ""


def threshold_table(arr: ThreshArrays, codes: tuple[str, ...], points: pd.DataFrame, z: float) -> pd.DataFrame:
    """One row per data point: estimate, CI, thresholds, new optimal treatment(s), invariant
    interval and whether it is short (inside the CI on a side, as nmathresh's thresh_forest)."""
    out = points.copy()
    y = out["effect"].to_numpy(float)
    if "ci_low" not in out:
        se = out["se"].to_numpy(float)
        out["ci_low"], out["ci_high"] = y - z * se, y + z * se
    out["threshold_low"], out["threshold_high"] = arr.lo, arr.hi
    out["new_low"] = pd.Series([_names(codes, t) for t in arr.lo_new], index=out.index, dtype=object)
    out["new_high"] = pd.Series([_names(codes, t) for t in arr.hi_new], index=out.index, dtype=object)
    with np.errstate(invalid="ignore"):
        out["ii_low"] = np.where(np.isinf(y) & np.isinf(arr.lo), -np.inf, y + arr.lo)
        out["ii_high"] = np.where(np.isinf(y) & np.isinf(arr.hi), np.inf, y + arr.hi)
        lo_ci, hi_ci = out["ci_low"].to_numpy(float), out["ci_high"].to_numpy(float)
        out["is_short"] = ((~np.isnan(lo_ci) & (out["ii_low"].to_numpy() > lo_ci))
                           | (~np.isnan(hi_ci) & (out["ii_high"].to_numpy() < hi_ci)))
    out["note"] = [_note(lo, hi) for lo, hi in zip(arr.lo, arr.hi)]
    return out.reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """Threshold analysis (Phillippo et al. 2018; 2019).

    ``thresholds``: one row per data point (``data_point``, its ``effect`` and CI on the analysis
    scale, ``threshold_low`` < 0 < ``threshold_high``: how far the estimate can move before the
    decision changes, ``new_low`` / ``new_high``: the optimal treatment(s) then, ``ii_low`` /
    ``ii_high``: the invariant interval, ``is_short``: the interval does not cover the CI on a
    side, ``note``: where a threshold does not exist).  ``H`` is the influence matrix,
    ``U`` / ``Ukstar`` the solution matrices (rows ``d[a,b]`` = d_b - d_a).
    """

    level: str
    model: str | None
    decision: str
    mid: float | None
    treatments: tuple[str, ...]       # reference first (nmathresh's trt.code)
    kstar: tuple[str, ...]
    thresholds: pd.DataFrame
    H: pd.DataFrame
    U: pd.DataFrame
    Ukstar: pd.DataFrame
    arrays: ThreshArrays
    notes: tuple[str, ...] = ()

    @property
    def optimal(self) -> str:
        """The recommended treatment(s) of the decision, comma-separated."""
        return ", ".join(self.kstar)

    def joint(self, points) -> JointThreshold:
        """Thresholds when all ``points`` (labels or positions) move by the same amount:
        ``U = 1 / Σ_points 1/U*`` (nmathresh vignette, groups of contrasts)."""
        labels = list(self.thresholds["data_point"])
        cols = [int(p) if isinstance(p, (int, np.integer)) else labels.index(p) for p in points]
        with np.errstate(divide="ignore"):
            x = 1.0 / np.sum(1.0 / self.arrays.Ukstar[:, cols], axis=1)
        K = len(self.treatments)
        a, b = contrast_pairs(K)
        pairs = np.c_[a[self.arrays.rows], b[self.arrays.rows]]
        lo, lo_new, hi, hi_new = get_int(x, self.arrays.kstar, pairs)
        return JointThreshold(tuple(labels[c] for c in cols), lo, _names(self.treatments, lo_new), hi,
                              _names(self.treatments, hi_new))

    def to_frame(self) -> pd.DataFrame:
        return self.thresholds.copy()

    def to_dict(self) -> dict:
        return {"level": self.level, "model": self.model, "decision": self.decision, "mid": self.mid,
                "treatments": list(self.treatments), "optimal": list(self.kstar),
                "thresholds": self.thresholds.to_dict("records"), "notes": list(self.notes)}

    def summary(self) -> Summary:
        cols = ["data_point", "effect", "ci_low", "ci_high", "threshold_low", "new_low", "threshold_high",
                "new_high", "ii_low", "ii_high", "is_short"]
        notes = (f"Recommended: {self.optimal} ({self.decision} decision"
                 + (f", MID {self.mid:g}" if self.mid else "") + f"); {self.level} level.",
                 "An invariant interval that is short (is_short) lies inside the 95% CI on a side: the "
                 "recommendation is sensitive to changes within the data point's own uncertainty.",
                 *self.notes)
        return Summary(title="Threshold analysis", frame=self.thresholds[cols].set_index("data_point"),
                       notes=notes)

    def __repr__(self) -> str:
        n_short = int(self.thresholds["is_short"].sum())
        return (f"ThresholdResult(level={self.level!r}, points={len(self.thresholds)}, "
                f"optimal={self.optimal!r}, short={n_short})")
