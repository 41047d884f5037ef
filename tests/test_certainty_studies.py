"""Study-level inputs of the certainty layer: indirectness derived by the rule table, RoB levels."""
from __future__ import annotations

import pandas as pd
import pytest

from netstrata.appraisal import robins_i
from netstrata.certainty import (DEFAULT_INDIRECTNESS_RULES, IndirectnessRule, derive_indirectness,
                                 fidelity_by_study, study_levels)
from netstrata.certainty.studies import transitivity_flags
from netstrata.errors import DataError, ParameterError

TARGET = {"region": "lumbar", "diagnosis": "facet_joint_pain", "selection_block_type": ["MBB"]}


def studies() -> pd.DataFrame:
    return pd.DataFrame({
        "study": ["match", "cervical", "no_region", "ia_blocks", "t3", "tu", "t2", "flagged", "two_hits"],
        "region": ["lumbar", "cervical", "NR", "lumbar", "lumbar", "lumbar", "lumbar", "lumbar", "cervical"],
        "diagnosis": ["facet_joint_pain"] * 9,
        "selection_block_type": ["MBB", "MBB", "MBB", "IA_facet", "MBB", "MBB", "MBB", "MBB", "IA_facet"],
        "fidelity_tier": ["T1_standard_conforming", "T1", "T1", "T1", "T3_nonconforming",
                          "TU_insufficient_reporting", "T2_partially_conforming", "T1", "T3"],
        "transitivity_flag": [False, False, False, False, False, False, False, True, False],
    })


@pytest.mark.parametrize("study, level", [("match", 1), ("cervical", 3), ("no_region", 2), ("ia_blocks", 2),
                                          ("t3", 3), ("tu", 2), ("t2", 2), ("flagged", 2), ("two_hits", 3)])
def test_derive_indirectness_levels(study, level):
    out = derive_indirectness(studies(), TARGET).set_index("study")
    assert out.loc[study, "level"] == level
    assert out.loc[study, "derived_level"] == level
    assert (out.loc[study, "reasons"] == "") == (level == 1)


def test_derive_indirectness_records_every_matching_rule():
    out = derive_indirectness(studies(), TARGET).set_index("study")
    reasons = out.loc["two_hits", "reasons"]
    assert "spinal region differs" in reasons and "block type differs" in reasons and "T3" in reasons


def test_derive_indirectness_skips_fields_the_target_does_not_name():
    out = derive_indirectness(studies(), {"diagnosis": "facet_joint_pain"}).set_index("study")
    assert out.loc["cervical", "level"] == 1           # region not part of this question
    assert out.loc["no_region", "level"] == 2          # but unreported region still counts


def test_derive_indirectness_override_recorded():
    out = derive_indirectness(studies(), TARGET, overrides={"cervical": ("L", "C-spine study, same mechanism")})
    row = out.set_index("study").loc["cervical"]
    assert (row["level"], row["derived_level"]) == (1, 3)
    assert row["override_reason"] == "C-spine study, same mechanism"
    with pytest.raises(ParameterError, match="non-empty reason"):
        derive_indirectness(studies(), TARGET, overrides={"cervical": (1, "")})
    with pytest.raises(ParameterError, match="unknown studies"):
        derive_indirectness(studies(), TARGET, overrides={"nobody": (1, "x")})


def test_derive_indirectness_custom_table():
    rules = (IndirectnessRule("region", "differs", 2, "other region: some concerns only"),)
    out = derive_indirectness(studies(), TARGET, rules=rules).set_index("study")
    assert out.loc["cervical", "level"] == 2 and out.loc["t3", "level"] == 1
    with pytest.raises(ParameterError, match="IndirectnessRule"):
        derive_indirectness(studies(), TARGET, rules=[IndirectnessRule("region", "bigger", 2, "x")])


def test_derive_indirectness_duplicate_study_is_a_data_error():
    s = pd.concat([studies(), studies().iloc[:1]])
    with pytest.raises(DataError, match="more than once"):
        derive_indirectness(s, TARGET)


def test_default_rules_are_data():
    assert all(isinstance(r, IndirectnessRule) for r in DEFAULT_INDIRECTNESS_RULES)
    assert {r.field for r in DEFAULT_INDIRECTNESS_RULES} >= {"region", "diagnosis", "fidelity_tier"}


def test_study_levels_from_tables_and_records():
    assert study_levels({"a": "L", "b": 3}).to_dict() == {"a": 1, "b": 3}
    table = derive_indirectness(studies(), TARGET)
    assert study_levels(table, name="indirectness")["cervical"] == 3
    rec = robins_i("nrs", {f"D{i}": "Low" for i in range(1, 8)} | {"D1": "Serious"})
    assert study_levels([rec]).to_dict() == {"nrs": 3}
    with pytest.raises(DataError, match="two rob levels"):
        study_levels(pd.DataFrame({"study": ["a", "a"], "level": [1, 2]}))


def test_fidelity_by_study_worst_tier():
    arms = pd.DataFrame({"study": ["s1", "s1", "s2", "s2", "s3"],
                         "fidelity_tier": ["T1_standard_conforming", "T3_nonconforming", "T2", None, None]})
    out = fidelity_by_study(arms)
    assert out.to_dict() == {"s1": "T3_nonconforming", "s2": "T2", "s3": "NR"}


def test_transitivity_flags_to_study_levels():
    flagged = pd.DataFrame({"comparison": ["A:B", "A:B", "B:C"], "modifier": ["region", "diagnosis", "duration"]})
    contrasts = pd.DataFrame({"study": ["s1", "s2", "s3", "s3"], "treat1": ["B", "A", "C", "A"],
                              "treat2": ["A", "C", "B", "B"]})
    flags = transitivity_flags(flagged, contrasts)
    assert flags.to_dict() == {"s1": "A:B: region, diagnosis", "s2": "",
                               "s3": "B:C: duration; A:B: region, diagnosis"}
    table = pd.DataFrame({"study": ["s1", "s2", "s3"]}).merge(flags.rename_axis("study").reset_index())
    out = derive_indirectness(table, {}).set_index("study")
    assert out["level"].to_dict() == {"s1": 2, "s2": 1, "s3": 2}
    assert "region, diagnosis" in out.loc["s1", "reasons"]

    class Result:                              # duck type of synthesis.transitivity.TransitivityResult
        pass
    r = Result()
    r.flagged = flagged
    assert transitivity_flags(r, contrasts).equals(flags)
    with pytest.raises(ParameterError, match="'comparison' and 'modifier'"):
        transitivity_flags(pd.DataFrame({"x": [1]}), contrasts)


def test_derive_indirectness_on_bundled_example_with_fidelity_appraisal():
    """Example project (real published trials): population frame from studies.csv, tiers from the
    fidelity appraisal; target = lumbar facet joint pain."""
    import warnings

    from netstrata.appraisal.fidelity import appraise_fidelity
    from netstrata.data import example_path, load_review

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        review = load_review(example_path())
        fidelity = appraise_fidelity(review)
    tiers = fidelity_by_study(fidelity.arms, tier="tier")
    assert tiers.to_dict() == fidelity.study_tiers().set_index("study")["tier"].to_dict()
    studies = pd.read_csv(example_path() / "studies.csv", dtype=str, keep_default_na=False)
    studies = studies.merge(tiers.rename_axis("study").reset_index(), on="study", how="left")
    out = derive_indirectness(studies, {"region": "lumbar", "diagnosis": "facet_joint_pain"}).set_index("study")
    expected = {"Lord 1996": 3, "van Kleef 1999": 2, "van Wijk 2005": 2, "Cohen 2008": 3,
                "Shanthanna 2014": 3, "Juch 2017 MINT facet": 2}
    assert {s: out.loc[s, "level"] for s in expected} == expected
    assert "whiplash_cervical_facet" in out.loc["Lord 1996", "reasons"]
    assert "fidelity TU" in out.loc["van Kleef 1999", "reasons"]


def test_study_levels_from_rob_records_per_result():
    from netstrata.appraisal import jbi_case_series, rob2

    low = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.3": "N", "2.4": "NA", "2.5": "NA",
           "2.6": "Y", "3.1": "Y", "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}
    recs = [rob2("t1", low, result="pain"), rob2("t1", low | {"1.1": "N", "1.2": "N"}, result="function"),
            jbi_case_series("cs", {str(i): "Yes" for i in range(1, 11)}, decision="include", reason="ok")]
    assert (recs[0].overall, recs[1].overall) == ("Low", "High")
    assert study_levels(recs, result="pain").to_dict() == {"t1": 1}
    assert study_levels(recs, result="function").to_dict() == {"t1": 3}
    with pytest.raises(DataError, match="pass result"):
        study_levels(recs)
    frame = pd.DataFrame({"study": ["t1", "t1", "cs"], "result": ["pain", "function", ""],
                          "tool": ["RoB 2", "RoB 2", "JBI case series"], "overall": ["Low", "High", "include"]})
    assert study_levels(frame, result="function").to_dict() == {"t1": 3}
