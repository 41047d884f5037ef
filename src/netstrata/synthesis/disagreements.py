"""Extraction disagreements, resolved and tested: for each cell where two extractions differ, the
value the analysis used, who decided it (the project's adjudication log, when there is one), and
whether the primary analysis changes when the other extractor's value is used instead.

The check re-runs the primary analysis (same records, node level and models) with the one cell
replaced, and compares every estimate of the strata that hold the study: the largest change on
the analysis scale, and whether any conclusion category against the MID changes
(:mod:`netstrata.synthesis.conclusions`). Nothing else is refitted.

The adjudication log is ``adjudication.sqlite`` in the project folder (written by
``netstrata adjudicate``); the latest decision for a cell wins (see
:mod:`netstrata.appraisal.adjudication`).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..appraisal.adjudication import read_log
from ..errors import StatisticalWarning
from .conclusions import classify, threshold
from .jsontext import jsonable
from .labels import _code_label, _vocabulary_of
from .records import prepare
from .stratify import analyse_strata

__all__ = ["LOG_NAME", "Disagreement", "resolve_disagreements"]

LOG_NAME = "adjudication.sqlite"
_KEY = ("table", "study", "arm", "outcome", "timepoint", "column")


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One cell two extractions disagree on, how it was resolved, and what the other value does."""

    table: str
    study: str
    arm: str
    outcome: str
    timepoint: str
    column: str
    value_a: str
    value_b: str
    used: str
    decided_by: str
    decision_note: str
    other_value: str
    tested: bool
    changes_estimate: bool
    changes_conclusion: bool
    max_change: float
    detail: str
    #: the estimates that move: (stratum, treat1, treat2, estimate used, estimate with the other value)
    changes: tuple[tuple[str, str, str, float, float], ...] = ()
    #: pack labels of the coded values (value -> label), for readers
    labels: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict:
        out = {f: jsonable(getattr(self, f)) for f in self.__slots__}
        out["labels"] = dict(self.labels)
        return out


def _value_labels(review, table: str, column: str, values) -> tuple[tuple[str, str], ...]:
    voc = _vocabulary_of(review.pack, f"{table}.{column}")
    if voc is None:
        return ()
    return tuple((v, _code_label(review.pack, voc, v)) for v in dict.fromkeys(values) if v)


def _decisions(review) -> dict:
    path = Path(review.path)
    log = (path if path.is_dir() else path.parent) / LOG_NAME
    if not log.is_file():
        return {}
    out = {}
    for d in read_log(log):          # latest decision per cell wins
        out[tuple(str(getattr(d, k) or "") for k in _KEY)] = d
    return out


def _cell_row(table: pd.DataFrame, d: dict):
    """Index of the row of ``table`` the disagreement names (study, arm, outcome, time point)."""
    mask = table["study"].astype(str) == d["study"]
    for col, key in (("arm", "arm"), ("outcome", "outcome")):
        if d.get(key) and col in table:
            mask &= table[col].astype(str) == d[key]
    if d.get("timepoint") and "timepoint_weeks" in table:
        try:
            mask &= np.isclose(pd.to_numeric(table["timepoint_weeks"], errors="coerce").to_numpy(float),
                               float(d["timepoint"]))
        except ValueError:
            return None
    idx = table.index[mask.to_numpy()]
    return idx[0] if len(idx) == 1 else None


def _coerce(series: pd.Series, value: str):
    if pd.api.types.is_numeric_dtype(series):
        return float(value)
    return value


class _NotUsed(Exception):
    """The disagreeing column is not read by the primary analysis."""


def _estimates(review, primary, settings, variables) -> dict:
    with warnings.catch_warnings():
        # a re-analysis with one disagreement resolved: the primary analysis reported these already
        warnings.simplefilter("ignore", StatisticalWarning)
        split, lumped = analyse_strata(review, prepare(review, primary), settings, variables)
    return _estimates_of(split, lumped)


def _estimates_of(split, lumped) -> dict:
    out = {}
    for res in (*split, *lumped):
        if res.primary is None:
            continue
        for c in res.primary.comparisons:
            out[(res.name, c.treat1, c.treat2)] = (c.estimate, c.ci_low, c.ci_high, res.stratum.outcome,
                                                   frozenset(res.studies))
    return out


def _classes(est: dict, plan) -> dict:
    out = {}
    for key, (e, lo, hi, outcome, _) in est.items():
        spec = plan.outcome(outcome)
        out[key] = classify(lo, hi, mid_threshold=threshold(spec.mid, spec.measure), small_values=spec.small_values)
    return out


def _compare(base: dict, alt: dict, study: str, plan) -> tuple[bool, bool, float, str, tuple]:
    keys = sorted(k for k, v in base.items() if study in v[4]) + sorted(
        k for k, v in alt.items() if study in v[4] and k not in base)
    cb, ca = _classes(base, plan), _classes(alt, plan)
    changes, moved = [], 0.0
    concl = False
    for k in keys:
        e0 = base.get(k, (math.nan,))[0]
        e1 = alt.get(k, (math.nan,))[0]
        diff = abs(e1 - e0) if math.isfinite(e0) and math.isfinite(e1) else math.inf
        if diff > 1e-12:
            moved = max(moved, diff)
            changes.append((k[0], k[1], k[2], float(e0), float(e1)))
        if cb.get(k) != ca.get(k):
            concl = True
    detail = ("no estimate of the strata holding the study changes" if not changes else
              f"{len(changes)} estimate(s) change" + ("; a conclusion against the MID changes" if concl else
                                                      "; no conclusion against the MID changes"))
    return bool(changes), concl, float(moved), detail, tuple(changes)


def _used_by_analysis(review, primary, table: str, column: str) -> bool:
    """Whether the primary analysis reads ``table.column``: effect data always; a study or arm
    column only as a stratification variable, a node-level field or an inclusion filter."""
    if table not in ("studies", "arms"):
        return True
    if column in review.plan.strata:
        return True
    level = review.pack.level(primary.node_level) if primary.node_level in review.pack.level_names else None
    fields = getattr(level, "fields", None) or (getattr(level, "field", "family"),)
    if column in fields or f"studies.{column}" in fields or column in ("family", "comparator_type", "study", "arm"):
        return True
    filters = " ".join(str(v) for _, v in primary.items())
    return column in filters


def resolve_disagreements(review, qc, primary, settings, variables=None, base=None) -> tuple[Disagreement, ...]:
    """Every double-extraction disagreement of ``qc`` (the pipeline's QC result) resolved and
    tested against the primary analysis (see the module docstring). ``base``: the primary
    analysis' (split, lumped) results, when already computed."""
    de = (qc or {}).get("double_extraction")
    if de is None:
        return ()
    frame = de.disagreements if hasattr(de, "disagreements") else pd.DataFrame((de or {}).get("disagreements") or [])
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    if not len(frame):
        return ()
    variables = tuple(review.plan.strata if variables is None else variables)
    decisions = _decisions(review)
    base = _estimates_of(*base) if base is not None else None
    out = []
    for d in frame.astype(object).where(frame.notna(), "").astype(str).to_dict("records"):   # nullable ints too
        dec = decisions.get(tuple(d.get(k, "") for k in _KEY))
        used = d["value_a"]
        table = review.table(d["table"])
        row = _cell_row(table, d) if table is not None else None
        if row is not None and d["column"] in table.columns:
            cur = table.at[row, d["column"]]
            used = "NR" if cur is None or (isinstance(cur, float) and math.isnan(cur)) else _plain(cur)
        other = d["value_b"] if _same(used, d["value_a"]) else d["value_a"]
        who, note = ((dec.who, f"{dec.why} ({dec.at})") if dec is not None else
                     ("not adjudicated", "the first extraction's value is used"))
        tested, ch_e, ch_c, moved, detail, changes = False, False, False, 0.0, "", ()
        try:
            if row is None or d["column"] not in table.columns:
                raise ValueError("the cell was not found in the analysed table")
            if not _used_by_analysis(review, primary, d["table"], d["column"]):
                raise _NotUsed
            alt_table = table.copy()
            alt_table.at[row, d["column"]] = _coerce(table[d["column"]], other)
            alt = replace(review, tables={**review.tables, d["table"]: alt_table})
            base = base if base is not None else _estimates(review, primary, settings, variables)
            ch_e, ch_c, moved, detail, changes = _compare(base, _estimates(alt, primary, settings, variables), d["study"],
                                                 review.plan)
            tested = True
        except _NotUsed:
            tested, detail = True, ("no estimate changes: the primary analysis does not read this column (not a "
                                    "stratification variable, node field or inclusion filter)")
        except (ValueError, TypeError, KeyError) as exc:
            detail = f"not tested: {exc}"
        out.append(Disagreement(d["table"], d["study"], d.get("arm", ""), d.get("outcome", ""), d.get("timepoint", ""),
                                d["column"], d["value_a"], d["value_b"], used, who, note, other, tested, ch_e, ch_c,
                                moved, detail, changes,
                                _value_labels(review, d["table"], d["column"], (d["value_a"], d["value_b"], used))))
    return tuple(out)


def _plain(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _same(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b
