"""The same project as one .xlsx workbook: sheets = tables, plan beside it or in a 'plan' sheet."""
from __future__ import annotations

import shutil

import openpyxl
import pytest

from netstrata import DataError
from netstrata.data import load_review

from .test_data_support import EXAMPLE, read_rows


def _number(cell: str):
    for cast in (int, float):
        try:
            return cast(cell)
        except ValueError:
            pass
    return cell if cell != "" else None


def make_workbook(path, rename: dict[str, str] | None = None, plan_sheet: bool = False):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for csv_path in sorted(EXAMPLE.glob("*.csv")):
        name = csv_path.stem
        ws = wb.create_sheet((rename or {}).get(name, name))
        rows = read_rows(csv_path)
        ws.append(rows[0])
        for r in rows[1:]:
            ws.append([_number(c) for c in r])
    if plan_sheet:
        ws = wb.create_sheet("plan")
        for line in (EXAMPLE / "netstrata.toml").read_text().splitlines():
            ws.append([line])
    wb.save(path)
    return path


def test_xlsx_gives_the_same_review_as_csv(tmp_path):
    book = make_workbook(tmp_path / "landmark.xlsx")
    shutil.copy(EXAMPLE / "netstrata.toml", tmp_path / "landmark.toml")
    from_xlsx, from_csv = load_review(book), load_review(EXAMPLE)
    assert from_xlsx.fingerprint == from_csv.fingerprint
    assert len(from_xlsx.register) == len(from_csv.register)
    assert from_xlsx.outcomes["events"].equals(from_csv.outcomes["events"])


def test_xlsx_plan_named_netstrata_toml_beside(tmp_path):
    book = make_workbook(tmp_path / "review.xlsx")
    shutil.copy(EXAMPLE / "netstrata.toml", tmp_path / "netstrata.toml")
    assert load_review(book).fingerprint == load_review(EXAMPLE).fingerprint


def test_xlsx_plan_in_a_sheet(tmp_path):
    book = make_workbook(tmp_path / "review.xlsx", plan_sheet=True)
    assert load_review(book).fingerprint == load_review(EXAMPLE).fingerprint


def test_xlsx_wrong_sheet_name(tmp_path):
    book = make_workbook(tmp_path / "review.xlsx", rename={"outcomes": "Outcome data"}, plan_sheet=True)
    with pytest.raises(DataError) as info:
        load_review(book)
    (prob,) = info.value.problems
    assert prob.file == "review.xlsx" and "no sheet named 'outcomes'" in prob.message
    assert "Outcome data" in prob.found and prob.hint.startswith("did you mean 'Outcome data'?")


def test_xlsx_cell_problem_names_sheet_and_row(tmp_path):
    book = make_workbook(tmp_path / "review.xlsx", plan_sheet=True)
    wb = openpyxl.load_workbook(book)
    wb["arms"]["C3"] = -4          # n of Lord 1996 sham (row 3)
    wb.save(book)
    with pytest.raises(DataError) as info:
        load_review(book)
    (prob,) = [p for p in info.value.problems if p.column == "n"]
    assert (prob.file, prob.row, prob.study, prob.found) == ("review.xlsx[arms]", 3, "Lord 1996", "-4")


def test_xlsx_without_plan(tmp_path):
    book = make_workbook(tmp_path / "review.xlsx")
    with pytest.raises(DataError) as info:
        load_review(book)
    assert any("plan is missing" in p.message for p in info.value.problems)


def test_corrupt_workbook(tmp_path):
    book = tmp_path / "review.xlsx"
    book.write_bytes(b"PK\x03\x04 this is not really a zip")
    shutil.copy(EXAMPLE / "netstrata.toml", tmp_path / "review.toml")
    with pytest.raises(DataError) as info:
        load_review(book)
    assert any("cannot open the workbook" in p.message for p in info.value.problems)


def test_empty_sheet(tmp_path):
    book = make_workbook(tmp_path / "review.xlsx", plan_sheet=True)
    wb = openpyxl.load_workbook(book)
    del wb["studies"]
    wb.create_sheet("studies")
    wb.save(book)
    with pytest.raises(DataError) as info:
        load_review(book)
    assert any(p.file == "review.xlsx[studies]" and "empty" in p.message for p in info.value.problems)


def test_xlsx_misnamed_optional_sheet(tmp_path):
    book = make_workbook(tmp_path / "review.xlsx", rename={"exclusions": "Exclusions"}, plan_sheet=True)
    with pytest.raises(DataError) as info:
        load_review(book)
    (prob,) = info.value.problems
    assert prob.file == "review.xlsx" and prob.found == "Exclusions" and "sheet" in prob.message
