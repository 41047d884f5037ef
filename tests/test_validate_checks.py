"""Issue 14: `validate` runs every check `run` makes (one source), and the silent failures are caught.

Each failure named in the issue is first shown to be caught by `validate` with the usual problem
(file, row, column, study, found, expected, hint), then shown to stop `run` with the same problems.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from netstrata import DataError
from netstrata.cli import main
from netstrata.data import load_review
from netstrata.synthesis.pipeline import analyse_review
from netstrata.synthesis.validation import validate_project

from .test_data_support import (
    copy_example,
    find_row,
    read_rows,
    set_cell,
    set_sensitivity,
    write_rows,
)

RUN = {"progress": False, "workers": 1}

# RoB 2 signalling answers that give 'Low' in every domain (RoB 2 decision tables, appraisal/tools/rob2.toml)
LOW = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y", "4.1": "N", "4.2": "N",
       "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}


def _plan(p, old: str, new: str):
    toml = p / "netstrata.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text, old
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def _append(p, text: str):
    toml = p / "netstrata.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n" + text.strip() + "\n", encoding="utf-8")
    return p


def _problems(p):
    v = validate_project(p)
    assert not v.ok, "validate passed"
    return v.problems


def _same_at_run(p, problems):
    """run stops with exactly the problems validate reported (one source of checks)."""
    try:
        review = load_review(p)
    except DataError as exc:
        assert exc.problems == problems
        return
    with pytest.raises(DataError) as err:
        analyse_review(review, multiverse=True, **RUN)
    assert err.value.problems == problems


def _rob(p, rows):
    write_rows(p / "rob.csv", [["study", "result", "tool", "item", "answer", "reason"], *rows])


def _rob2(study, answers, result=""):
    return [[study, result, "RoB 2", item, answer, ""] for item, answer in answers.items()]


# ----------------------------------------------------------------- the silent failures

def test_arm_with_family_and_comparator_type(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "arms", study="Lord 1996", arm="sham")
    set_cell(p, "arms", row, "family", "RFN_FACET")
    (prob,) = _problems(p)
    assert (prob.file, prob.row, prob.column, prob.study) == ("arms.csv", row, "comparator_type", "Lord 1996")
    assert prob.found == "family=RFN_FACET, comparator_type=needle_no_current"
    assert "one of the two" in prob.expected
    assert "sham" in prob.hint and "leaves 'family' empty" in prob.hint
    _same_at_run(p, (prob,))


def test_rob_csv_errors_are_problems_not_notes(tmp_path):
    p = copy_example(tmp_path)
    _rob(p, _rob2("Lord 1996", {k: v for k, v in LOW.items() if k != "1.2"}))
    probs = _problems(p)
    assert probs and all(pr.file == "rob.csv" and pr.study == "Lord 1996" for pr in probs)
    assert any("1.2" in str(pr) for pr in probs)
    _same_at_run(p, probs)


def test_valid_rob_csv_passes_and_run_has_no_rob_note(tmp_path):
    p = copy_example(tmp_path)
    _rob(p, _rob2("Lord 1996", LOW) + _rob2("van Kleef 1999", LOW | {"1.2": "NI"}))
    assert validate_project(p).ok
    res = analyse_review(load_review(p), multiverse=False, **RUN)
    assert not [n for n in res.notes if "could not be appraised" in n]


def test_sensitivity_section_is_checked_by_validate(tmp_path):
    p = set_sensitivity(copy_example(tmp_path), '[sensitivity]\nnode_level = ["family", "techniqe"]\n'
                                                'selection = ["any", "selection_reportng=explicit"]')
    probs = _problems(p)
    by_col = {pr.column: pr for pr in probs}
    assert by_col["sensitivity.node_level"].found == "techniqe"
    assert by_col["sensitivity.node_level"].hint == "did you mean 'technique'?"
    sel = by_col["sensitivity.selection"]
    assert (sel.file, sel.found) == ("netstrata.toml", "selection_reportng=explicit")
    assert sel.hint == "did you mean 'selection_reporting'?"
    _same_at_run(p, probs)


def test_filter_value_that_cannot_occur(tmp_path):
    p = set_sensitivity(copy_example(tmp_path), '[sensitivity]\nfidelity = ["any", "fidelity_tier=T1|T7"]')
    (prob,) = _problems(p)
    assert (prob.column, prob.found) == ("sensitivity.fidelity", "T7")
    assert "T1, T2, TU, T3" in prob.expected


def test_report_section_is_checked(tmp_path):
    p = _append(copy_example(tmp_path), "[report]\nbaseline_risk = { success = 25, sucess = 0.2, pain = 0.3 }\n"
                                        "baseline = 1")
    probs = {pr.column: pr for pr in _problems(p)}
    assert probs["report.baseline_risk.success"].hint == "write a percentage as a proportion: 25% is 0.25"
    assert probs["report.baseline_risk.sucess"].hint == "did you mean 'success'?"
    assert "binary" in probs["report.baseline_risk.pain"].message and probs["report.baseline_risk.pain"].found == "MD"
    assert probs["report.baseline"].message == "unknown key"


def test_rob_overall_filter_of_the_docstring_works(tmp_path):
    """The [sensitivity] example of synthesis/config.py's docstring validates and runs as written."""
    import tomllib

    import netstrata.synthesis.config as config
    block = config.__doc__.split("``[sensitivity]`` declares", 1)[1].split("::", 1)[1].split("\n\n``layers``")[0]
    section = tomllib.loads(block.replace("\n    ", "\n"))["sensitivity"]
    lines = [f"{k} = {json.dumps(v)}" for k, v in section.items()]
    p = set_sensitivity(copy_example(tmp_path), "[sensitivity]\n" + "\n".join(lines))
    _plan(p, 'level = "family"', 'level = "family"')
    _rob(p, _rob2("Lord 1996", LOW) + _rob2("van Kleef 1999", LOW | {"1.2": "NI"})
         + _rob2("van Wijk 2005", LOW | {"1.1": "N", "1.2": "N"}))
    assert validate_project(p).ok, validate_project(p).problems
    from netstrata.synthesis.choices import Choices
    from netstrata.synthesis.records import prepare
    review = load_review(p)
    prep = prepare(review, Choices(risk_of_bias="rob_overall=low|some_concerns"))
    out = {e.study for e in prep.exclusions if e.reason_code == "sensitivity_filter"}
    assert "van Wijk 2005" in out and "Lord 1996" not in out and "van Kleef 1999" not in out
    assert "Cohen 2008" in out           # no assessment: rob_overall is NR, not low


def test_rob_overall_filter_without_rob_csv(tmp_path):
    p = set_sensitivity(copy_example(tmp_path), '[sensitivity]\nrisk_of_bias = ["any", "rob_overall=low"]')
    (p / "rob.csv").unlink(missing_ok=True)
    (prob,) = _problems(p)
    assert prob.column == "sensitivity.risk_of_bias" and "no rob.csv" in prob.message


@pytest.mark.parametrize("mid, hint", [(25, "25% is a ratio of 1.25"), (0.8, "1.25 gives the same zone as 0.8"),
                                       (3.5, None)])
def test_mid_implausible_for_a_ratio_measure(tmp_path, mid, hint):
    p = _plan(copy_example(tmp_path), "mid = 1.25", f"mid = {mid}")
    (prob,) = _problems(p)
    assert (prob.file, prob.column, prob.found) == ("netstrata.toml", "outcomes.success.mid", mid)
    assert "RR" in prob.message and "(1, 3]" in prob.expected
    assert prob.hint is None if hint is None else hint in prob.hint
    _same_at_run(p, (prob,))


def test_mid_of_a_mean_difference_against_the_data(tmp_path):
    p = _plan(copy_example(tmp_path), "mid = 1.5 ", "mid = 15 ")   # mm instead of cm on a 10 cm VAS
    (prob,) = _problems(p)
    assert prob.column == "outcomes.pain.mid" and "largest SD or mean" in prob.expected and "same scale" in prob.hint


def test_missing_pack_columns_give_no_false_strata_error(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "studies.csv")
    keep = [rows[0].index(c) for c in ("study", "citation", "year", "design", "diagnosis")]
    write_rows(p / "studies.csv", [[r[i] for i in keep] for r in rows])
    probs = _problems(p)
    assert len(probs) == 9 and {pr.message for pr in probs} == {"required column is missing"}
    assert not [pr for pr in probs if pr.column == "strata.variables"]


def test_unknown_strata_variable_still_reported(tmp_path):
    p = _plan(copy_example(tmp_path), 'variables = ["region", "diagnosis"]', 'variables = ["region", "diagnosys"]')
    (prob,) = _problems(p)
    assert (prob.column, prob.found, prob.hint) == ("strata.variables", "diagnosys", "did you mean 'diagnosis'?")


def test_time_window_is_a_stratification_variable(tmp_path):
    p = _plan(copy_example(tmp_path), 'variables = ["region", "diagnosis"]', 'variables = ["region", "time_window"]')
    assert validate_project(p).ok


def test_renamed_study_hint_does_not_point_at_the_typo(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "studies", find_row(p, "studies", study="Lord 1996"), "study", "Lord 1969")
    probs = _problems(p)
    refs = [pr for pr in probs if pr.file == "arms.csv"]
    assert len(refs) == 2 and all(pr.found == "Lord 1996" for pr in refs)
    for pr in probs:
        assert "did you mean 'Lord 1969'" not in (pr.hint or "")
    assert "studies.csv row 2 has 'Lord 1969', which no row of arms.csv uses" in refs[0].hint
    (count,) = [pr for pr in probs if pr.file == "studies.csv"]
    assert count.study == "Lord 1969" and "arms.csv uses 'Lord 1996'" in count.hint


def test_typo_in_arms_still_gets_did_you_mean(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "arms", find_row(p, "arms", study="Lord 1996", arm="sham"), "study", "Lord 1969")
    probs = [pr for pr in _problems(p) if pr.file == "arms.csv"]
    assert probs[0].hint == "did you mean 'Lord 1996'?"


def test_time_window_no_row_falls_in(tmp_path):
    p = _plan(copy_example(tmp_path), 'time_window = "closest to but not after 6 months"\ntolerance_weeks = 1\n\n'
              '[outcomes.complete_relief]', 'time_window = "closest to but not after 6 days"\ntolerance_weeks = 0\n\n'
              '[outcomes.complete_relief]')
    (prob,) = _problems(p)
    assert (prob.column, prob.found) == ("outcomes.pain.time_window", "closest to but not after 6 days")
    assert "weeks" in prob.expected and "unit" in prob.hint
    _same_at_run(p, (prob,))


def test_sensitivity_time_window_no_row_falls_in(tmp_path):
    p = set_sensitivity(copy_example(tmp_path), '[sensitivity]\ntime_window = ["plan", "closest to but not after 2 days"]')
    probs = _problems(p)
    assert {pr.column for pr in probs} == {"sensitivity.time_window"}
    assert {pr.found for pr in probs} == {"closest to but not after 2 days"}


@pytest.mark.parametrize("value", ["cohort", "prospective cohort", "case series"])
def test_design_hint_for_cohorts(tmp_path, value):
    p = copy_example(tmp_path)
    set_cell(p, "studies", find_row(p, "studies", study="Govind 2003"), "design", value)
    (prob,) = [pr for pr in _problems(p) if pr.column == "design"]
    assert "'NRS_comparative'" in prob.hint and "'single_arm'" in prob.hint and "data_collection" in prob.hint


def test_arm_with_neither_role_gets_the_sham_hint(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "arms", find_row(p, "arms", study="Lord 1996", arm="sham"), "comparator_type", "")
    (prob,) = _problems(p)
    assert prob.column == "family" and "sets 'comparator_type'" in prob.hint


# ----------------------------------------------------------------- the plan's primary choices

def test_first_node_level_alternative_must_be_the_plans(tmp_path):
    p = set_sensitivity(copy_example(tmp_path), '[sensitivity]\nnode_level = ["technique", "family"]')
    (prob,) = _problems(p)
    assert (prob.column, prob.found, prob.expected) == ("sensitivity.node_level", "technique", "family")


def test_reference_node_typo(tmp_path):
    p = _append(copy_example(tmp_path), '[models]\nreference = ["sham_procedur"]\ncomponents = true\n'
                                        'components_inactive = "exercise_programme"')
    probs = {pr.column: pr for pr in _problems(p)}
    assert (probs["models.reference"].found, probs["models.reference"].hint) == (
        "sham_procedur", "did you mean 'sham_procedure'?")
    assert probs["models.components_inactive"].hint == "did you mean 'exercise_program'?"


def test_unknown_keys_of_certainty_and_appraisal(tmp_path):
    p = _append(copy_example(tmp_path), '[certainty]\ntarge = { region = "lumbar" }\n[appraisal]\nfidelty = {}')
    probs = {pr.column: pr for pr in _problems(p)}
    assert probs["certainty.targe"].hint == "did you mean 'target'?"
    assert probs["appraisal.fidelty"].hint == "did you mean 'fidelity'?"


def test_plan_sections_are_checked_even_when_tables_have_problems(tmp_path):
    p = _plan(copy_example(tmp_path), "mid = 1.25", "mid = 25")
    set_cell(p, "outcomes", find_row(p, "outcomes", study="Lord 1996", arm="rf"), "events", "13")
    cols = {pr.column for pr in _problems(p)}
    assert {"events", "outcomes.success.mid"} <= cols


# ----------------------------------------------------------------- prospective vs retrospective

def test_rct_cannot_be_retrospective(tmp_path):
    p = copy_example(tmp_path)
    rows = read_rows(p / "studies.csv")
    rows[0].append("data_collection")
    for r in rows[1:]:
        r.append("retrospective" if r[0] == "Lord 1996" else "")
    write_rows(p / "studies.csv", rows)
    (prob,) = _problems(p)
    assert (prob.file, prob.row, prob.column, prob.study) == ("studies.csv", 2, "data_collection", "Lord 1996")


def _with_collection(p, values: dict):
    rows = read_rows(p / "studies.csv")
    rows[0].append("data_collection")
    for r in rows[1:]:
        r.append(values.get(r[0], ""))
    write_rows(p / "studies.csv", rows)
    return p


def test_evidence_prospective_only_leaves_out_retrospective_cohorts(tmp_path):
    p = _with_collection(copy_example(tmp_path), {"Govind 2003": "retrospective"})
    _append(p, '[evidence]\ndata_collection = "prospective"')
    assert validate_project(p).ok
    res = analyse_review(load_review(p), multiverse=False, **RUN)
    rows = [e for e in res.register.rows if e.reason_code == "not_prospective"]
    assert [e.study for e in rows] == ["Govind 2003"] and rows[0].file == "outcomes.csv"
    assert res.record_counts["unaccounted"] == 0
    p2 = _with_collection(copy_example(tmp_path / "b"), {"Govind 2003": "prospective"})
    _append(p2, '[evidence]\ndata_collection = "prospective"')
    res2 = analyse_review(load_review(p2), multiverse=False, **RUN)
    assert not [e for e in res2.register.rows if e.reason_code == "not_prospective"]


def test_data_collection_is_a_multiverse_dimension(tmp_path):
    p = _with_collection(copy_example(tmp_path), {"Govind 2003": "retrospective"})
    set_sensitivity(p, '[sensitivity]\ndata_collection = ["any", "prospective"]')
    res = analyse_review(load_review(p), multiverse=True, **RUN)
    frame = res.multiverse.specifications_frame()
    assert list(frame["data_collection"]) == ["any", "prospective"]
    from netstrata.synthesis.choices import Choices
    from netstrata.synthesis.records import prepare
    prep = prepare(load_review(p), Choices(data_collection="prospective"))
    assert {e.study for e in prep.exclusions if e.reason_code == "not_prospective"} == {"Govind 2003"}


def test_data_collection_primary_must_match_evidence(tmp_path):
    p = set_sensitivity(copy_example(tmp_path), '[sensitivity]\ndata_collection = ["any", "prospective"]')
    _append(p, '[evidence]\ndata_collection = "prospective"')
    (prob,) = _problems(p)
    assert (prob.column, prob.found, prob.expected) == ("sensitivity.data_collection", "any", "prospective")


# ----------------------------------------------------------------- the command

def test_validate_json_for_tools(tmp_path):
    p = copy_example(tmp_path)
    set_cell(p, "arms", find_row(p, "arms", study="Lord 1996", arm="sham"), "family", "RFN_FACET")
    out = CliRunner().invoke(main, ["validate", str(p), "--json"])
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    assert doc["ok"] is False and doc["counts"] is None
    (prob,) = doc["problems"]
    assert prob == {"message": "arm has both a procedure family and a comparator type", "file": "arms.csv", "row": 3,
                    "column": "comparator_type", "study": "Lord 1996",
                    "found": "family=RFN_FACET, comparator_type=needle_no_current",
                    "expected": prob["expected"], "hint": prob["hint"]}
    good = CliRunner().invoke(main, ["validate", str(copy_example(tmp_path / "ok")), "--json"])
    assert good.exit_code == 0
    doc = json.loads(good.stdout)
    assert doc["ok"] and doc["problems"] == [] and doc["counts"]["studies"] == 10 and len(doc["fingerprint"]) == 64
    again = CliRunner().invoke(main, ["validate", str(copy_example(tmp_path / "ok2")), "--json"])
    assert json.loads(again.stdout)["fingerprint"] == doc["fingerprint"]


def test_validate_text_lists_every_problem(tmp_path):
    p = _plan(copy_example(tmp_path), "mid = 1.25", "mid = 25")
    out = CliRunner().invoke(main, ["validate", str(p)])
    assert out.exit_code == 1
    assert "1 problem found" in out.stderr and "outcomes.success.mid" in out.stderr


def test_certainty_target_and_modifiers_are_checked(tmp_path):
    p = _append(copy_example(tmp_path), '[certainty.target]\nselection_contrl = "placebo_controlled"\n'
                                        'selection_n_blocks = "4"\n'
                                        '[certainty.transitivity]\nmodifiers = ["regoin", "diagnosis"]\ntvd = -1')
    probs = _problems(p)
    cols = {pr.column: pr for pr in probs}
    assert cols["certainty.target.selection_contrl"].hint == "did you mean 'selection_control'?"
    assert cols["certainty.target.selection_n_blocks"].found == "4"
    assert cols["certainty.transitivity.modifiers"].hint == "did you mean 'region'?"
    assert cols["certainty.transitivity.tvd"].found == -1
    _same_at_run(p, probs)
