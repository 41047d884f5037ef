"""Stratified versus lumped per comparison (synthesis.contrast_strata), the plan's [panel] and
[report] baseline_risk, extraction disagreements resolved against an adjudication log, labels.

Reference values: the study results are closed forms (log RR of 2x2 tables, metafor ``escalc``
parity is tested elsewhere); the subgroup machinery is ``netstrata.ma.subgroups`` (metafor
parity in test_ma_subgroups); Q between is recomputed here from its formula.
"""
from __future__ import annotations

import math
import shutil
import warnings
from importlib import resources

import numpy as np
import pytest

from netstrata.errors import DataError

EXAMPLE = resources.files("netstrata").joinpath("examples", "spine-landmark")


def _run(path=EXAMPLE, **kw):
    from netstrata.data import load_review
    from netstrata.synthesis.pipeline import analyse_review
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(load_review(path), multiverse=False, progress=False, **kw)


@pytest.fixture(scope="module")
def result():
    return _run()


def _log_rr(a, n1, c, n2):
    """log RR and its variance (Handbook 6.4.1): 1/a - 1/n1 + 1/c - 1/n2."""
    return math.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2


def test_facet_rf_vs_sham_stratified_and_lumped(result):
    from netstrata.ma import pairwise
    c = next(c for c in result.contrasts if (c.outcome, c.treat1, c.treat2) == ("success", "RFN_FACET", "sham_procedure"))
    lord, kleef, wijk = _log_rr(7, 12, 1, 12), _log_rr(10, 15, 6, 16), _log_rr(11, 40, 12, 41)
    rows = {s.study: s for s in c.studies}
    for name, (y, v) in (("Lord 1996", lord), ("van Kleef 1999", kleef), ("van Wijk 2005", wijk)):
        assert rows[name].effect == pytest.approx(y, rel=1e-10) and rows[name].se == pytest.approx(math.sqrt(v), rel=1e-10)
    assert rows["Lord 1996"].values == (("region", "cervical"), ("diagnosis", "whiplash_cervical_facet"))
    cerv, lumb = c.by_stratum.diamonds
    assert cerv.group == "cervical / whiplash_cervical_facet / success" and cerv.k == 1
    assert cerv.estimate == pytest.approx(math.log(7), rel=1e-10)
    fit = pairwise([kleef[0], wijk[0]], [kleef[1], wijk[1]], method="REML")
    assert (lumb.estimate, lumb.ci_low, lumb.ci_high) == pytest.approx((fit.estimate, fit.ci_low, fit.ci_high), rel=1e-10)
    # Q between (separate tau2): sum w_g (theta_g - weighted mean)^2 with w_g = 1/se_g^2
    est = np.array([cerv.estimate, lumb.estimate])
    w = 1 / np.array([cerv.se, lumb.se]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    t = c.by_stratum
    assert t.q_between == pytest.approx(q, rel=1e-10) and t.df == 1
    assert t.pvalue == pytest.approx(math.erfc(math.sqrt(q / 2)), rel=1e-10)     # chi-square, 1 df
    assert t.i2_between == pytest.approx(100 * (q - 1) / q, rel=1e-10)
    everything = pairwise([lord[0], kleef[0], wijk[0]], [lord[1], kleef[1], wijk[1]], method="REML")
    assert c.lumped.estimate == pytest.approx(everything.estimate, rel=1e-10) and c.lumped.k == 3
    net = next(x for x in result.lumped[0].primary.comparisons if (x.treat1, x.treat2) == ("RFN_FACET", "sham_procedure"))
    assert c.lumped_network.estimate == net.estimate
    # technique and fidelity tier differ between the three trials: both groupings are shown
    assert c.by_technique is not None and c.by_fidelity is not None
    assert {d.group for d in c.by_fidelity.diamonds} == {"T2", "TU"}
    assert sum(s.weight for s in c.studies if s.stratum == lumb.group) == pytest.approx(100.0)


def test_i2_between_formula():
    from netstrata.synthesis.contrast_strata import i2_between
    assert i2_between(4.0, 1) == pytest.approx(75.0) and i2_between(0.5, 1) == 0.0
    assert math.isnan(i2_between(float("nan"), 1))


def test_one_stratum_has_no_test(result):
    c = next(c for c in result.contrasts if c.treat1 == "PRF_DRG")
    assert c.n_strata == 1 and not c.by_stratum.testable and math.isnan(c.by_stratum.q_between)


def test_no_stratification_no_contrasts(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(str(EXAMPLE), project)
    toml = project / "netstrata.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('variables = ["region", "diagnosis"]', "variables = []"),
                    encoding="utf-8")
    assert _run(project).contrasts == ()


def test_contrasts_in_results_json(result):
    import json
    d = json.loads(result.to_json())
    assert len(d["stratified_vs_lumped"]) == len(result.contrasts) == d["counts"]["contrasts"]
    first = next(x for x in d["stratified_vs_lumped"] if x["treat1"] == "RFN_FACET" and x["outcome"] == "success"
                 and x["treat2"] == "sham_procedure")
    assert first["studies"][0]["values"] == {"diagnosis": "whiplash_cervical_facet", "region": "cervical"}


# ----------------------------------------------------------------- labels
def test_glossary_labels_from_the_pack(result):
    g = result.glossary
    assert g["treatments"]["RFN_FACET"]["short"] == "Facet radiofrequency neurotomy"
    assert g["treatments"]["sham_procedure"]["short"] == "Sham procedure"
    assert g["strata"]["cervical / whiplash_cervical_facet / success"]["label"] == (
        "Cervical \u00b7 Cervical facet pain after whiplash \u00b7 Treatment success")
    assert g["checklists"]["C1"]["label"] == "Lumbar medial branch RF neurotomy"
    assert g["items"]["rf_imaging"]["label"]


# ----------------------------------------------------------------- panel
def _with_plan(tmp_path, extra: str):
    project = tmp_path / "p"
    shutil.copytree(str(EXAMPLE), project)
    toml = project / "netstrata.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n" + extra + "\n", encoding="utf-8")
    return project


def test_panel_parsed_and_missing_role_noted(tmp_path):
    project = _with_plan(tmp_path, '[[panel.members]]\nname = "A. Methods"\nrole = "methodologist"\n'
                                   'conflicts = "none declared"\n[[panel.members]]\nname = "B. Patient"\n'
                                   'role = "patient_partner"\nconflicts = "none declared"\n')
    res = _run(project)
    assert [m.role for m in res.panel.members] == ["methodologist", "patient_partner"]
    assert res.panel.missing_roles == ("clinician_performing",)
    from netstrata.present import render_report
    from netstrata.present.build import build_context
    html = render_report(build_context(res))
    assert "No member has the declared role &#39;Clinician who performs the procedure&#39;." in html
    assert "B. Patient" in html and "Patient partner" in html


@pytest.mark.parametrize("extra, column, found", [
    ('[[panel.members]]\nname = "X"\nrole = "methodolgist"\nconflicts = "none"', "panel.members[1].role", "methodolgist"),
    ('[[panel.members]]\nname = "X"\nrole = "methodologist"', "panel.members[1].conflicts", None),
    ('[panel]\nrole = ["methodologist"]', "panel.role", "role"),
])
def test_panel_errors_name_the_key(tmp_path, extra, column, found):
    project = _with_plan(tmp_path, extra)
    with pytest.raises(DataError) as err:
        _run(project)
    text = str(err.value)
    assert "netstrata.toml" in text and column in text
    if found:
        assert found in text


def test_baseline_risk_validated(tmp_path):
    project = _with_plan(tmp_path, "[report]\nbaseline_risk = { succes = 0.3, pain = 1.5 }")
    with pytest.raises(DataError) as err:
        _run(project)
    text = str(err.value)
    assert "report.baseline_risk.succes" in text and "did you mean 'success'" in text
    assert "report.baseline_risk.pain" in text and "between 0 and 1" in text


# ----------------------------------------------------------------- disagreements
def test_disagreement_decided_in_the_adjudication_log(tmp_path):
    from netstrata.appraisal.adjudication import AdjudicationLog
    from netstrata.synthesis.disagreements import LOG_NAME
    project = tmp_path / "p"
    shutil.copytree(str(EXAMPLE), project)
    log = AdjudicationLog.create(project / LOG_NAME)
    log.record(table="outcomes", study="van Kleef 1999", arm="sham", outcome="success", timepoint="8",
               column="events", value="6", who="C (third reviewer)", why="abstract: 6/16")
    res = _run(project)
    d = next(x for x in res.disagreements if x.study == "van Kleef 1999")
    assert d.decided_by == "C (third reviewer)" and "abstract: 6/16" in d.decision_note
    assert (d.used, d.other_value, d.tested, d.changes_estimate) == ("6", "7", True, True)
    lord = next(x for x in res.disagreements if x.column == "selection_control")
    assert lord.decided_by == "not adjudicated" and lord.tested and not lord.changes_estimate
