"""Build the adjudicated table from two extractions plus the adjudication log.

The result is a pure function of (extraction A, extraction B, log): cells where A and B agree take
the agreed value; cells with a decision take the latest decided value; disagreeing cells without
a decision are left empty and listed as unresolved. Rows entered by only one extractor are kept or
dropped by a row (or study) decision (``column='*'``), otherwise listed as unresolved.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .._summary import Summary
from .._validate import check_option
from ..errors import ParameterError
from ._cells import KEYS, METADATA, classify, infer_table, norm_key
from .adjudication import Decision, as_decisions
from .extraction import _index, cell_kind

__all__ = ["AdjudicatedTable", "apply_adjudications"]

_UNRESOLVED = ["table", "study", "arm", "outcome", "timepoint", "column", "kind", "value_a", "value_b"]


@dataclass(frozen=True, slots=True, eq=False)
class AdjudicatedTable:
    """The reconciled table, what is still unresolved, and which decisions were used.

    Attributes
    ----------
    table : DataFrame
        Reconciled rows (cells as text; unresolved cells empty).
    unresolved : DataFrame
        Disagreements without a decision (columns: table, study, arm, outcome, timepoint, column,
        kind, value_a, value_b).
    applied : DataFrame
        Decisions used (seq, study, ..., column, value, who, at, why).
    unused : DataFrame
        Decisions for this table that were not applied: superseded by a later decision for the
        same cell, or matching no row/column of these extractions.
    """

    name: str
    table: pd.DataFrame
    unresolved: pd.DataFrame
    applied: pd.DataFrame
    unused: pd.DataFrame

    @property
    def complete(self) -> bool:
        return len(self.unresolved) == 0

    def __repr__(self) -> str:
        return (f"AdjudicatedTable({self.name!r}, rows={len(self.table)}, applied={len(self.applied)}, "
                f"unresolved={len(self.unresolved)}, unused={len(self.unused)})")

    def summary(self) -> Summary:
        frame = pd.DataFrame({"item": ["rows", "decisions applied", "unresolved", "unused decisions"],
                              "n": [len(self.table), len(self.applied), len(self.unresolved),
                                    len(self.unused)]})
        return Summary(f"Adjudicated {self.name}", frame)


def _decision_index(decisions, table, keys):
    """Latest decision per (normalised key, column); row/study decisions under column '*'."""
    index = {}
    for d in sorted(decisions, key=lambda d: d.seq):
        if d.table != table:
            continue
        parts = {"study": d.study, "arm": d.arm, "outcome": d.outcome, "timepoint_weeks": d.timepoint}
        key = tuple(norm_key(parts[k]) for k in keys)
        index[(key, d.column)] = d
    return index


def _merge_meta(va: str, vb: str) -> str:
    return " | ".join(sorted({v.strip() for v in (va, vb) if v.strip()}))


def _cell(ra, rb, col):
    va = str(ra[col]) if ra is not None and col in ra.index else ""
    vb = str(rb[col]) if rb is not None and col in rb.index else ""
    return va, vb


def _row_decision(index, key):
    """A row decision, else a whole-study decision (arm/outcome/timepoint empty)."""
    hit = index.get((key, "*"))
    if hit is None:
        hit = index.get(((key[0],) + ("",) * (len(key) - 1), "*"))
    return hit


def _reconcile(name, a, b, decisions, atol, rtol):
    keys = KEYS[name]
    sa, sb = _index(a, keys, "A", name), _index(b, keys, "B", name)
    index = _decision_index(decisions, name, keys)
    columns = [c for c in a.columns if c not in keys] + [c for c in b.columns if c not in keys
                                                          and c not in a.columns]
    used, rows, unresolved = set(), [], []
    comma = (bool(a.attrs.get("decimal_comma")), bool(b.attrs.get("decimal_comma")))
    order = list(sa.rows) + [k for k in sb.rows if k not in sa.rows]
    for key in order:
        ra = a.iloc[sa.rows[key]] if key in sa.rows else None
        rb = b.iloc[sb.rows[key]] if key in sb.rows else None
        shown = (ra if ra is not None else rb)
        where = {"study": str(shown["study"]).strip()}
        for k, out in (("arm", "arm"), ("outcome", "outcome"), ("timepoint_weeks", "timepoint")):
            where[out] = str(shown[k]).strip() if k in keys else ""
        if ra is None or rb is None:
            hit = _row_decision(index, key)
            if hit is None:
                kind = "row_only_in_a" if rb is None else "row_only_in_b"
                unresolved.append({"table": name, **where, "column": "*", "kind": kind,
                                   "value_a": "present" if ra is not None else "absent",
                                   "value_b": "present" if rb is not None else "absent"})
                continue
            used.add(hit.seq)
            if hit.value == "drop":
                continue
        row = {k: str(shown[k]).strip() for k in keys}
        for col in columns:
            va, vb = _cell(ra, rb, col)
            hit = index.get((key, col))
            if hit is not None:
                used.add(hit.seq)
                row[col] = hit.value
            elif col in METADATA:
                row[col] = _merge_meta(va, vb)
            elif ra is None or rb is None:
                row[col] = va if ra is not None else vb
            else:
                kind = cell_kind(classify(va, comma[0]), classify(vb, comma[1]), atol, rtol)
                row[col] = va if kind is None else ""
                if kind is not None:
                    unresolved.append({"table": name, **where, "column": col, "kind": kind,
                                       "value_a": va, "value_b": vb})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(keys) + columns), unresolved, used


def apply_adjudications(a: pd.DataFrame, b: pd.DataFrame, log, *, table: str = "auto",
                        atol: float = 1e-9, rtol: float = 1e-9) -> AdjudicatedTable:
    """Reconcile two extractions of one table with the decisions in an adjudication log.

    Parameters
    ----------
    a, b : DataFrame
        The two extractions (cells as typed text).
    log : str, Path, AdjudicationLog or sequence of Decision
        A path or log is verified first; a broken chain raises DataError (a tampered log is never used).
    table : {"auto", "outcomes", "arms", "studies", "exclusions"}, default="auto"
    atol, rtol : float
        Numeric tolerance for "agreeing" cells, as in :func:`compare_extractions`.

    Returns
    -------
    AdjudicatedTable
        The same inputs always give the same table (the latest decision per cell wins).
    """
    table = check_option(table, name="table", allowed=["auto", *KEYS], caller="apply_adjudications")
    for name, frame in (("a", a), ("b", b)):
        if not isinstance(frame, pd.DataFrame):
            raise ParameterError(f"The '{name}' parameter of apply_adjudications must be a DataFrame. "
                                 f"Got {type(frame).__name__} instead.")
    name = infer_table(a.columns) if table == "auto" else table
    decisions = as_decisions(log)
    frame, unresolved, used = _reconcile(name, a, b, decisions, float(atol), float(rtol))
    cols = list(Decision.__dataclass_fields__)[:-2]
    applied = pd.DataFrame([[getattr(d, c) for c in cols] for d in decisions if d.seq in used], columns=cols)
    unused = pd.DataFrame([[getattr(d, c) for c in cols] for d in decisions
                           if d.seq not in used and d.table == name], columns=cols)
    return AdjudicatedTable(name, frame, pd.DataFrame(unresolved, columns=_UNRESOLVED), applied, unused)
