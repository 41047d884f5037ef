"""Double extraction inside a project folder: ``outcomes.csv`` vs ``extraction-b.csv`` and ``<table>-b.csv``."""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError, Problem
from ._cells import read_table
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
    pairs = {}
    for table, names in SECOND_EXTRACTION_FILES.items():
        second = next((root / n for n in names if (root / n).is_file()), None)
        if second is not None and (root / f"{table}.csv").is_file():
            pairs[table] = (root / f"{table}.csv", second)
    if not pairs:
        raise DataError(Problem("no second extraction in this project", file=str(root),
                                expected="extraction-b.csv, studies-b.csv or arms-b.csv next to the tables"))
    return pairs


def compare_project(folder, **options) -> ExtractionComparison:
    """Compare every table of a project with its second extraction (``options`` as in compare_extractions).

    A :class:`netstrata.data.Review` may be passed instead of a folder (its ``path`` is used).
    """
    folder = getattr(folder, "path", folder)
    pairs = second_extraction_pairs(folder)
    a = {t: read_table(fa) for t, (fa, _) in pairs.items()}
    b = {t: read_table(fb) for t, (_, fb) in pairs.items()}
    options.setdefault("label_a", "first extraction")
    options.setdefault("label_b", "second extraction")
    return compare_extractions(a, b, **options)
