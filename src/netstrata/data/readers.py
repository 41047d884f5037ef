"""Read review tables as raw text cells from CSV files or the sheets of one ``.xlsx`` workbook.

Every cell is kept as a stripped string (empty string = missing) so that the validator, not
pandas, decides what a value means; nothing here raises anything but :class:`DataError`.
CSV: UTF-8 with or without a BOM; comma, semicolon or tab separated (detected from the header
line). In a semicolon-separated file a decimal comma (``1,5``) is read as ``1.5``.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError, Problem, closest

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RawTable", "read_csv", "read_workbook", "sheet_names", "workbook_frames", "from_decimal_comma"]


@dataclass(frozen=True, slots=True)
class RawTable:
    """One table as read: header, rows of stripped strings, spreadsheet row numbers."""

    name: str
    file: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_numbers: tuple[int, ...]
    decimal_comma: bool = False


def from_decimal_comma(cell: str) -> str:
    """``"1,5"`` -> ``"1.5"``: the rule for numbers in a semicolon-separated file (one comma, no
    point); any other text is returned unchanged."""
    return cell.replace(",", ".") if cell.count(",") == 1 and "." not in cell else cell


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > 0 else ","


def read_csv(path: Path, name: str) -> tuple[RawTable | None, list[Problem]]:
    """Read one CSV file; return the table (or None) and the problems found."""
    fname = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(f"cannot read the file ({exc.strerror})", file=fname)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem("the file is not UTF-8 text", file=fname, row=line,
                              hint="save it as 'CSV UTF-8' from your spreadsheet program")]
    if "\x00" in text:
        return None, [Problem("the file contains NUL bytes; it is not a text CSV", file=fname,
                              hint="export the sheet as CSV UTF-8")]
    if not text.strip():
        return None, [Problem("the file is empty", file=fname,
                              expected="a header row with column names, then one row per record")]
    first = text.lstrip("\r\n").splitlines()[0]
    delim = _sniff_delimiter(first)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as exc:
        return None, [Problem(f"the file cannot be parsed as CSV ({exc})", file=fname)]
    return _to_raw(records, name, fname, decimal_comma=(delim == ";"))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _to_raw(records: list[list], name: str, fname: str, decimal_comma: bool = False,
            first_row: int = 1) -> tuple[RawTable | None, list[Problem]]:
    """Turn records (header first) into a RawTable; skip fully blank records."""
    numbered = [(i + first_row, [_cell(v) for v in rec]) for i, rec in enumerate(records)]
    numbered = [(i, rec) for i, rec in numbered if any(rec)]
    if not numbered:
        return None, [Problem("the table is empty", file=fname,
                              expected="a header row with column names")]
    (hrow, header), body = numbered[0], numbered[1:]
    header = [h.strip().lstrip("\ufeff") for h in header]
    while header and not header[-1]:
        header.pop()
    problems = []
    seen: set[str] = set()
    for j, h in enumerate(header):
        if not h:
            problems.append(Problem(f"column {j + 1} has no name in the header", file=fname, row=hrow))
        elif h in seen:
            problems.append(Problem("column name appears twice in the header", file=fname, row=hrow, column=h))
        seen.add(h)
    width = len(header)
    rows, nums = [], []
    for i, rec in body:
        extra = rec[width:]
        if any(extra):
            problems.append(Problem(f"row has {len(rec)} cells but the header has {width} columns",
                                    file=fname, row=i, found=extra[0]))
        rec = (rec + [""] * width)[:width]
        rows.append(tuple(rec))
        nums.append(i)
    if problems:
        return None, problems
    return RawTable(name, fname, tuple(header), tuple(rows), tuple(nums), decimal_comma), []


def sheet_names(path: Path) -> tuple[list[str], list[Problem]]:
    """The sheet names of a workbook, or a problem if it cannot be opened."""
    wb, problems = _open_workbook(path)
    if wb is None:
        return [], problems
    try:
        return list(wb.sheetnames), []
    finally:
        wb.close()


def _open_workbook(path: Path, *, formulas: bool = False):
    """The workbook opened read-only: cached values (``formulas=False``) or the formulas themselves."""
    try:
        import openpyxl
        return openpyxl.load_workbook(path, read_only=True, data_only=not formulas), []
    except Exception as exc:  # openpyxl raises many types for a corrupt or non-xlsx file
        return None, [Problem(f"cannot open the workbook ({type(exc).__name__}: {exc})", file=path.name,
                              expected="an .xlsx workbook saved by Excel or LibreOffice")]


def _is_formula(cell) -> bool:
    if isinstance(cell, str):
        return cell.startswith("=")
    return type(cell).__name__ in ("ArrayFormula", "DataTableFormula")


def _column_letter(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _sheet_records(values_ws, formula_ws, fname: str) -> tuple[list[list], list[Problem]]:
    """Rows of cached values; a formula cell without a cached value is a problem naming the cell.

    A workbook written by a script (openpyxl, xlsxwriter, pandas) stores formulas without the
    values a spreadsheet program computes on saving; reading them as empty would silently drop
    the data, so they are refused instead.
    """
    records, problems = [], []
    formula_rows = formula_ws.iter_rows(values_only=True) if formula_ws is not None else iter(())
    header: list = []
    for i, values in enumerate(values_ws.iter_rows(values_only=True), start=1):
        formulas = next(formula_rows, ())
        values = list(values)
        if i == 1:
            header = [_cell(v) for v in values]
        for j, v in enumerate(values):
            f = formulas[j] if j < len(formulas) else None
            if v is None and _is_formula(f):
                ref = f"{_column_letter(j)}{i}"
                problems.append(Problem(
                    f"cell {ref} holds a formula without a cached value", file=fname, row=i,
                    column=header[j] if j < len(header) and header[j] and i > 1 else None,
                    found=str(getattr(f, "text", f)),
                    expected="a value: open and save the workbook in Excel or LibreOffice (which stores "
                             "the computed values), or write values instead of formulas"))
        records.append(values)
    return records, problems


def _read_sheets(path: Path, names) -> tuple[dict[str, list[list]], list[Problem]]:
    """{sheet: records} for the sheets in ``names`` present in the workbook (formula cells checked)."""
    wb, problems = _open_workbook(path)
    if wb is None:
        return {}, problems
    fwb, _ = _open_workbook(path, formulas=True)
    out = {}
    try:
        for name in names:
            if name in wb.sheetnames:
                fws = fwb[name] if fwb is not None and name in fwb.sheetnames else None
                out[name], probs = _sheet_records(wb[name], fws, f"{path.name}[{name}]")
                problems += probs
    finally:
        wb.close()
        if fwb is not None:
            fwb.close()
    return out, problems


def read_workbook(path: Path, wanted: dict[str, bool]) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read the sheets named in ``wanted`` (name -> required); report wrong or missing sheets."""
    names, problems = sheet_names(path)
    if problems:
        return {}, problems
    for name, required in wanted.items():
        if name not in names and required:
            hint = closest(name, names)
            problems.append(Problem(
                f"the workbook has no sheet named '{name}'", file=path.name, found=names,
                expected=f"a sheet named '{name}'",
                hint=f"did you mean {hint!r}? rename the sheet to '{name}'" if hint else None))
    sheets, probs = _read_sheets(path, [n for n in wanted if n in names])
    problems += probs
    out: dict[str, RawTable] = {}
    for name, records in sheets.items():
        raw, probs = _to_raw(records, name, f"{path.name}[{name}]")
        problems += probs
        if raw is not None:
            out[name] = raw
    return out, problems


def workbook_frames(path: Path, names) -> dict[str, pd.DataFrame]:
    """Sheets ``names`` (those present) as DataFrames of text cells, header row as columns.

    Raises
    ------
    DataError
        The workbook cannot be opened or a formula cell has no cached value.
    """
    import pandas as pd
    sheets, problems = _read_sheets(Path(path), names)
    if problems:
        raise DataError(problems)
    frames = {}
    for name, records in sheets.items():
        raw, probs = _to_raw(records, name, f"{Path(path).name}[{name}]")
        if probs or raw is None:  # an empty sheet comes back as None with its problem
            raise DataError(probs)
        frames[name] = pd.DataFrame(list(raw.rows), columns=list(raw.header), dtype=str,
                                    index=pd.Index(raw.row_numbers, name="row"))
    return frames


def read_plan_sheet(path: Path) -> str | None:
    """TOML text held in a sheet named 'plan' (one TOML line per row, first column), if any."""
    wb, _ = _open_workbook(path)
    if wb is None or "plan" not in wb.sheetnames:
        if wb is not None:
            wb.close()
        return None
    try:
        return "\n".join(_cell(r[0]) if r else "" for r in wb["plan"].iter_rows(values_only=True))
    finally:
        wb.close()
