"""Extra tables plug into the loader through register_table (e.g. risk of bias, fidelity items)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from netstrata import DataError
from netstrata.data import TABLES, ColumnSpec, TableSpec, load_review, table_spec
from netstrata.taxonomy import load_pack

from .test_data_support import copy_example

ROB = TableSpec(
    "rob", key=("study", "domain"), refs=((("study",), "studies", ("study",)),),
    columns=(ColumnSpec("study", kind="id", nonempty=True),
             ColumnSpec("domain", kind="choice", nonempty=True, choices=("D1", "D2", "D3", "D4", "D5")),
             ColumnSpec("judgement", kind="choice", nonempty=True, choices=("low", "some_concerns", "high"))))


@pytest.fixture
def with_rob(monkeypatch):
    monkeypatch.setitem(TABLES, "rob", ROB)


def test_registered_table_is_read_and_validated(tmp_path, with_rob):
    p = copy_example(tmp_path)
    (p / "rob.csv").write_text("study,domain,judgement\nLord 1996,D1,low\nLord 1996,D2,some_concerns\n")
    review = load_review(p)
    assert list(review.table("rob")["judgement"]) == ["low", "some_concerns"]
    (p / "rob.csv").write_text("study,domain,judgement\nLord 1996,D1,lowish\nLord 1969,D2,low\n")
    with pytest.raises(DataError) as info:
        load_review(p)
    by_col = {x.column: x for x in info.value.problems}
    assert by_col["judgement"].hint == "did you mean 'low'?" and by_col["judgement"].file == "rob.csv"
    assert by_col["study"].found == "Lord 1969" and by_col["study"].hint == "did you mean 'Lord 1996'?"


def test_registered_table_is_optional(tmp_path, with_rob):
    assert load_review(copy_example(tmp_path)).table("rob") is None


DOC = Path(__file__).resolve().parents[1] / "docs" / "data-format.md"


def test_docs_name_every_column_and_table():
    text = DOC.read_text()
    pack = load_pack("spine")
    core = ("studies", "arms", "outcomes", "exclusions", "contrasts", "extraction-b", "studies-b")
    for name in core:  # tables registered by other layers document themselves
        assert f"{name}.csv" in text, name
        for col in table_spec(name, pack).columns:
            assert re.search(rf"`{re.escape(col.name)}`", text), (name, col.name)
