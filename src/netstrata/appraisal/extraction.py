"""Double extraction: compare two independent extractions of the same tables cell by cell.

Two extractors fill the same tables (``outcomes``, ``arms``, ``studies``) from the same reports.
:func:`compare_extractions` matches rows by their key (study, arm, outcome, timepoint_weeks for
outcomes; study, arm for arms; study for studies) and reports every disagreement with both
values, both extractors and the source location. Different study sets, missing rows and missing
columns are findings, not exceptions.

References
----------
Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions, v6.5, ch. 5.5.9
(double data extraction; "disagreements should be resolved by discussion").
Buscemi N et al. Single data extraction generated more errors than double data extraction in
systematic reviews. J Clin Epidemiol 2006;59:697-703. doi:10.1016/j.jclinepi.2005.11.010
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .._summary import Summary
from .._text import safe_csv_frame
from .._validate import check_option
from ..errors import DataError, ParameterError, Problem
from ._cells import KEYS, METADATA, Cell, classify, infer_table, norm_key

__all__ = ["KINDS", "ExtractionComparison", "compare_extractions", "mirror_kind", "COLUMNS"]

# Disagreement kinds (registry data): code -> what it means. "_a"/"_b" kinds mirror each other.
KINDS: dict[str, str] = {
    "numeric": "both numbers, different beyond the tolerance",
    "vocabulary": "both text (or text vs number), different after case/whitespace normalisation",
    "unclear_vs_value": "one says 'unclear' or 'NR', the other gives a value",
    "nr_vs_unclear": "one says 'NR' (not reported), the other 'unclear'",
    "missing_vs_value": "one cell is empty, the other is not",
    "row_only_in_a": "a row (key) extracted by A only",
    "row_only_in_b": "a row (key) extracted by B only",
    "study_only_in_a": "a study extracted by A only",
    "study_only_in_b": "a study extracted by B only",
    "column_only_in_a": "a column present in A's table only",
    "column_only_in_b": "a column present in B's table only",
    "table_only_in_a": "a table present in A only",
    "table_only_in_b": "a table present in B only",
}

COLUMNS: tuple[str, ...] = (
    "kind", "table", "study", "arm", "outcome", "timepoint", "column", "value_a", "value_b",
    "extractor_a", "extractor_b", "location", "location_a", "location_b", "row_a", "row_b",
)


def mirror_kind(kind: str) -> str:
    """The kind seen from the other side (``row_only_in_a`` <-> ``row_only_in_b``)."""
    if kind.endswith("_in_a"):
        return kind[:-1] + "b"
    if kind.endswith("_in_b"):
        return kind[:-1] + "a"
    return kind


@dataclass(frozen=True, slots=True, eq=False)
class ExtractionComparison:
    """Every disagreement between two extractions (one row per disagreeing cell or unmatched item).

    Attributes
    ----------
    disagreements : DataFrame
        Columns :data:`COLUMNS`; ``kind`` is a key of :data:`KINDS`. Values are the cells as typed.
    label_a, label_b : str
        Names of the two extractions (file names or extractor names).
    n_cells : int
        Number of cell pairs compared (matched rows x shared columns).
    atol, rtol : float
        Numeric tolerance: equal when ``|a - b| <= atol + rtol * max(|a|, |b|)``.
    studies_a, studies_b : tuple of str
        Studies found in each extraction.
    """

    disagreements: pd.DataFrame
    label_a: str
    label_b: str
    n_cells: int
    atol: float
    rtol: float
    studies_a: tuple[str, ...] = field(default_factory=tuple)
    studies_b: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_disagreements(self) -> int:
        return len(self.disagreements)

    @property
    def agreed(self) -> bool:
        """True when the two extractions agree everywhere."""
        return self.n_disagreements == 0

    def counts(self) -> dict[str, int]:
        """Number of disagreements per kind (kinds with none are left out)."""
        return {k: int(v) for k, v in self.disagreements["kind"].value_counts().sort_index().items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return (f"ExtractionComparison(a={self.label_a!r}, b={self.label_b!r}, "
                f"disagreements={self.n_disagreements}{' [' + counts + ']' if counts else ''}, "
                f"cells={self.n_cells})")

    def summary(self) -> Summary:
        """Disagreement counts by table and kind."""
        d = self.disagreements
        if len(d):
            frame = d.groupby(["table", "kind"]).size().rename("n").reset_index()
        else:
            frame = pd.DataFrame({"table": [], "kind": [], "n": []})
        notes = (f"A = {self.label_a} ({len(self.studies_a)} studies), "
                 f"B = {self.label_b} ({len(self.studies_b)} studies)",
                 f"{self.n_cells} cell pairs compared; numbers equal when |a-b| <= "
                 f"{self.atol:g} + {self.rtol:g}*max(|a|,|b|)",
                 f"{self.n_disagreements} disagreement(s)")
        return Summary("Double extraction: disagreements", frame, notes)

    def to_records(self) -> list[dict]:
        """Disagreements as a list of plain dicts (row numbers as int or None)."""
        out = []
        for rec in self.disagreements.to_dict(orient="records"):
            out.append({k: (None if pd.isna(v) else int(v)) if k in ("row_a", "row_b") else v
                        for k, v in rec.items()})
        return out

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, fixed order of rows)."""
        doc = {"format": "netstrata.extraction-comparison", "version": 1,
               "a": self.label_a, "b": self.label_b, "atol": self.atol, "rtol": self.rtol,
               "n_cells": self.n_cells, "n_disagreements": self.n_disagreements,
               "counts": self.counts(), "disagreements": self.to_records()}
        return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """Deterministic CSV of the disagreements (header + one line per disagreement).

        Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, ...) get a
        leading apostrophe, and bidirectional controls are shown as ``<U+202E>``
        (:func:`netstrata._text.neutralise_cell`); plain numbers such as ``-0.18`` are left alone.
        """
        return safe_csv_frame(self.disagreements).to_csv(index=False, lineterminator="\n")


# ----------------------------------------------------------------------------- cell level

def cell_kind(ca: Cell, cb: Cell, atol: float, rtol: float) -> str | None:
    """Kind of disagreement between two cells, or None when they agree."""
    if ca.tag == "missing" or cb.tag == "missing":
        return None if ca.tag == cb.tag else "missing_vs_value"
    vague = ("nr", "unclear")
    if ca.tag in vague or cb.tag in vague:
        if ca.tag == cb.tag:
            return None
        return "nr_vs_unclear" if ca.tag in vague and cb.tag in vague else "unclear_vs_value"
    if ca.tag == "num" and cb.tag == "num":
        # |a - b| <= atol + rtol * max(|a|, |b|)  (symmetric in a and b)
        a, b = ca.number, cb.number
        return None if abs(a - b) <= atol + rtol * max(abs(a), abs(b)) else "numeric"
    return None if (ca.tag, ca.value) == (cb.tag, cb.value) else "vocabulary"


# ----------------------------------------------------------------------------- table level

@dataclass(frozen=True, slots=True)
class _Side:
    label: str
    frame: pd.DataFrame
    rows: dict[tuple[str, ...], int]   # normalised key -> row position
    studies: dict[str, str]            # normalised study -> display name


def _index(frame: pd.DataFrame, keys: tuple[str, ...], label: str, table: str) -> _Side:
    problems = [Problem("key column missing", file=label, column=k, expected=f"columns {list(keys)}")
                for k in keys if k not in frame.columns]
    if problems:
        raise DataError(problems)
    rows: dict[tuple[str, ...], int] = {}
    studies: dict[str, str] = {}
    comma = bool(frame.attrs.get("decimal_comma"))
    for pos in range(len(frame)):
        rec = frame.iloc[pos]
        key = tuple(norm_key(rec[k], comma) for k in keys)
        if key[0] == "":
            problems.append(Problem("empty study id", file=label, row=pos + 2, column="study"))
            continue
        if key in rows:
            shown = ", ".join(f"{k}={str(rec[k]).strip()!r}" for k in keys)
            problems.append(Problem(f"duplicate {table} row ({shown})", file=label,
                                    row=pos + 2, study=str(rec["study"]).strip(),
                                    hint=f"first seen at row {rows[key] + 2}"))
            continue
        rows[key] = pos
        studies.setdefault(key[0], str(rec["study"]).strip())
    if problems:
        raise DataError(problems)
    return _Side(label, frame, rows, studies)


def _display(a: _Side, b: _Side, key: tuple, keys: tuple[str, ...]) -> dict:
    """Key cells as shown: the same whichever side is A (min of the two spellings)."""
    shown = []
    for i, k in enumerate(keys):
        texts = [str(s.frame.iloc[s.rows[key]][k]).strip() for s in (a, b) if key in s.rows]
        shown.append(min(texts) if texts else "")
    names = dict(zip(keys, shown))
    return {"study": names.get("study", ""), "arm": names.get("arm", ""),
            "outcome": names.get("outcome", ""), "timepoint": names.get("timepoint_weeks", "")}


def _meta(side: _Side, key: tuple | None, column: str) -> str:
    if key is None or key not in side.rows or column not in side.frame.columns:
        return ""
    return str(side.frame.iloc[side.rows[key]][column]).strip()


def _record(kind, table, where, column, va, vb, a: _Side, b: _Side, key) -> dict:
    loc_a, loc_b = _meta(a, key, "location"), _meta(b, key, "location")
    return {"kind": kind, "table": table, **where, "column": column, "value_a": va, "value_b": vb,
            "extractor_a": _meta(a, key, "extractor") or a.label,
            "extractor_b": _meta(b, key, "extractor") or b.label,
            "location": " | ".join(sorted({x for x in (loc_a, loc_b) if x})),
            "location_a": loc_a, "location_b": loc_b,
            "row_a": _row_number(a, key), "row_b": _row_number(b, key)}


def _row_number(side: _Side, key) -> int | None:
    """Spreadsheet row (header = 1): a Review's tables are indexed by it; plain frames count from 2."""
    if key is None or key not in side.rows:
        return None
    pos, index = side.rows[key], side.frame.index
    plain = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return pos + 2 if plain else int(index[pos])


def _compare_table(table, fa, fb, label_a, label_b, atol, rtol, ignore):
    keys = KEYS[table]
    a, b = _index(fa, keys, label_a, table), _index(fb, keys, label_b, table)
    out = []
    blank = {"study": "", "arm": "", "outcome": "", "timepoint": ""}
    for side, other, kind in ((a, b, "study_only_in_a"), (b, a, "study_only_in_b")):
        for s in sorted(set(side.studies) - set(other.studies)):
            n = sum(1 for k in side.rows if k[0] == s)
            present, absent = f"present ({n} row{'s' if n != 1 else ''})", "absent"
            va, vb = (present, absent) if side is a else (absent, present)
            first = min(k for k in side.rows if k[0] == s)   # provenance of the study's first row
            out.append(_record(kind, table, {**blank, "study": side.studies[s]}, "", va, vb, a, b, first))
    cols_a = [c for c in fa.columns if c not in keys and c not in ignore]
    cols_b = [c for c in fb.columns if c not in keys and c not in ignore]
    for col in cols_a:
        if col not in cols_b:
            out.append(_record("column_only_in_a", table, blank, col, "present", "absent", a, b, None))
    for col in cols_b:
        if col not in cols_a:
            out.append(_record("column_only_in_b", table, blank, col, "absent", "present", a, b, None))
    shared = [c for c in cols_a if c in cols_b]
    common_studies = set(a.studies) & set(b.studies)
    n_cells = 0
    for key in sorted(set(a.rows) | set(b.rows)):
        if key[0] not in common_studies:
            continue
        where = _display(a, b, key, keys)
        if key not in b.rows or key not in a.rows:
            kind, va, vb = (("row_only_in_a", "present", "absent") if key in a.rows
                            else ("row_only_in_b", "absent", "present"))
            out.append(_record(kind, table, where, "", va, vb, a, b, key))
            continue
        ra, rb = a.frame.iloc[a.rows[key]], b.frame.iloc[b.rows[key]]
        comma_a, comma_b = bool(fa.attrs.get("decimal_comma")), bool(fb.attrs.get("decimal_comma"))
        for col in shared:
            n_cells += 1
            ca, cb = classify(ra[col], comma_a), classify(rb[col], comma_b)
            kind = cell_kind(ca, cb, atol, rtol)
            if kind is not None:
                out.append(_record(kind, table, where, col, ca.raw, cb.raw, a, b, key))
    return out, n_cells, tuple(sorted(a.studies.values())), tuple(sorted(b.studies.values()))


def _timepoint_order(text: str):
    cell = classify(text)
    return (0, cell.value, "") if cell.tag == "num" else (1, 0.0, str(text))


def _sort(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    if not len(frame):
        return frame.astype({"row_a": "Int64", "row_b": "Int64"})
    order = sorted(range(len(records)), key=lambda i: (
        records[i]["table"], records[i]["study"].casefold(), records[i]["arm"].casefold(),
        records[i]["outcome"].casefold(), _timepoint_order(records[i]["timepoint"]),
        records[i]["column"], min(records[i]["kind"], mirror_kind(records[i]["kind"]))))
    frame = frame.iloc[order].reset_index(drop=True)
    return frame.astype({"row_a": "Int64", "row_b": "Int64"})


def _as_tables(x, table, name) -> dict[str, pd.DataFrame]:
    if isinstance(x, pd.DataFrame):
        if table == "auto":
            table = infer_table(x.columns)
        return {table: x}
    if isinstance(x, Mapping):
        bad = [k for k in x if k not in KEYS]
        if bad:
            raise ParameterError(f"The '{name}' parameter of compare_extractions has unknown table(s) "
                                 f"{bad}; allowed {sorted(KEYS)}.")
        return dict(x)
    raise ParameterError(f"The '{name}' parameter of compare_extractions must be a DataFrame or a "
                         f"mapping of table name -> DataFrame. Got {type(x).__name__} instead.")


def compare_extractions(a, b, *, table: str = "auto", label_a: str = "A", label_b: str = "B",
                        atol: float = 1e-9, rtol: float = 1e-9,
                        ignore: tuple[str, ...] = METADATA) -> ExtractionComparison:
    """Compare two independent extractions cell by cell.

    Parameters
    ----------
    a, b : DataFrame or mapping of {"outcomes", "arms", "studies", "exclusions"} -> DataFrame
        The two extractions (cells as typed: read CSVs with ``dtype=str, keep_default_na=False``).
    table : {"auto", "outcomes", "arms", "studies", "exclusions"}, default="auto"
        Which table a single DataFrame holds (decides the row key); "auto" infers it from columns.
    label_a, label_b : str
        Names used when a row has no ``extractor`` cell.
    atol, rtol : float, default=1e-9
        Numbers agree when ``|a - b| <= atol + rtol * max(|a|, |b|)``.
    ignore : tuple of str
        Columns never compared (provenance: extractor, location, quote, source).

    Returns
    -------
    ExtractionComparison
        Every disagreement, with both values, both extractors and the source location.

    Raises
    ------
    DataError
        A key column is missing, a key is duplicated, or a study id is empty.
    """
    table = check_option(table, name="table", allowed=["auto", *KEYS], caller="compare_extractions")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not isinstance(tol, (int, float)) or not tol >= 0:
            raise ParameterError(f"The '{name}' parameter of compare_extractions must be a number >= 0. "
                                 f"Got {tol!r} instead.")
    ta, tb = _as_tables(a, table, "a"), _as_tables(b, table, "b")
    records, n_cells, studies_a, studies_b = [], 0, set(), set()
    blank = {"study": "", "arm": "", "outcome": "", "timepoint": "", "column": "", "extractor_a": label_a,
             "extractor_b": label_b, "location": "", "location_a": "", "location_b": "",
             "row_a": None, "row_b": None}
    for name in sorted(set(ta) | set(tb)):
        if name not in tb or name not in ta:
            kind = "table_only_in_a" if name in ta else "table_only_in_b"
            va, vb = ("present", "absent") if name in ta else ("absent", "present")
            records.append({**blank, "kind": kind, "table": name, "value_a": va, "value_b": vb})
            continue
        recs, n, sa, sb = _compare_table(name, ta[name], tb[name], label_a, label_b,
                                         float(atol), float(rtol), tuple(ignore))
        records += recs
        n_cells += n
        studies_a |= set(sa)
        studies_b |= set(sb)
    return ExtractionComparison(_sort(records), label_a, label_b, n_cells, float(atol), float(rtol),
                                tuple(sorted(studies_a)), tuple(sorted(studies_b)))
