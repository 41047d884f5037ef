"""The ``fidelity.csv`` table: one row per arm x checklist item, with its source.

Format (UTF-8 CSV, or a sheet ``fidelity`` of the project workbook)::

    study,arm,item,value,status,quote,location,extractor
    Lord 1996,rf,temperature_C,80,reported,,"ACP J Club 1997;126:71",A
    Lord 1996,rf,rf_imaging,,not_reported,,,A

- ``study``, ``arm``: an arm of arms.csv;
- ``item``: a field of the checklist that applies to the arm (pack ``fidelity.toml``; the
  checklist is found from the arm's family and region; an arm combining procedures gets every
  matching checklist, and an item shared by two of them is judged once per checklist);
- ``value``: a code, several codes joined by ``|`` (set items), or a number; empty unless
  ``status`` is ``reported``;
- ``status``: ``reported`` | ``not_reported`` | ``unclear`` ("not reported" is not "not done": an
  item absent from the table counts as not reported);
- ``quote``, ``location``, ``extractor``: provenance, as in outcomes.csv.

The format is declared in the data layer (:data:`netstrata.data.spec.FIDELITY`), so the loader
validates this table with every other one and it enters the review's fingerprint.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...data.checks import check_table
from ...data.readers import read_csv, read_workbook, sheet_names
from ...data.spec import FIDELITY
from ...errors import DataError

__all__ = ["FIDELITY_TABLE", "FIDELITY_COLUMNS", "read_fidelity", "fidelity_items"]

FIDELITY_TABLE = FIDELITY  # the format is declared once, in the data layer
FIDELITY_COLUMNS = tuple(c.name for c in FIDELITY_TABLE.columns)


def read_fidelity(path) -> pd.DataFrame:
    """Read and check one ``fidelity.csv`` or the ``fidelity`` sheet of a project workbook
    (columns, status codes, unique arm x item).

    Returns a DataFrame indexed by spreadsheet row (header = row 1). Checks against the arms
    and checklists happen in :func:`netstrata.appraisal.fidelity.appraise_fidelity`.
    """

    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        raws, problems = read_workbook(path, {"fidelity": True})
        raw = raws.get("fidelity")
    else:
        raw, problems = read_csv(path, "fidelity")
    frame = None
    if raw is not None:
        frame, more = check_table(raw, FIDELITY_TABLE)
        problems += more
    if problems or frame is None:
        raise DataError(problems)
    return frame


def fidelity_items(review) -> pd.DataFrame | None:
    """The fidelity table of a loaded review: the loader's table if registered, else
    ``fidelity.csv`` in the project folder (or the ``fidelity`` sheet of its workbook); None when
    the project has none."""
    table = review.table("fidelity") if hasattr(review, "table") else None
    if table is not None:
        return table
    where = Path(review.path)
    if where.is_dir():
        f = where / "fidelity.csv"
        return read_fidelity(f) if f.is_file() else None
    if where.suffix.lower() == ".xlsx" and where.is_file():
        names, _ = sheet_names(where)
        return read_fidelity(where) if "fidelity" in names else None
    return None
