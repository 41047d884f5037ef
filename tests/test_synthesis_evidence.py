"""The plan's [evidence] section (issue 9): which evidence layers each stratum uses.

Undeclared layers are not analysed, their records go to the exclusion register
(``layer_not_declared``) so that records in = analysed + excluded still holds, the primary layer
falls back among declared layers only, and the default (no section) is today's behaviour.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netstrata
from netstrata.errors import DataError
from netstrata.synthesis import analyse_review, run_project
from netstrata.synthesis.evidence import EVIDENCE_LAYERS, EvidencePlan, parse_evidence
from netstrata.synthesis.strata import Stratum

from .test_data_support import copy_example, recode_designs, set_sensitivity

LUMBAR = "lumbar / facet_joint_pain / success"
RELIEF = "cervical / facet_joint_pain / complete_relief"
ALL = ", ".join(EVIDENCE_LAYERS)


def _with_evidence(project, text: str):
    toml = project / "netstrata.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n" + text.strip() + "\n", encoding="utf-8")
    return project


def _nrs_project(tmp_path, sensitivity='node_level = ["family"]\n'):
    """The example with van Wijk 2005 recast as a non-randomised comparative study (a test
    fixture, not a claim about the trial), as in test_synthesis_layers."""
    p = copy_example(tmp_path)
    recode_designs(p, ["van Wijk 2005"], "NRS_comparative")      # with its rob.csv row (RoB 2 is for trials)
    return set_sensitivity(p, "[sensitivity]\n" + sensitivity)


def _run(project, **kw):
    kw = {"progress": False, "workers": 1, "multiverse": False, "optional_stages": False, **kw}
    return analyse_review(netstrata.load_review(project), **kw)


def _undeclared(res):
    reg = res.register.to_frame()
    return reg[reg["reason_code"] == "layer_not_declared"]


def _estimates(stratum_result):
    return {(lay.layer, c.label): c.estimate for lay in stratum_result.layers for c in lay.comparisons}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return _run(copy_example(tmp_path_factory.mktemp("base")))


@pytest.fixture(scope="module")
def nrs_base(tmp_path_factory):
    return _run(_nrs_project(tmp_path_factory.mktemp("nrs")))


# ----------------------------------------------------------------- default: today's behaviour

def test_default_declares_every_layer(base):
    assert all(s.declared == EVIDENCE_LAYERS and not s.excluded for s in (*base.strata, *base.lumped))
    assert len(_undeclared(base)) == 0
    data = json.loads(base.to_json())
    assert all(s["declared_layers"] == list(EVIDENCE_LAYERS) for s in data["strata"])
    assert base.stratum(RELIEF).evidence.startswith("single-arm outcome rates only (no comparative study")


def test_explicit_default_section_changes_nothing(tmp_path, base):
    p = _with_evidence(copy_example(tmp_path), '[evidence]\nlayers = ["single_arm", "randomised", "nonrandomised"]')
    res = _run(p)
    a, b = json.loads(base.to_json()), json.loads(res.to_json())    # JSON: NaN (never equal) as null
    for key in ("strata", "lumped", "exclusion_register", "record_counts", "notes"):
        assert a[key] == b[key], key


# ----------------------------------------------------------------- declared layers applied

def test_only_randomised_puts_single_arm_rows_in_register(tmp_path, base):
    res = _run(_with_evidence(copy_example(tmp_path), '[evidence]\nlayers = ["randomised"]'))
    rows = _undeclared(res)
    assert list(rows["study"]) == ["Govind 2003"] and list(rows["outcome"]) == ["complete_relief"]
    assert list(rows["file"]) == ["outcomes.csv"] and list(rows["arm"]) == ["cohort"]
    assert (rows["stage"] == "analysis").all() and RELIEF in rows["message"].iat[0]
    rc, rc0 = res.record_counts, base.record_counts
    assert rc["unaccounted"] == 0 and rc["analysed"] + rc["excluded"] == rc["records"] == rc0["records"]
    assert (rc["analysed"], rc["excluded"]) == (rc0["analysed"] - 1, rc0["excluded"] + 1)
    relief = res.stratum(RELIEF)
    assert relief.layers == () and relief.primary is None and relief.declared == ("randomised",)
    assert relief.evidence == "no analysable records; layers declared in the plan: randomised"
    assert "all / complete_relief" not in {s.name for s in res.lumped}
    # every other stratum is analysed exactly as before
    for s in base.strata:
        if s.name != RELIEF:
            assert _estimates(res.stratum(s.name)) == _estimates(s), s.name


def test_override_applies_only_to_matching_strata(tmp_path, nrs_base):
    p = _with_evidence(_nrs_project(tmp_path), '[evidence.by_stratum]\n"lumbar / success" = ["nonrandomised"]')
    res = _run(p)
    lum = res.stratum(LUMBAR)
    assert lum.declared == ("nonrandomised",) and [x.layer for x in lum.layers] == ["nonrandomised"]
    # the fallback considers declared layers only: the primary is the non-randomised layer, as fitted before
    assert lum.primary.layer == "nonrandomised" and _estimates(lum) == {
        k: v for k, v in _estimates(nrs_base.stratum(LUMBAR)).items() if k[0] == "nonrandomised"}
    assert "randomised trials not declared for this stratum" in lum.evidence
    assert lum.evidence.endswith("layers declared in the plan: nonrandomised")
    rows = _undeclared(res)
    assert set(rows["study"]) == {"Juch 2017 MINT facet", "van Kleef 1999"} and set(rows["outcome"]) == {"success"}
    # the same trial's pain outcome (stratum lumbar / facet_joint_pain / pain) is not matched
    for s in nrs_base.strata:
        if s.name != LUMBAR:
            r = res.stratum(s.name)
            assert r.declared == EVIDENCE_LAYERS and _estimates(r) == _estimates(s), s.name
    assert "Juch 2017 MINT facet" in res.stratum("lumbar / facet_joint_pain / pain").studies
    # the lumped analysis uses the records its strata declare
    assert not {"van Kleef 1999", "Juch 2017 MINT facet"} & set(res.stratum("all / success").studies)
    rc = res.record_counts
    assert rc["unaccounted"] == 0 and rc["analysed"] + rc["excluded"] == rc["records"]
    assert rc["analysed"] == nrs_base.record_counts["analysed"] - len(rows)


def test_multiverse_specifications_use_declared_layers(tmp_path):
    """design = comparative pools randomised + non-randomised rows; with the non-randomised layer
    undeclared in lumbar, the pooled specification equals the randomised one there."""
    sens = 'design = ["randomised", "comparative"]\n'
    curves = {}
    for name, ev in (("all", ""), ("rct", '[evidence.by_stratum]\n"lumbar" = ["randomised", "single_arm"]')):
        res = _run(_with_evidence(_nrs_project(tmp_path / name, sens), ev), multiverse=True)
        c = res.multiverse.curve
        c = c[c["stratum"] == LUMBAR].set_index(["specification", "comparison"])["estimate"]
        curves[name] = (c.loc[0], c.loc[1])
        if name == "rct":
            assert not any(s.combinations for s in (*res.strata, *res.lumped))
    primary, pooled = curves["rct"]
    assert pooled.to_dict() == pytest.approx(primary.to_dict(), rel=1e-10)
    primary, pooled = curves["all"]        # the test can fail: without the section they differ
    assert pooled.to_dict() != pytest.approx(primary.to_dict(), rel=1e-6)


# ----------------------------------------------------------------- matching rule

CERV_RELIEF = Stratum("complete_relief", (("region", "cervical"), ("diagnosis", "facet_joint_pain")))


@pytest.mark.parametrize(("key", "matches"), [
    ("cervical", True), ("cervical / facet_joint_pain", True), ("facet_joint_pain", True),
    ("complete_relief", True), ("complete_relief / cervical", True), ("cervical/facet_joint_pain", True),
    ("lumbar", False), ("cervical / success", False), ("all", False)])
def test_key_matches_any_subset_of_the_stratum_parts(key, matches):
    plan = parse_evidence({"layers": ["randomised"], "by_stratum": {key: ["single_arm"]}})
    assert plan.layers_for(CERV_RELIEF) == (("single_arm",) if matches else ("randomised",))


def test_most_specific_key_wins():
    plan = parse_evidence({"by_stratum": {"cervical": ["randomised"],
                                          "cervical / complete_relief": ["single_arm"],
                                          "lumbar / complete_relief / facet_joint_pain": ["nonrandomised"]}})
    assert plan.key_for(CERV_RELIEF) == "cervical / complete_relief"
    assert plan.layers_for(CERV_RELIEF) == ("single_arm",)
    assert plan.layers_for(Stratum("success", (("region", "cervical"),))) == ("randomised",)
    assert plan.layers_for(Stratum("success", (("region", "lumbar"),))) == EVIDENCE_LAYERS


def test_lumped_stratum_is_matched_by_all_and_outcome():
    plan = parse_evidence({"by_stratum": {"all / success": ["randomised"], "cervical": ["single_arm"]}})
    assert plan.layers_for(Stratum("success")) == ("randomised",)
    assert plan.layers_for(Stratum("pain")) == EVIDENCE_LAYERS


def test_equally_specific_keys_with_different_layers_are_an_error():
    plan = parse_evidence({"by_stratum": {"cervical": ["randomised"], "complete_relief": ["single_arm"],
                                          "facet_joint_pain": ["single_arm"]}})
    with pytest.raises(DataError, match="evidence.by_stratum") as err:
        plan.layers_for(CERV_RELIEF)
    assert "'cervical'" in str(err.value) and "'complete_relief'" in str(err.value)
    same = parse_evidence({"by_stratum": {"complete_relief": ["single_arm"], "cervical": ["single_arm"]}})
    assert same.layers_for(CERV_RELIEF) == ("single_arm",)


@given(st.lists(st.sampled_from(("cervical", "facet_joint_pain", "complete_relief", "lumbar", "pain")),
                min_size=1, max_size=4, unique=True), st.randoms())
def test_matching_ignores_the_order_of_key_parts(parts, rnd):
    shuffled = list(parts)
    rnd.shuffle(shuffled)
    a = parse_evidence({"by_stratum": {" / ".join(parts): ["randomised"]}})
    b = parse_evidence({"by_stratum": {" / ".join(shuffled): ["randomised"]}})
    expected = set(parts) <= set(CERV_RELIEF.name.split(" / "))
    assert (a.key_for(CERV_RELIEF) is not None) == (b.key_for(CERV_RELIEF) is not None) == expected


# ----------------------------------------------------------------- validation

def test_section_is_parsed_into_a_frozen_setting():
    plan = parse_evidence({"layers": ["single_arm", "randomised"], "by_stratum": {"cervical/success": "randomised"}})
    assert plan == EvidencePlan(("randomised", "single_arm"), (("cervical / success", ("randomised",)),))
    assert parse_evidence(None).is_default and not plan.is_default
    with pytest.raises(AttributeError):
        plan.layers = EVIDENCE_LAYERS


@pytest.mark.parametrize(("section", "expected"), [
    ({"layer": ["randomised"]}, ["evidence.layer", "unknown key", "did you mean 'layers'"]),
    ({"layers": ["randomized"]}, ["evidence.layers", "'randomized'", ALL, "did you mean 'randomised'"]),
    ({"layers": ["randomised", "singlearm"]}, ["'singlearm'", "did you mean 'single_arm'"]),
    ({"layers": "comparative"}, ["'comparative'", ALL, "[sensitivity] design"]),
    ({"layers": []}, ["evidence.layers", "non-empty list"]),
    ({"layers": ["randomised", "randomised"]}, ["evidence.layers", "listed twice"]),
    ({"by_stratum": {"cervical": ["single-arm"]}}, ["evidence.by_stratum.cervical", "'single-arm'", ALL]),
    ({"by_stratum": {"cervical": 3}}, ["evidence.by_stratum.cervical", "non-empty list"]),
    ({"by_stratum": {"a / b": ["randomised"], "b/a": ["single_arm"]}}, ["evidence.by_stratum.b/a", "twice"]),
    ({"by_stratum": {"cervical // success": ["randomised"]}}, ["empty part"]),
    ({"by_stratum": ["cervical"]}, ["evidence.by_stratum", "expected a table"]),
])
def test_bad_section_is_a_data_error(section, expected):
    with pytest.raises(DataError) as err:
        parse_evidence(section)
    for text in expected:
        assert text in str(err.value), text


def test_every_problem_is_reported_together():
    with pytest.raises(DataError) as err:
        parse_evidence({"layer": [], "layers": ["rct"], "by_stratum": {"x": ["nrs"]}})
    assert len(err.value.problems) == 3


def test_bad_section_in_the_plan_stops_the_run(tmp_path):
    p = _with_evidence(copy_example(tmp_path), '[evidence]\nlayers = ["randomized"]')
    review = netstrata.load_review(p)          # the data layer passes the section through
    assert review.plan.sections["evidence"]["layers"] == ["randomized"]
    with pytest.raises(DataError, match="evidence.layers"):
        analyse_review(review, progress=False, workers=1, multiverse=False, optional_stages=False)


def test_key_matching_no_stratum_stops_the_run_as_validate_does(tmp_path):
    """Issue 14: a key matching no stratum (a typo) is a problem at validate and at run, not a note."""
    from netstrata.synthesis.validation import validate_project
    p = _with_evidence(copy_example(tmp_path), '[evidence.by_stratum]\n"cervicla" = ["randomised"]')
    with pytest.raises(DataError, match="matches no stratum") as err:
        _run(p)
    (prob,) = err.value.problems
    assert (prob.file, prob.column, prob.found) == ("netstrata.toml", "evidence.by_stratum.cervicla", "cervicla")
    assert prob.hint == "did you mean 'cervical'?"
    assert validate_project(p).problems == err.value.problems


# ----------------------------------------------------------------- outputs

def test_results_json_is_deterministic(tmp_path):
    p = _with_evidence(set_sensitivity(copy_example(tmp_path), '[sensitivity]\nnode_level = ["family", "technique"]'),
                       '[evidence]\nlayers = ["randomised", "nonrandomised"]\n'
                       '[evidence.by_stratum]\n"sacral" = ["randomised", "single_arm"]')
    outs = [run_project(p, out_dir=tmp_path / name, quiet=True, workers=1, tables=True) for name in ("a", "b")]
    texts = [o.json_path.read_bytes() for o in outs]
    assert texts[0] == texts[1]
    data = json.loads(texts[0])
    declared = {s["name"]: s["declared_layers"] for s in data["strata"]}
    assert declared[RELIEF] == ["randomised", "nonrandomised"]
    assert declared["sacral / SIJ_pain / success"] == ["randomised", "single_arm"]
    reasons = [r for r in data["exclusion_register"] if r["reason_code"] == "layer_not_declared"]
    assert [r["study"] for r in reasons] == ["Govind 2003"]
    assert data["record_counts"]["unaccounted"] == 0
    strata_csv = (outs[0].tables_dir / "strata.csv").read_text(encoding="utf-8")
    assert "declared_layers" in strata_csv.splitlines()[0]
