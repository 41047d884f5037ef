"""Every bad-input case gives one DataError naming file, row, column, study, value found and expected."""
from __future__ import annotations

import pytest

from netstrata import DataError
from netstrata.data import load_review

from .test_data_support import copy_example, find_row, problems_of, read_rows, set_cell, write_rows


def _error(project) -> DataError:
    with pytest.raises(DataError) as info:
        load_review(project)
    return info.value


def _one(exc: DataError, **where):
    hits = problems_of(exc, **where)
    assert len(hits) == 1, f"expected one problem with {where}; got:\n{exc}"
    return hits[0]


def test_negative_sd(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "outcomes", study="Juch 2017 MINT SIJ", arm="rf")
    set_cell(p, "outcomes", row, "sd", "-1.2")
    prob = _one(_error(p), file="outcomes.csv", column="sd")
    assert (prob.row, prob.study, prob.found) == (row, "Juch 2017 MINT SIJ", "-1.2")
    assert "> 0" in prob.expected and "out of range" in prob.message


def test_events_greater_than_n(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "outcomes", study="Lord 1996", arm="rf")
    set_cell(p, "outcomes", row, "events", "13")
    prob = _one(_error(p), file="outcomes.csv", column="events")
    assert (prob.row, prob.study, prob.found) == (row, "Lord 1996", 13)
    assert "<= 12" in prob.expected and "'events' must be <= 'n'" in prob.message


def test_n_zero_in_arms(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "arms", study="van Kleef 1999", arm="sham")
    set_cell(p, "arms", row, "n", "0")
    prob = _one(_error(p), file="arms.csv", column="n")
    assert (prob.row, prob.study, prob.found) == (row, "van Kleef 1999", "0")
    assert "> 0" in prob.expected


def test_n_zero_in_outcomes(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "outcomes", study="Govind 2003")
    set_cell(p, "outcomes", row, "n", "0")
    exc = _error(p)
    prob = _one(exc, file="outcomes.csv", column="n")
    assert prob.row == row and prob.study == "Govind 2003" and prob.found == "0"


@pytest.mark.parametrize("value", ["twelve", "12,5", "58%", "inf", "1e400"])
def test_non_numeric_cell(tmp_path, value):
    p = copy_example(tmp_path)
    row = find_row(p, "arms", study="Cohen 2008", arm="rf")
    set_cell(p, "arms", row, "n", value)
    prob = _one(_error(p), file="arms.csv", column="n")
    assert (prob.row, prob.study, prob.found) == (row, "Cohen 2008", value)
    assert "whole number" in prob.expected


def test_fractional_count(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "outcomes", study="van Wijk 2005", arm="rf")
    set_cell(p, "outcomes", row, "events", "11.3")
    prob = _one(_error(p), file="outcomes.csv", column="events")
    assert "not a whole number" in prob.message and prob.found == "11.3"


def test_unknown_vocabulary_suggests_closest(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "arms", study="Lord 1996", arm="rf")
    set_cell(p, "arms", row, "energy", "thermal_conventionl")
    prob = _one(_error(p), file="arms.csv", column="energy")
    assert (prob.row, prob.study, prob.found) == (row, "Lord 1996", "thermal_conventionl")
    assert prob.hint == "did you mean 'thermal_conventional'?"
    assert "vocabulary 'energy'" in prob.message and "pulsed" in prob.expected


def test_unknown_vocabulary_in_multi_valued_cell(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "arms", study="Cohen 2008", arm="rf")
    set_cell(p, "arms", row, "approach", "lateral_branch|dorsal_ramus_L4")
    prob = _one(_error(p), file="arms.csv", column="approach")
    assert prob.found == "dorsal_ramus_L4" and prob.hint == "did you mean 'dorsal_ramus_L5'?"


def test_unknown_design_suggests_case(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "studies", 2, "design", "rct")
    prob = _one(_error(p), file="studies.csv", column="design")
    assert prob.hint == "did you mean 'RCT'?" and prob.study == "Lord 1996"


def test_duplicate_study_ids(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "studies", study="van Wijk 2005")
    set_cell(p, "studies", row, "study", "van Kleef 1999")
    exc = _error(p)
    prob = _one(exc, file="studies.csv", column="study")
    assert prob.row == row and prob.study == "van Kleef 1999" and "duplicate study" in prob.message
    assert "first seen in row 3" in prob.message


def test_arm_without_study(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "arms.csv")
    rows.append(["Nath 2008", "rf", "20", "RFN_FACET", "", "", "lumbar", "", "", "", "design only"])
    write_rows(p / "arms.csv", rows)
    prob = _one(_error(p), file="arms.csv", column="study")
    assert prob.row == len(rows) and prob.study == "Nath 2008" and "not found in studies.csv" in prob.message


def test_outcome_for_unknown_arm(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "outcomes", study="Lord 1996", arm="sham")
    set_cell(p, "outcomes", row, "arm", "shma")
    prob = _one(_error(p), file="outcomes.csv", column="arm")
    assert prob.row == row and prob.study == "Lord 1996" and prob.found == "Lord 1996 / shma"
    assert prob.hint == "did you mean 'Lord 1996 / sham'?"


def test_one_arm_comparative_study(tmp_path):
    p = copy_example(tmp_path)
    rows = [r for r in read_rows(p / "arms.csv") if not (r[0] == "van Kleef 1999" and r[1] == "sham")]
    write_rows(p / "arms.csv", rows)
    rows = [r for r in read_rows(p / "outcomes.csv") if not (r[0] == "van Kleef 1999" and r[1] == "sham")]
    write_rows(p / "outcomes.csv", rows)
    rows = [r for r in read_rows(p / "extraction-b.csv") if not (r[0] == "van Kleef 1999" and r[1] == "sham")]
    write_rows(p / "extraction-b.csv", rows)
    prob = _one(_error(p), file="studies.csv", column="design")
    assert prob.study == "van Kleef 1999" and prob.row == find_row(p, "studies", study="van Kleef 1999")
    assert "only 1 arm" in prob.message and "single_arm" in prob.expected


def test_empty_file(tmp_path):
    p = copy_example(tmp_path)
    (p / "arms.csv").write_text("")
    exc = _error(p)
    prob = _one(exc, file="arms.csv")
    assert "empty" in prob.message and "header" in prob.expected


def test_header_only_required_table(tmp_path):
    p = copy_example(tmp_path)
    write_rows(p / "studies.csv", read_rows(p / "studies.csv")[:1])
    exc = _error(p)
    assert any("no data rows" in x.message for x in problems_of(exc, file="studies.csv"))


def test_missing_required_column(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "outcomes.csv")
    rows[0][rows[0].index("events")] = "evnts"
    write_rows(p / "outcomes.csv", rows)
    prob = _one(_error(p), file="outcomes.csv", column="events")
    assert prob.row == 1 and "missing" in prob.message and prob.hint == "did you mean 'evnts'?"


def test_missing_pack_column(tmp_path):
    p = copy_example(tmp_path)
    rows = [r[:-1] for r in read_rows(p / "studies.csv")]  # drop 'notes' (optional)
    head = rows[0]
    j = head.index("selection_reporting")
    write_rows(p / "studies.csv", [r[:j] + r[j + 1:] for r in rows])
    prob = _one(_error(p), file="studies.csv", column="selection_reporting")
    assert "required column is missing" in prob.message


def test_bom_and_semicolons_are_accepted(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "outcomes.csv")
    write_rows(p / "outcomes.csv", rows, delimiter=";", bom=True)
    write_rows(p / "arms.csv", read_rows(p / "arms.csv"), bom=True)
    assert (p / "outcomes.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    review = load_review(p)
    assert review.fingerprint == load_review(copy_example(tmp_path / "again")).fingerprint


def test_semicolon_file_with_decimal_comma(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "outcomes.csv")
    row = find_row(p, "outcomes", study="Juch 2017 MINT SIJ", arm="rf")
    rows[row - 1][rows[0].index("mean")] = "4,77"
    write_rows(p / "outcomes.csv", rows, delimiter=";")
    review = load_review(p)
    assert review.outcomes.loc[row, "mean"] == 4.77


def test_ragged_row(tmp_path):
    p = copy_example(tmp_path)
    text = (p / "studies.csv").read_text().splitlines()
    text[2] += ",extra cell"
    (p / "studies.csv").write_text("\n".join(text) + "\n")
    prob = _one(_error(p), file="studies.csv")
    assert prob.row == 3 and "header has 15 columns" in prob.message


def test_not_utf8(tmp_path):
    p = copy_example(tmp_path)
    (p / "exclusions.csv").write_bytes("study,reason_code,message\nMüller 2001,other,x\n".encode("latin-1"))
    prob = _one(_error(p), file="exclusions.csv")
    assert "not UTF-8" in prob.message and prob.row == 2


def test_missing_plan(tmp_path):
    p = copy_example(tmp_path)
    (p / "netstrata.toml").unlink()
    prob = _one(_error(p), file="netstrata.toml")
    assert "plan is missing" in prob.message


def test_bad_toml_names_the_line(tmp_path):
    p = copy_example(tmp_path)
    text = (p / "netstrata.toml").read_text().replace('kind = "binary"', 'kind = binary', 1)
    (p / "netstrata.toml").write_text(text)
    prob = _one(_error(p), file="netstrata.toml")
    assert "not valid TOML" in prob.message
    lines = text.splitlines()
    assert lines[prob.row - 1].strip() == "kind = binary"


def test_unknown_plan_key_suggests_closest(tmp_path):
    p = copy_example(tmp_path)
    text = (p / "netstrata.toml").read_text().replace('measure = "RR"', 'mesure = "RR"', 1)
    (p / "netstrata.toml").write_text(text)
    exc = _error(p)
    prob = _one(exc, column="outcomes.success.mesure")
    assert prob.file == "netstrata.toml" and prob.hint == "did you mean 'measure'?"
    # the now-missing measure is reported too, in the same error
    assert problems_of(exc, column="outcomes.success.measure")


def test_undeclared_outcome_id(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "outcomes", 2, "outcome", "sucess")
    prob = _one(_error(p), file="outcomes.csv", column="outcome")
    assert prob.row == 2 and prob.study == "Lord 1996" and prob.hint == "did you mean 'success'?"


def test_nr_not_allowed_in_vocabulary_without_it(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "studies", 2, "selection_reporting", "NR")
    prob = _one(_error(p), file="studies.csv", column="selection_reporting")
    assert prob.found == "NR" and "not_reported" in prob.expected


def test_many_problems_reported_together(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "outcomes", 2, "events", "-1")
    set_cell(p, "arms", 2, "n", "zero")
    set_cell(p, "studies", 3, "region", "lumbr")
    exc = _error(p)
    files = {x.file for x in exc.problems}
    assert {"outcomes.csv", "arms.csv", "studies.csv"} <= files
    assert str(exc).startswith(f"{len(exc.problems)} problems in the input:")


def test_not_a_project(tmp_path):
    f = tmp_path / "data.txt"
    f.write_text("hello")
    prob = _one(_error(f), file=str(f))
    assert "not a review project" in prob.message


def test_code_valid_only_with_another_column(tmp_path):
    # pack rule: approach 'caudal' requires family ESI (domain brief B2, "valid per family")
    p = copy_example(tmp_path)
    row = find_row(p, "arms", study="Lord 1996", arm="rf")
    set_cell(p, "arms", row, "approach", "caudal")
    prob = _one(_error(p), file="arms.csv", column="approach")
    assert prob.row == row and prob.study == "Lord 1996"
    assert prob.found == "approach=caudal, family=RFN_FACET" and prob.expected == "family one of ESI"


def test_misnamed_optional_table_is_reported(tmp_path):
    p = copy_example(tmp_path)
    (p / "exclusions.csv").rename(p / "Exclusions.csv")
    (p / "notes.csv").write_text("anything,goes\n1,2\n")          # unrelated files are ignored
    exc = _error(p)
    (prob,) = exc.problems
    assert prob.found == "Exclusions.csv" and prob.hint.startswith("did you mean 'exclusions.csv'?")


@pytest.mark.parametrize("name", ["row", "selected", "not_reported"])
def test_reserved_column_name(tmp_path, name):
    p = copy_example(tmp_path)
    rows = read_rows(p / "outcomes.csv")
    write_rows(p / "outcomes.csv", [r + ([name] if i == 0 else ["1"]) for i, r in enumerate(rows)])
    prob = _one(_error(p), file="outcomes.csv", column=name)
    assert "reserved" in prob.message and prob.row == 1
