"""Apply a :class:`TableSpec` to a :class:`RawTable`: typed DataFrame plus every problem found.

Rules come from the specs (type, presence, range, vocabulary, unique key, row comparisons);
nothing here is written for one particular column.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import Problem, closest
from .readers import RawTable, from_decimal_comma
from .spec import NR, ColumnSpec, TableSpec

if TYPE_CHECKING:
    from ..taxonomy.pack import Pack

__all__ = ["check_table", "NOT_REPORTED_COLUMN"]

NOT_REPORTED_COLUMN = "not_reported"   # lists the numeric cells of a row given as "NR" ("events|n")
MULTI_SEP = "|"
_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}


def _hint(value: str, allowed) -> str | None:
    best = closest(value, allowed)
    return f"did you mean {best!r}?" if best and best != value else None


def _parse_number(cell: str, col: ColumnSpec, decimal_comma: bool):
    """Return (value, error message or None). Empty -> nan; 'NR' -> nan (when allowed)."""
    if cell == "":
        return math.nan, None
    if cell == NR or cell.upper() == NR:
        return math.nan, None if col.allow_nr else "'NR' is not allowed here"
    text = from_decimal_comma(cell) if decimal_comma else cell
    try:
        value = float(text)
    except ValueError:
        return math.nan, "not a number"
    if not math.isfinite(value):
        return math.nan, "not a finite number"
    if col.kind == "int" and not value.is_integer():
        return math.nan, "not a whole number"
    if col.min is not None and (value <= col.min if col.min_exclusive else value < col.min):
        return math.nan, "out of range"
    if col.max is not None and value > col.max:
        return math.nan, "out of range"
    return value, None


def _allowed(col: ColumnSpec, pack, reasons) -> tuple[str, ...]:
    if col.kind == "choice":
        return col.choices
    if col.kind == "reason":
        return tuple(reasons)
    if col.kind == "vocab" and pack is not None and col.vocabulary in pack.vocabularies:
        return pack.vocabularies[col.vocabulary].allowed
    return ()


def _check_coded(cell: str, col: ColumnSpec, allowed) -> list[tuple[str, str | None]]:
    """Errors for a coded cell: list of (bad value, hint)."""
    if cell == "":
        return []
    parts = [p.strip() for p in cell.split(MULTI_SEP)] if col.multi else [cell]
    return [(p, _hint(p, allowed)) for p in parts if p not in allowed]


RESERVED = ("row", "selected", NOT_REPORTED_COLUMN)   # names netstrata adds to the validated frames


def _column_problems(raw: RawTable, spec: TableSpec) -> list[Problem]:
    problems = [Problem("column name is reserved by netstrata", file=raw.file, row=1, column=h,
                        expected=f"another name (reserved: {', '.join(RESERVED)})")
                for h in raw.header if h in RESERVED and spec.column(h) is None]
    unknown = [h for h in raw.header if spec.column(h) is None]
    for name in spec.required_columns:
        if name not in raw.header:
            problems.append(Problem("required column is missing", file=raw.file, row=1, column=name,
                                    expected=f"a column named '{name}'", hint=_hint(name, unknown)))
    return problems


def check_table(raw: RawTable, spec: TableSpec, pack=None, reasons=()) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate and type one table. Returns (frame, problems); frame is None if columns are missing.

    The frame's index is the spreadsheet row number (header = row 1), named ``row``. Numeric
    columns are float64 (NaN = missing or NR; the ``not_reported`` column names the NR cells of
    each row); text columns are pandas string columns (missing = NaN).
    """
    problems = _column_problems(raw, spec)
    if problems:
        return None, problems
    j_study = raw.header.index("study") if "study" in raw.header else None
    studies = [r[j_study] for r in raw.rows] if j_study is not None else None
    data: dict[str, object] = {}
    nr_cells: list[list[str]] = [[] for _ in raw.rows]
    for j, name in enumerate(raw.header):
        col = spec.column(name) or ColumnSpec(name, required=False)
        cells = [r[j] for r in raw.rows]
        values, probs = _check_column(raw, col, cells, studies, pack, reasons, nr_cells)
        data[name] = values
        problems += probs
    frame = pd.DataFrame(data, index=pd.Index(raw.row_numbers, name="row"))
    if any(c.numeric and c.allow_nr for c in spec.columns):
        order = {c.name: i for i, c in enumerate(spec.columns)}      # not the file's column order
        frame[NOT_REPORTED_COLUMN] = [MULTI_SEP.join(sorted(c, key=lambda n: (order.get(n, len(order)), n)))
                                      or None for c in nr_cells]
    problems += _row_rule_problems(frame, raw, spec)
    problems += _key_problems(frame, raw, spec)
    problems += _requires_problems(frame, raw, spec, pack)
    return frame, problems


def _check_column(raw: RawTable, col: ColumnSpec, cells: list[str], studies: list[str] | None,
                  pack: Pack | None, reasons: Iterable[str],
                  nr_cells: list[list[str]]) -> tuple[np.ndarray, list[Problem]]:
    problems: list[Problem] = []
    allowed = _allowed(col, pack, reasons)

    def report(i, message, found, hint=None, expected=None):
        hint = hint or col.hint or None      # a close code first; else the column's common mistake
        problems.append(Problem(message, file=raw.file, row=raw.row_numbers[i], column=col.name,
                                study=(studies[i] or None) if studies else None, found=found,
                                expected=expected or col.expected(), hint=hint))

    if col.numeric:
        out = np.full(len(cells), np.nan)
        for i, cell in enumerate(cells):
            value, err = _parse_number(cell, col, raw.decimal_comma)
            if err:
                report(i, f"{err} in a numeric column", cell)
            elif cell.upper() == NR:
                nr_cells[i].append(col.name)
            elif cell == "" and col.nonempty:
                report(i, "value is missing", cell)
            out[i] = value
        return out, problems
    out_obj = [c if c != "" else None for c in cells]
    for i, cell in enumerate(cells):
        if cell == "" and col.nonempty:
            report(i, "value is missing", cell)
        for bad, hint in _check_coded(cell, col, allowed) if allowed else ():
            vocab = f"vocabulary '{col.vocabulary}'" if col.kind == "vocab" else f"the list of '{col.name}'"
            shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
            report(i, f"value is not in {vocab}", bad, hint=hint, expected=f"one of {shown}")
    return pd.Series(out_obj, dtype=object, index=range(len(cells))).to_numpy(), problems


def _row_rule_problems(frame: pd.DataFrame, raw: RawTable, spec: TableSpec) -> list[Problem]:
    problems = []
    for left, op, right in spec.row_rules:
        if left not in frame or right not in frame:
            continue
        a, b = frame[left].to_numpy(float), frame[right].to_numpy(float)
        ok = np.isnan(a) | np.isnan(b) | _OPS[op](a, b)
        for pos in np.flatnonzero(~ok):
            row = frame.index[pos]
            study = frame["study"].iloc[pos] if "study" in frame else None
            problems.append(Problem(f"'{left}' must be {op} '{right}'", file=raw.file, row=int(row),
                                    column=left, study=study, found=_num(a[pos]),
                                    expected=f"{op} {_num(b[pos])} (the row's '{right}')"))
    return problems


def _num(x: float):
    return int(x) if float(x).is_integer() else float(x)


def _key_problems(frame: pd.DataFrame, raw: RawTable, spec: TableSpec) -> list[Problem]:
    if not spec.key or any(k not in frame for k in spec.key):
        return []
    problems: list[Problem] = []
    first: dict[tuple[str, ...], int] = {}
    for pos, row in enumerate(frame[list(spec.key)].itertuples(index=False)):
        key = tuple("" if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v) for v in row)
        if not key[0]:
            continue
        rownum = int(frame.index[pos])
        if key in first:
            what = "/".join(spec.key)
            problems.append(Problem(f"duplicate {what} (first seen in row {first[key]})", file=raw.file,
                                    row=rownum, column=spec.key[-1], study=key[0] if "study" in spec.key else None,
                                    found=" / ".join(key), expected=f"each {what} once"))
        else:
            first[key] = rownum
    return problems


def _codes(cell) -> list[str]:
    return [p.strip() for p in cell.split(MULTI_SEP)] if isinstance(cell, str) else []


def _requires_problems(frame: pd.DataFrame, raw: RawTable, spec: TableSpec, pack) -> list[Problem]:
    """Codes valid only with certain codes in another column (pack ``requires``, e.g. approach -> family)."""
    problems = []
    for col in spec.columns:
        vocab = pack.vocabularies.get(col.vocabulary) if (pack is not None and col.kind == "vocab") else None
        if vocab is None or col.name not in frame or not any(c.requires for c in vocab.codes):
            continue
        for pos, cell in enumerate(frame[col.name]):
            for code in _codes(cell):
                entry = vocab.get(code)
                for other, allowed in (entry.requires.items() if entry is not None else ()):
                    have = _codes(frame[other].iloc[pos]) if other in frame else []
                    if have and not set(have) & set(allowed):
                        problems.append(Problem(
                            f"'{col.name}' code '{code}' is only valid with '{other}' in {list(allowed)}",
                            file=raw.file, row=int(frame.index[pos]), column=col.name,
                            study=frame["study"].iloc[pos] if "study" in frame else None,
                            found=f"{col.name}={code}, {other}={frame[other].iloc[pos]}",
                            expected=f"{other} one of {', '.join(allowed)}"))
    return problems
