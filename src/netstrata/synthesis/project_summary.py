"""What a run found, as one table (``ProjectResult.summary()``), and the scale columns of its CSV tables.

Estimates are kept on the analysis scale (log for ratio measures) in every result; a reader of
``tables/comparisons.csv`` or of the summary must not have to guess which. :func:`with_scale`
adds the scale in words (``scale``: "log risk ratio") and the back-transformed estimate and
intervals (``*_natural``: the risk ratio) beside the analysis-scale columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._summary import Summary
from ..effects.registry import MEASURES

__all__ = ["with_scale", "project_summary", "NATURAL_COLUMNS"]

#: analysis-scale columns that get a back-transformed ``*_natural`` twin
NATURAL_COLUMNS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")


def _scale_of(code) -> str:
    entry = MEASURES.get(str(code).upper())
    return entry.scale_label if entry is not None else f"as supplied ({code})"


def _natural(values: np.ndarray, code) -> np.ndarray:
    entry = MEASURES.get(str(code).upper())
    if entry is None or entry.code == "PFT":            # PFT needs n; an unknown code has no rule
        return np.full(values.shape, np.nan)
    return entry.back_transform(values)


def with_scale(frame: pd.DataFrame, *, measure_column: str = "measure") -> pd.DataFrame:
    """``frame`` with ``scale`` after the measure column and ``*_natural`` after each column of
    :data:`NATURAL_COLUMNS` it has (row by row, since strata may use different measures)."""
    if measure_column not in frame.columns or frame.empty:
        return frame
    out = frame.copy()
    codes = out[measure_column]
    out.insert(out.columns.get_loc(measure_column) + 1, "scale", [_scale_of(c) for c in codes])
    for col in NATURAL_COLUMNS:
        if col not in out.columns:
            continue
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        natural = np.full(values.shape, np.nan)
        for code in pd.unique(codes):
            rows = (codes == code).to_numpy()
            natural[rows] = _natural(values[rows], code)
        out.insert(out.columns.get_loc(col) + 1, f"{col}_natural", natural)
    return out


def _rows(result) -> list[dict]:
    rows = []
    for kind, group in (("stratum", result.strata), ("lumped", result.lumped)):
        for s in group:
            lay = s.primary
            for c in (lay.comparisons if lay is not None else ()):
                rows.append({"stratum": s.name, "kind": kind, "layer": lay.layer, "comparison": c.label,
                             "measure": c.measure, "k": c.k, "estimate": c.estimate, "ci_low": c.ci_low,
                             "ci_high": c.ci_high, "pi_low": c.pi_low, "pi_high": c.pi_high})
    return rows


def project_summary(result, backtransf: bool = False) -> Summary:
    """One row per comparison of each stratum's primary evidence layer (and of the lumped
    analyses), with the counts as notes; ``backtransf=True`` puts the estimates and intervals on
    the natural scale (risk ratios rather than log risk ratios)."""
    frame = pd.DataFrame(_rows(result), columns=["stratum", "kind", "layer", "comparison", "measure", "k",
                                                 *NATURAL_COLUMNS])
    frame = with_scale(frame)
    if backtransf and not frame.empty:
        for col in NATURAL_COLUMNS:
            frame[col] = frame.pop(f"{col}_natural")
        frame["scale"] = [MEASURES[m].label.lower() if m in MEASURES else s
                          for m, s in zip(frame["measure"], frame["scale"])]
    elif not frame.empty:
        frame = frame.drop(columns=[f"{c}_natural" for c in NATURAL_COLUMNS])
    n = result.counts()
    notes = (f"{n['strata']} strata ({n['strata_with_network']} with a network), {n['lumped']} lumped "
             f"analyses, {n['studies']} studies; {n['records_analysed']} of {n['records']} records analysed, "
             f"{n['records_excluded']} in the exclusion register.",
             "Effects: " + ("natural scale (back-transformed)" if backtransf else "analysis scale")
             + "; the 'scale' column names it per row.")
    return Summary(title=f"Project {result.name}: estimates by stratum", frame=frame, notes=notes)
