"""Reading extracted tables and classifying single cells (shared by extraction QC and adjudication).

Every cell is kept as the text the extractor typed. ``classify`` turns it into a tagged value:

- ``missing``: empty cell (or a missing value in a DataFrame),
- ``nr``: "NR" (not reported), ``unclear``: "unclear" (both case-insensitive, distinct from missing),
- ``num``: a finite number (``"12"`` and ``"12.0"`` are the same number; in a semicolon-separated
  file ``"1,5"`` is 1.5, the loaders' decimal-comma rule),
- ``text``: anything else, compared case- and whitespace-insensitively.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..data.readers import from_decimal_comma, workbook_frames
from ..errors import DataError, Problem

__all__ = ["Cell", "classify", "cell_text", "read_table", "read_workbook_tables", "KEYS", "METADATA", "infer_table",
           "norm_key"]

# Row keys of each table (schema.md). The first matching entry wins when a table is inferred.
KEYS: dict[str, tuple[str, ...]] = {
    "outcomes": ("study", "arm", "outcome", "timepoint_weeks"),
    "arms": ("study", "arm"),
    "studies": ("study",),
    "exclusions": ("study",),
}
# Provenance and free-text commentary: reported beside a disagreement, never compared as data.
METADATA: tuple[str, ...] = ("extractor", "location", "quote", "source", "notes", "note")

_WS = re.compile(r"\s+")


class Cell(NamedTuple):
    tag: str                    # missing | nr | unclear | num | text
    value: float | str | None   # float for num, normalised str for text, None otherwise
    raw: str                    # the text as typed ("" when missing)

    @property
    def number(self) -> float:
        """The value of a ``num`` cell (check ``tag == "num"`` first)."""
        if not isinstance(self.value, float):
            raise TypeError(f"a {self.tag!r} cell has no number")
        return self.value


def cell_text(value) -> str:
    """The cell as text, exactly as typed; numbers from a DataFrame are written without a trailing '.0'."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value) is True:
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):          # numpy scalars
        return cell_text(value.item())
    return str(value)


def classify(value, decimal_comma: bool = False) -> Cell:
    """Tag one cell (see the module docstring); ``decimal_comma``: the cell comes from a
    semicolon-separated file, where ``1,5`` means 1.5."""
    raw = cell_text(value)
    text = _WS.sub(" ", raw.strip())
    if text == "":
        return Cell("missing", None, raw)
    low = text.casefold()
    if low == "nr":
        return Cell("nr", None, raw)
    if low == "unclear":
        return Cell("unclear", None, raw)
    try:
        number = float(from_decimal_comma(text) if decimal_comma else text)
    except ValueError:
        return Cell("text", low, raw)
    if not math.isfinite(number):
        return Cell("text", low, raw)
    return Cell("num", number, raw)


def norm_key(value, decimal_comma: bool = False) -> str:
    """A key cell normalised for matching rows: whitespace collapsed, case folded, numbers canonical."""
    cell = classify(value, decimal_comma)
    if cell.tag == "num":
        return repr(cell.number)
    return _WS.sub(" ", cell.raw.strip()).casefold()


def infer_table(columns) -> str:
    """Guess which table a frame holds from its key columns."""
    cols = set(columns)
    if {"outcome", "timepoint_weeks", "arm"} <= cols:
        return "outcomes"
    if "arm" in cols:
        return "arms"
    if "reason_code" in cols:
        return "exclusions"
    return "studies"


def _separator(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.readline().decode("utf-8-sig", errors="replace")
    return ";" if head.count(";") > head.count(",") else ","


def read_table(path) -> pd.DataFrame:
    """Read a CSV (UTF-8, optional BOM, ',' or ';') keeping every cell as typed text.

    ``frame.attrs["decimal_comma"]`` is True for a semicolon-separated file (``1,5`` = 1.5).

    Raises
    ------
    DataError
        The file is missing, unreadable, not UTF-8 text or has no header row.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(Problem("file not found", file=str(path), hint="give a CSV file or a project folder"))
    try:
        sep = _separator(path)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, sep=sep,
                            encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(Problem("file is not UTF-8 text", file=str(path),
                                hint="save it as CSV UTF-8")) from None
    except pd.errors.EmptyDataError:
        raise DataError(Problem("file is empty (no header row)", file=str(path))) from None
    except pd.errors.ParserError as exc:
        raise DataError(Problem(f"cannot parse the CSV ({exc})", file=str(path))) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["decimal_comma"] = sep == ";"
    return frame


def read_workbook_tables(path, names) -> dict[str, pd.DataFrame]:
    """Sheets ``names`` of a workbook as text frames (formula cells read through their cached
    value, or refused naming the cell: :func:`netstrata.data.readers.workbook_frames`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(Problem("file not found", file=str(path)))
    return workbook_frames(path, names)
