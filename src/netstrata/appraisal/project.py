"""Double extraction inside a project folder: ``outcomes.csv`` vs ``extraction-b.csv`` and ``<table>-b.csv``."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError, Problem
from ._cells import read_table, read_workbook_tables
from .extraction import ExtractionComparison, compare_extractions

__all__ = ["SECOND_EXTRACTION_FILES", "second_extraction_pairs", "compare_project"]

# table -> file names that may hold the second extraction (first found wins)
SECOND_EXTRACTION_FILES: dict[str, tuple[str, ...]] = {
    "studies": ("studies-b.csv",),
    "arms": ("arms-b.csv",),
    "outcomes": ("extraction-b.csv", "outcomes-b.csv"),
}


def second_extraction_pairs(folder) -> dict[str, tuple[Path, Path]]:
    """{table: (first extraction file, second extraction file)} for every table extracted twice."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(Problem("project folder not found", file=str(root)))
    pairs: dict[str, tuple[Path, Path]] = {}
    for table, names in SECOND_EXTRACTION_FILES.items():
        second = next((root / n for n in names if (root / n).is_file()), None)
        if second is not None and (root / f"{table}.csv").is_file():
            pairs[table] = (root / f"{table}.csv", second)
    if not pairs:
        raise DataError(Problem("no second extraction in this project", file=str(root),
                                expected="extraction-b.csv, studies-b.csv or arms-b.csv next to the tables"))
    return pairs


def _workbook_pairs(path: Path) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    names = [*SECOND_EXTRACTION_FILES, *(n[:-4] for v in SECOND_EXTRACTION_FILES.values() for n in v)]
    sheets = read_workbook_tables(path, names)
    a: dict[str, pd.DataFrame] = {}
    b: dict[str, pd.DataFrame] = {}
    for table, files in SECOND_EXTRACTION_FILES.items():
        second = next((sheets[n[:-4]] for n in files if n[:-4] in sheets), None)
        if second is not None and table in sheets:
            a[table], b[table] = sheets[table], second
    if not a:
        raise DataError(Problem("no second extraction sheet in this workbook", file=str(path),
                                expected="sheets extraction-b, studies-b or arms-b next to the tables"))
    return a, b


def compare_project(folder, **options) -> ExtractionComparison:
    """Compare every table of a project with its second extraction (``options`` as in compare_extractions).

    ``folder`` is a project folder, a project workbook (``.xlsx``; sheets ``extraction-b``,
    ``studies-b``, ``arms-b``) or a :class:`netstrata.data.Review` (its ``path`` is used).
    """
    path = Path(getattr(folder, "path", folder))
    if path.suffix.lower() == ".xlsx" and path.is_file():
        a, b = _workbook_pairs(path)
    else:
        pairs = second_extraction_pairs(path)
        a = {t: read_table(fa) for t, (fa, _) in pairs.items()}
        b = {t: read_table(fb) for t, (_, fb) in pairs.items()}
    options.setdefault("label_a", "first extraction")
    options.setdefault("label_b", "second extraction")
    return compare_extractions(a, b, **options)
