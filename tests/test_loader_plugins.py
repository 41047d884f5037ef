"""Extra tables plug into the loader through register_table (e.g. a local grading table)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from netstrata import DataError
from netstrata.data import TABLES, ColumnSpec, TableSpec, load_review, table_spec
from netstrata.taxonomy import load_pack

from .test_data_support import copy_example

GRADING = TableSpec(
    "grading", key=("study", "domain"), refs=((("study",), "studies", ("study",)),),
    columns=(ColumnSpec("study", kind="id", nonempty=True),
             ColumnSpec("domain", kind="choice", nonempty=True, choices=("D1", "D2", "D3", "D4", "D5")),
             ColumnSpec("judgement", kind="choice", nonempty=True, choices=("low", "some_concerns", "high"))))


@pytest.fixture
def with_grading(monkeypatch):
    monkeypatch.setitem(TABLES, "grading", GRADING)


def test_registered_table_is_read_and_validated(tmp_path, with_grading):
    p = copy_example(tmp_path)
    (p / "grading.csv").write_text("study,domain,judgement\nLord 1996,D1,low\nLord 1996,D2,some_concerns\n")
    review = load_review(p)
    assert list(review.table("grading")["judgement"]) == ["low", "some_concerns"]
    (p / "grading.csv").write_text("study,domain,judgement\nLord 1996,D1,lowish\nLord 1969,D2,low\n")
    with pytest.raises(DataError) as info:
        load_review(p)
    by_col = {x.column: x for x in info.value.problems}
    assert by_col["judgement"].hint == "did you mean 'low'?" and by_col["judgement"].file == "grading.csv"
    assert by_col["study"].found == "Lord 1969" and by_col["study"].hint == "did you mean 'Lord 1996'?"


def test_registered_table_is_optional(tmp_path, with_grading):
    assert load_review(copy_example(tmp_path)).table("grading") is None


DOC = Path(__file__).resolve().parents[1] / "docs" / "data-format.md"


def test_docs_name_every_column_and_table():
    text = DOC.read_text()
    pack = load_pack("spine")
    core = ("studies", "arms", "outcomes", "exclusions", "contrasts", "extraction-b", "studies-b", "arms-b",
            "fidelity", "rob")
    for name in core:  # tables registered by other layers document themselves
        assert f"{name}.csv" in text, name
        for col in table_spec(name, pack).columns:
            assert re.search(rf"`{re.escape(col.name)}`", text), (name, col.name)


def test_extra_table_passed_per_call(tmp_path):
    p = copy_example(tmp_path)
    (p / "grading.csv").write_text("study,domain,judgement\nLord 1996,D1,high\n")
    assert load_review(p).table("grading") is None          # not registered: not read
    review = load_review(p, tables=[GRADING])
    assert list(review.table("grading")["judgement"]) == ["high"]
    assert "grading" not in TABLES


def test_second_extraction_of_arms(tmp_path):
    p = copy_example(tmp_path)
    text = (p / "arms.csv").read_text().replace("Lord 1996,rf,12,", "Lord 1996,rf,13,")
    (p / "arms-b.csv").write_text(text)
    review = load_review(p)
    assert review.table("arms-b").set_index(["study", "arm"]).loc[("Lord 1996", "rf"), "n"] == 13
