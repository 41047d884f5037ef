"""Helpers shared by the data/loader tests: a writable copy of the example project and cell edits.

(Named test_data_* so it stays inside the data helper's test files; it holds one sanity test.)
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from netstrata import DataError
from netstrata.data import example_path

EXAMPLE = example_path("spine-landmark")


def copy_example(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(EXAMPLE, dest)
    return dest


def set_sensitivity(project: Path, section: str) -> Path:
    """Replace the plan's ``[sensitivity]`` table of a copied project by ``section`` (TOML text
    starting with the ``[sensitivity]`` header)."""
    toml = project / "netstrata.toml"
    lines, out, skipping = toml.read_text(encoding="utf-8").splitlines(), [], False
    for line in lines:
        header = line.strip().startswith("[")
        if header:
            skipping = line.strip() == "[sensitivity]"
        if not skipping:
            out.append(line)
    toml.write_text("\n".join(out) + "\n" + section.strip() + "\n", encoding="utf-8")
    return project


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]], delimiter: str = ",", bom: bool = False) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\n").writerows(rows)


def set_cell(project: Path, table: str, row: int, column: str, value: str) -> None:
    """Set a cell; ``row`` in spreadsheet numbering (header = 1)."""
    path = project / f"{table}.csv"
    rows = read_rows(path)
    rows[row - 1][rows[0].index(column)] = value
    write_rows(path, rows)


def find_row(project: Path, table: str, **match) -> int:
    """Spreadsheet row number of the first row whose cells equal ``match``."""
    rows = read_rows(project / f"{table}.csv")
    head = rows[0]
    for i, r in enumerate(rows[1:], start=2):
        if all(r[head.index(k)] == v for k, v in match.items()):
            return i
    raise LookupError(match)


def problems_of(exc: DataError, **where):
    """Problems whose attributes equal ``where`` (e.g. file='outcomes.csv', column='sd')."""
    return [p for p in exc.problems if all(getattr(p, k) == v for k, v in where.items())]


def test_support_copy_is_valid(tmp_path):
    from netstrata.data import load_review
    assert len(load_review(copy_example(tmp_path)).studies) == 10
    with pytest.raises(LookupError):
        find_row(EXAMPLE, "studies", study="No Such 1900")


def recode_designs(project: Path, studies, design: str) -> None:
    """Recode ``studies`` of a copied example as ``design`` (a test fixture, not a claim about the
    trials); their RoB 2 rows in rob.csv become tool-free CINeMA levels (RoB 2 is for trials only)."""
    import pandas as pd
    path = project / "studies.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[frame["study"].isin(studies), "design"] = design
    frame.to_csv(path, index=False)
    if (project / "rob.csv").exists():
        rob = pd.read_csv(project / "rob.csv", dtype=str, keep_default_na=False)
        hit = rob["study"].isin(studies)
        rob.loc[hit, "tool"] = ""
        rob.loc[hit, [c for c in rob.columns if c[:1] == "D" and c[1:].isdigit()]] = ""
        rob.to_csv(project / "rob.csv", index=False)
