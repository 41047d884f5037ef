"""Technical fidelity: checklists as pack data, item judgements, tier rules case by case, uses."""
from __future__ import annotations

import math
from types import MappingProxyType

import pandas as pd
import pytest

from netstrata.appraisal.fidelity import (TierRules, appraise_fidelity, load_checklists, read_fidelity,
                                          rules_from_plan)
from netstrata.appraisal.fidelity.checklists import Item
from netstrata.appraisal.fidelity.rules import judge_item, tier_of, worst_tier
from netstrata.appraisal.fidelity.use import FIDELITY_REASON, fidelity_subset, with_fidelity
from netstrata.data import example_path, load_review, parse_plan
from netstrata.errors import DataError, ParameterError
from netstrata.taxonomy import load_pack

EXAMPLE = example_path()


@pytest.fixture(scope="module")
def review():
    return load_review(EXAMPLE)


@pytest.fixture(scope="module")
def result(review):
    return appraise_fidelity(review)


# ------------------------------------------------------------------ checklists (pack data)
def test_spine_pack_has_checklists_c1_to_c7():
    cl = load_checklists("spine")
    assert list(cl.checklists) == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    pack = load_pack("spine")
    for c in cl:
        assert c.default_critical, c.id
        assert set(c.families) <= set(pack.vocabulary("family").allowed)
        for it in c.items:
            assert it.status in ("V", "U", "S") and it.reference
            assert not it.critical or it.scored


def test_checklists_read_the_pack_vocabularies():
    c1 = load_checklists("spine")["C1"]
    orientation = c1.item("electrode_orientation")
    assert set(orientation.allowed) == {"parallel", "perpendicular", "oblique"}
    assert orientation.conforming == ("parallel",)


def test_lord_1996_reference_technique_is_the_c2_standard():
    c2 = load_checklists("spine")["C2"]
    assert set(c2.default_critical) == {"rf_imaging", "temperature_C", "lesion_duration_s", "lesions_per_nerve"}
    assert c2.item("temperature_C").min == 80 and c2.item("lesion_duration_s").min == 90


def test_checklist_selection_by_family_and_region():
    cl = load_checklists("spine")
    assert [c.id for _, c in cl.for_arm("RFN_FACET", "lumbar")] == ["C1"]
    assert [c.id for _, c in cl.for_arm("RFN_FACET", "cervical")] == ["C2"]
    assert [c.id for _, c in cl.for_arm("RFN_FACET|RFN_SIJ", "lumbar")] == ["C1", "C3"]
    assert cl.for_arm(None, "lumbar") == () and cl.for_arm("IM_INJ", "lumbar") == ()


# ------------------------------------------------------------------ item judgements
NUM = Item("t", "t", "number", min=80, max=90)
STRICT = Item("v", "v", "number", max=0.3, max_exclusive=True)
CHOICE = Item("o", "o", "choice", allowed=("parallel", "perpendicular"), conforming=("parallel",))
SET = Item("n", "n", "set", allowed=("L5_DR", "S1_LB", "S2_LB"), requires=("L5_DR", "S1_LB"))
TEXT = Item("x", "x", "text")


@pytest.mark.parametrize("item, status, value, expected", [
    (NUM, "reported", "80", "met"), (NUM, "reported", "90", "met"), (NUM, "reported", "79.9", "not_met"),
    (NUM, "reported", "91", "not_met"), (NUM, "reported", "hot", "unclear"),
    (NUM, "not_reported", None, "not_reported"),
    (NUM, "unclear", None, "unclear"), (STRICT, "reported", "0.3", "not_met"), (STRICT, "reported", "0.29", "met"),
    (CHOICE, "reported", "parallel", "met"), (CHOICE, "reported", "perpendicular", "not_met"),
    (SET, "reported", "S1_LB|L5_DR|S2_LB", "met"), (SET, "reported", "S1_LB|S2_LB", "not_met"),
    (TEXT, "reported", "anything", "not_scored"), (TEXT, "not_reported", None, "not_scored"),
])
def test_judge_item(item, status, value, expected):
    assert judge_item(item, status, value) == expected


# ------------------------------------------------------------------ tier rules, case by case
RULES = TierRules()


@pytest.mark.parametrize("critical, other, expected", [
    (["met", "met", "met"], [], "T1"),                                   # all critical reported and met
    (["met", "met", "met"], ["not_met"], "T1"),                          # non-critical failure ignored by default
    (["met", "not_met", "met"], [], "T3"),                               # one critical failure
    (["not_met", "not_reported", "not_reported"], [], "T3"),             # a failure beats missing reporting
    (["met", "met", "not_reported"], [], "T2"),                          # 2/3 >= 0.5
    (["met", "not_reported"], [], "T2"),                                 # exactly 0.5 -> T2
    (["met", "unclear", "not_reported"], [], "TU"),                      # 1/3 < 0.5
    (["not_reported", "not_reported"], ["met"], "TU"),                   # nothing critical reported
])
def test_tier_rules(critical, other, expected):
    assert tier_of(critical, other, RULES) == expected


def test_tier_rules_thresholds_are_configurable():
    strict = TierRules(min_reported_share=0.9, noncritical_fail_demotes=True)
    assert tier_of(["met", "met", "not_reported"], [], strict) == "TU"
    assert tier_of(["met", "met"], ["not_met"], strict) == "T2"
    assert worst_tier(["T1", "TU", "T2"]) == "TU" and worst_tier(["T1", "T3", "TU"]) == "T3"
    assert worst_tier([]) == "NA"


# ------------------------------------------------------------------ the bundled example
def test_example_tiers(result):
    t = result.tiers
    assert t[("Lord 1996", "rf")] == "T2"            # 80 C, 90 s, multiple lesions; imaging not reported
    assert t[("Shanthanna 2014", "prf")] == "T1"     # 42 C for 120 s
    assert t[("Cohen 2008", "rf")] == "T2"           # nerves targeted met; imaging not reported
    assert t[("van Kleef 1999", "rf")] == "TU"       # 80 C only (1 of 3 critical)
    assert t[("van Wijk 2005", "rf")] == "TU"
    assert t[("Lord 1996", "sham")] == "NA"
    assert result.counts()["T3"] == 0


def test_example_scores_and_failed_items(result):
    arms = result.arms.set_index(["study", "arm"])
    lord = arms.loc[("Lord 1996", "rf")]
    assert lord["checklist"] == "C2"
    assert lord["score"] == pytest.approx(lord["n_met"] / lord["n_scored"], rel=1e-12)
    assert lord["n_met"] == 3 and lord["critical_not_reported"] == "rf_imaging"
    assert math.isnan(arms.loc[("Lord 1996", "sham"), "score"])
    items = result.items
    row = items[(items.study == "Lord 1996") & (items.item == "temperature_C")].iloc[0]
    assert row["judgement"] == "met" and row["critical"] and row["standard"] == "80 <= x C"


def test_plan_can_change_the_critical_items(review):
    plan = parse_plan({"project": {"name": "x", "pack": "spine"},
                       "outcomes": {"o": {"kind": "binary", "measure": "RR"}},
                       "appraisal": {"fidelity": {"critical": {"C2": ["temperature_C", "lesion_duration_s"]}}}})
    res = appraise_fidelity(review, plan=plan)
    assert res.tiers[("Lord 1996", "rf")] == "T1"
    assert res.rules.source == "plan [appraisal.fidelity]"
    assert res.rules.critical["C2"] == ("temperature_C", "lesion_duration_s")
    assert res.rules.critical["C1"] == load_checklists()["C1"].default_critical
    assert "plan [appraisal.fidelity]" in res.summary().as_text()


@pytest.mark.parametrize("fidelity, column", [
    ({"critical": {"C9": ["x"]}}, "appraisal.fidelity.critical.C9"),
    ({"critical": {"C2": ["temperature"]}}, "appraisal.fidelity.critical.C2"),
    ({"critical": {"C2": ["placement_technique"]}}, "appraisal.fidelity.critical.C2"),   # text: not scored
    ({"min_reported_share": 2}, "appraisal.fidelity.min_reported_share"),
    ({"critcal": {}}, "appraisal.fidelity.critcal"),
])
def test_plan_rules_are_validated(fidelity, column):
    plan = parse_plan({"project": {"name": "x", "pack": "spine"},
                       "outcomes": {"o": {"kind": "binary", "measure": "RR"}}, "appraisal": {"fidelity": fidelity}})
    with pytest.raises(DataError) as exc:
        rules_from_plan(plan, load_checklists())
    assert exc.value.problems[0].column == column


def test_rules_without_a_critical_item_are_refused(review):
    rules = TierRules(MappingProxyType({**TierRules.default(load_checklists()).critical, "C1": ()}))
    with pytest.raises(ParameterError, match="C1"):
        appraise_fidelity(review, rules=rules)


def _rows(*rows):
    cols = ["study", "arm", "item", "value", "status", "quote", "location", "extractor"]
    return pd.DataFrame([dict(zip(cols, r + ("", "", "A"))) for r in rows], columns=cols)


def test_bad_fidelity_rows_are_all_reported(review):
    items = _rows(("Lord 1996", "rf", "temperature", "80", "reported"),
                  ("Lord 1996", "rf", "lesions_per_nerve", "many", "reported"),
                  ("Lord 1996", "rf", "rf_imaging", "fluoroscopy", "not_reported"),
                  ("Lord 1996", "sham", "rf_imaging", "", "not_reported"),
                  ("Nobody 2000", "rf", "rf_imaging", "", "not_reported"),
                  ("Lord 1996", "rf", "lesion_duration_s", "", "reported"))
    with pytest.raises(DataError) as exc:
        appraise_fidelity(review, items)
    msgs = [p.message for p in exc.value.problems]
    assert len(msgs) == 6
    assert exc.value.problems[0].hint == "did you mean 'temperature_C'?"
    assert exc.value.problems[0].row == 2
    assert any("no fidelity checklist" in m for m in msgs) and any("arm not found" in m for m in msgs)


def test_t3_from_a_failing_critical_item(review):
    items = _rows(("van Kleef 1999", "rf", "electrode_orientation", "perpendicular", "reported"),
                  ("van Kleef 1999", "rf", "rf_imaging", "fluoroscopy", "reported"),
                  ("van Kleef 1999", "rf", "temperature_C", "80", "reported"))
    res = appraise_fidelity(review, items)
    arm = res.arms.set_index(["study", "arm"]).loc[("van Kleef 1999", "rf")]
    assert arm["tier"] == "T3" and arm["critical_failed"] == "electrode_orientation"


def test_dataframe_input_uses_pack_defaults(review):
    res = appraise_fidelity(review.arms, read_fidelity(EXAMPLE / "fidelity.csv"))
    assert res.rules.source == "pack default"
    assert res.tiers.equals(appraise_fidelity(review).tiers)


def test_read_fidelity_reports_missing_columns(tmp_path):
    (tmp_path / "fidelity.csv").write_text("study,arm,item,value\nLord 1996,rf,temperature_C,80\n")
    with pytest.raises(DataError, match="status"):
        read_fidelity(tmp_path / "fidelity.csv")


# ------------------------------------------------------------------ uses: stratifier, covariate, inclusion rule
def test_with_fidelity_adds_stratifier_and_covariate(review, result):
    arms = with_fidelity(review, result)
    assert list(arms.columns[-2:]) == ["fidelity_tier", "fidelity_score"]
    assert arms.set_index(["study", "arm"]).loc[("Shanthanna 2014", "prf"), "fidelity_score"] == pytest.approx(2 / 3)
    study = result.study_tiers().set_index("study")
    assert study.loc["Lord 1996", "tier"] == "T2" and "Juch 2017 MINT SIJ" in study.index


def test_t1_only_keeps_conforming_arms_and_registers_the_rest(review, result):
    sel = fidelity_subset(review, result, "T1_only")
    assert sel.studies == ("Shanthanna 2014",)
    assert set(sel.arms["arm"]) == {"prf", "placebo"}
    excluded = {(e.study, e.arm) for e in sel.exclusions}
    assert ("Lord 1996", "rf") in excluded and ("Lord 1996", "sham") in excluded
    assert all(e.reason_code == FIDELITY_REASON and e.stage == "analysis" for e in sel.exclusions)
    reg = sel.register(review.register)
    assert len(reg) == len(review.register) + len(sel.exclusions)
    frame = reg.to_frame()
    assert (frame.loc[frame.reason_code == FIDELITY_REASON, "reason"] != FIDELITY_REASON).all()


def test_exclude_t3_keeps_everything_in_the_example(review, result):
    sel = fidelity_subset(review, result, "exclude_T3")
    assert len(sel.arms) == len(review.arms) and sel.exclusions == ()


def test_arm_level_rule_keeps_the_rest_of_a_three_arm_study(review):
    arms = pd.concat([review.arms, review.arms[review.arms.study == "Lord 1996"].iloc[[0]].assign(arm="rf2")])
    items = _rows(("Lord 1996", "rf2", "rf_imaging", "none", "reported"))
    res = appraise_fidelity(arms, items)
    sel = fidelity_subset(arms, res, ["T1", "T2", "TU"])
    lord = sel.arms[sel.arms.study == "Lord 1996"]
    assert set(lord["arm"]) == {"rf", "sham"}
    assert [(e.study, e.arm) for e in sel.exclusions] == [("Lord 1996", "rf2")]
    whole = fidelity_subset(arms, res, ["T1", "T2", "TU"], level="study")
    assert "Lord 1996" not in whole.studies and len(whole.exclusions) == 3


@pytest.mark.parametrize("rule", ["T4_only", ["T5"], []])
def test_unknown_rules_are_refused(review, result, rule):
    with pytest.raises(ParameterError, match="rule"):
        fidelity_subset(review, result, rule)


def test_rules_argument_keeps_pack_critical_items_for_unnamed_checklists(review):
    res = appraise_fidelity(review, rules=TierRules(min_reported_share=0.8))
    assert res.tiers[("Lord 1996", "rf")] == "TU"          # 3 of 4 critical items = 0.75 < 0.8
    assert res.rules.critical["C2"] == load_checklists()["C2"].default_critical
    assert res.rules.source.startswith("pack default critical items")
    panel = TierRules(MappingProxyType({"C2": ("temperature_C",)}), source="panel 2026-01")
    res = appraise_fidelity(review, rules=panel)
    assert res.tiers[("Lord 1996", "rf")] == "T1" and res.rules.source == "panel 2026-01"
    assert res.rules.critical["C1"] == load_checklists()["C1"].default_critical


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_J = st.sampled_from(["met", "not_met", "not_reported", "unclear"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_J, min_size=1, max_size=8), st.lists(_J, max_size=8), st.floats(0, 1), st.booleans(),
       st.randoms(use_true_random=False))
def test_tier_rules_properties(critical, other, share, demote, rnd):
    rules = TierRules(min_reported_share=share, noncritical_fail_demotes=demote)
    tier = tier_of(critical, other, rules)
    shuffled = list(critical)
    rnd.shuffle(shuffled)
    assert tier_of(shuffled, other, rules) == tier                      # order of items is irrelevant
    assert (tier == "T3") == ("not_met" in critical)                    # T3 iff a critical item fails
    if tier == "T1":
        assert set(critical) == {"met"}
    if "not_met" not in critical and set(critical) != {"met"}:
        improved = ["met" if j != "not_met" else j for j in critical]   # reporting more never worsens
        order = {"T1": 0, "T2": 1, "TU": 2, "T3": 3}
        assert order[tier_of(improved, other, rules)] <= order[tier]


def test_broken_checklist_file_lists_every_problem(tmp_path):
    import shutil
    pack_dir = tmp_path / "pack"
    shutil.copytree(load_pack("spine").path, pack_dir)
    (pack_dir / "fidelity.toml").write_text('''
[[checklists]]
id = "X1"
families = ["RFN_LUMBAR"]
[[checklists.items]]
field = "a"
kind = "colour"
[[checklists.items]]
field = "b"
kind = "text"
critical = true
[[checklists.items]]
field = "c"
kind = "choice"
allowed = ["x", "y"]
standard = { in = ["z"] }
''')
    with pytest.raises(DataError) as exc:
        load_checklists(pack_dir)
    found = {p.found for p in exc.value.problems}
    assert {"RFN_LUMBAR", "colour", "b", "z"} <= found
    (pack_dir / "fidelity.toml").unlink()
    with pytest.raises(DataError, match="no fidelity checklists"):
        load_checklists(pack_dir)


def test_inclusion_rule_from_the_plan(review, result):
    from dataclasses import replace
    plan = parse_plan({"project": {"name": "x", "pack": "spine"},
                       "outcomes": {"o": {"kind": "binary", "measure": "RR"}},
                       "appraisal": {"fidelity": {"inclusion": "T1_only"}}})
    assert fidelity_subset(replace(review, plan=plan), result).rule == "T1_only"
    assert fidelity_subset(review, result).rule == "exclude_T3"           # default
    bad = parse_plan({"project": {"name": "x", "pack": "spine"},
                      "outcomes": {"o": {"kind": "binary", "measure": "RR"}},
                      "appraisal": {"fidelity": {"inclusion": "T1_onyl", "critical": ["rf_imaging"],
                                                 "noncritical_fail_demotes": "yes"}}})
    with pytest.raises(DataError) as exc:
        rules_from_plan(bad, load_checklists())
    cols = {p.column for p in exc.value.problems}
    assert cols == {"appraisal.fidelity.inclusion", "appraisal.fidelity.critical",
                    "appraisal.fidelity.noncritical_fail_demotes"}
    assert any(p.hint == "did you mean 'T1_only'?" for p in exc.value.problems)


def test_fidelity_sheet_of_a_workbook_project(tmp_path, result):
    import csv
    import shutil

    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for f in sorted(EXAMPLE.glob("*.csv")):
        ws = wb.create_sheet(f.stem)
        with f.open(encoding="utf-8") as fh:
            for row in csv.reader(fh):
                ws.append(row)
    book = tmp_path / "landmark.xlsx"
    wb.save(book)
    shutil.copy(EXAMPLE / "netstrata.toml", tmp_path / "netstrata.toml")
    res = appraise_fidelity(load_review(book))
    assert res.tiers.equals(result.tiers)
