"""Strata, evidence layers, the exclusion register and ProjectResult on the bundled example."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import netstrata
from netstrata.errors import DataError
from netstrata.synthesis import analyse_review
from netstrata.synthesis.choices import Choices
from netstrata.synthesis.config import parse_models, parse_sensitivity
from netstrata.synthesis.records import _combine, _orient, prepare

from .test_data_support import (
    EXAMPLE,
    copy_example,
    find_row,
    read_rows,
    recode_designs,
    set_cell,
    write_rows,
)

Z = norm.ppf(0.975)


@pytest.fixture(scope="module")
def review():
    return netstrata.load_review(EXAMPLE)


@pytest.fixture(scope="module")
def result(review):
    return analyse_review(review, multiverse=False, optional_stages=False)


def _names(res, outcome):
    return [s.name for s in res.strata if s.stratum.outcome == outcome]


def test_example_region_split_gives_separate_cervical_lumbar_sij_results(result):
    names = _names(result, "success")
    assert names == ["cervical / whiplash_cervical_facet / success", "lumbar / facet_joint_pain / success",
                     "sacral / SIJ_pain / success"]
    lumbar = result.stratum("lumbar / facet_joint_pain / success")
    assert set(lumbar.studies) == {"van Kleef 1999", "van Wijk 2005", "Juch 2017 MINT facet"}
    assert lumbar.primary.status == "network" and lumbar.primary.network is not None


def test_lord1996_one_study_stratum_reports_its_study_result(result):
    # closed form (meta's RR): log(7/12 / 1/12), se = sqrt(1/7 - 1/12 + 1/1 - 1/12)
    s = result.stratum("cervical / whiplash_cervical_facet / success")
    assert s.primary.status == "single_study" and s.primary.network is None
    (c,) = s.comparisons
    se = math.sqrt(1 / 7 - 1 / 12 + 1 - 1 / 12)
    assert (c.treat1, c.treat2, c.source, c.k, c.studies) == ("RFN_FACET", "sham_procedure", "study", 1, ("Lord 1996",))
    np.testing.assert_allclose([c.estimate, c.se, c.ci_low, c.ci_high],
                               [math.log(7), se, math.log(7) - Z * se, math.log(7) + Z * se], rtol=1e-10)


def test_lumbar_direct_comparison_equals_pairwise(review, result):
    lumbar = result.stratum("lumbar / facet_joint_pain / success")
    c = next(x for x in lumbar.comparisons if x.treat2 == "sham_procedure")
    con = prepare(review).contrasts
    rows = con[con["study"].isin(["van Kleef 1999", "van Wijk 2005"])]
    ref = netstrata.pairwise(rows["effect"], rows["se"] ** 2, method="REML")
    assert c.k == 2 and c.source == "network"
    np.testing.assert_allclose([c.direct_estimate, c.direct_ci_low, c.tau2], [ref.estimate, ref.ci_low, ref.tau2],
                               rtol=1e-10)
    net = lumbar.primary.network
    assert c.estimate == pytest.approx(float(net.league("random").loc["RFN_FACET", "sham_procedure"]), rel=1e-12)


def test_lumped_analysis_pools_every_region(result):
    lumped = {s.name: s for s in result.lumped}
    assert set(lumped) == {"all / success", "all / pain", "all / complete_relief"}
    assert len(lumped["all / success"].studies) == 5
    split_studies = {st for s in result.strata if s.stratum.outcome == "success" for st in s.studies}
    assert split_studies == set(lumped["all / success"].studies)


def test_single_arm_rate_layer(result):
    s = result.stratum("all / complete_relief")
    assert s.primary.layer == "single_arm" and "single-arm" in s.evidence
    (r,) = s.primary.rates
    assert r.proportion == pytest.approx(43 / 49, rel=1e-10) and r.k == 1 and r.studies == ("Govind 2003",)


def test_rows_in_equal_rows_analysed_plus_rows_excluded(review, result):
    rc = result.record_counts
    n_in = len(review.outcomes) + len(review.table("contrasts"))
    assert rc["records"] == n_in == 32
    assert rc["unaccounted"] == 0 and rc["analysed"] + rc["excluded"] == n_in
    assert rc["analysed"] == 15


def test_register_names_every_record_not_analysed(review):
    prep = prepare(review)
    reg = {(r.file.removesuffix(".csv"), r.row) for r in prep.exclusions if r.row is not None}
    missing = [k for k in prep.records if k not in prep.analysed and k not in reg]
    assert missing == []
    assert not (prep.analysed & reg)


def test_fallback_to_nonrandomised_layer_labelled(tmp_path):
    project = copy_example(tmp_path)
    recode_designs(project, ["Lord 1996"], "NRS_comparative")     # with its rob.csv row (RoB 2 is for trials)
    res = analyse_review(netstrata.load_review(project), multiverse=False, optional_stages=False)
    cerv = res.stratum("cervical / whiplash_cervical_facet / success")
    assert cerv.primary.layer == "nonrandomised" and "no randomised trial" in cerv.evidence
    lumped = res.stratum("all / success")
    assert [x.layer for x in lumped.layers] == ["randomised", "nonrandomised"]
    assert "Lord 1996" not in lumped.layer("randomised").studies      # never pooled silently
    assert lumped.layer("nonrandomised").studies == ("Lord 1996",)


def test_comparative_design_pools_layers_only_when_chosen(tmp_path):
    project = copy_example(tmp_path)
    set_cell(project, "studies", find_row(project, "studies", study="Lord 1996"), "design", "NRS_comparative")
    review = netstrata.load_review(project)
    assert set(prepare(review).contrasts["layer"]) == {"randomised", "nonrandomised"}
    assert set(prepare(review, Choices(design="comparative")).contrasts["layer"]) == {"comparative"}


def test_sensitivity_filter_goes_to_register(review):
    prep = prepare(review, Choices(selection="selection_reporting=explicit"))
    codes = {r.study for r in prep.exclusions if r.reason_code == "sensitivity_filter"}
    assert "van Kleef 1999" in codes and "Lord 1996" not in codes
    assert "van Kleef 1999" not in set(prep.contrasts["study"])


def test_unknown_stratification_variable_is_a_data_error(tmp_path):
    project = copy_example(tmp_path)
    toml = project / "netstrata.toml"
    toml.write_text(toml.read_text().replace('variables = ["region", "diagnosis"]',
                                             'variables = ["regoin"]'))
    with pytest.raises(DataError, match="regoin"):
        analyse_review(netstrata.load_review(project), multiverse=False)


@pytest.mark.parametrize("section, text", [
    ({"node_levl": ["family"]}, "node_level"),
    ({"design": ["comparative", "randomised"]}, "randomised-only"),
    ({"selection": ["any", "selection_reporting"]}, "filter not understood"),
    ({"time_window": ["plan", "about 3 months"]}, "time-window"),
    ({"max_specifications": 0}, "positive integer"),
])
def test_sensitivity_section_errors(section, text):
    with pytest.raises(DataError, match=text):
        parse_sensitivity(section)


def test_models_section_errors():
    with pytest.raises(DataError, match="network"):
        parse_models({"network": "PM"})
    assert parse_models({"pairwise": "DL", "level": 0.9}).level == 0.9


def test_combine_arms_equals_pooled_raw_sample():
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(2, 1, 12), rng.normal(3, 2, 20), rng.normal(1, 1.5, 7)
    g = pd.DataFrame({"mean": [x.mean() for x in (a, b, c)], "sd": [x.std(ddof=1) for x in (a, b, c)],
                      "n": [x.size for x in (a, b, c)]})
    out = _combine(g, "continuous")
    allx = np.concatenate([a, b, c])
    np.testing.assert_allclose([out["mean"], out["sd"], out["n"]], [allx.mean(), allx.std(ddof=1), allx.size],
                               rtol=1e-12)
    assert _combine(pd.DataFrame({"events": [3, 4], "n": [10, 12]}), "binary") == {"events": 7.0, "n": 22.0}


def test_orientation_active_first_negates_effect():
    f = pd.DataFrame({"treat1": ["sham", "B", "A"], "treat2": ["A", "A", "B"], "effect": [0.5, 0.2, -0.1]})
    out = _orient(f, {"A": "active", "B": "active", "sham": "control"})
    assert list(out["treat1"]) == ["A", "A", "A"] and list(out["effect"]) == [-0.5, -0.2, -0.1]


def test_project_result_json_conventions(result):
    text = result.to_json()
    assert "NaN" not in text and "Infinity" not in text and text.endswith("\n")
    data = json.loads(text)
    assert list(data) == sorted(data)
    cerv = next(s for s in data["strata"] if s["name"].startswith("cervical / whiplash"))
    comp = cerv["layers"][0]["comparisons"][0]
    obj = result.stratum(cerv["name"]).comparisons[0]
    assert comp["tau2"] is None and comp["estimate"] == obj.estimate and comp["se"] == obj.se  # repr: exact
    assert data["created"] is None and data["record_counts"]["unaccounted"] == 0
    frames = result.to_frames()
    assert {"strata", "comparisons", "rates", "register"} <= set(frames)
    assert len(frames["register"]) == len(result.register)


def test_single_arm_latest_time_point_without_rule(tmp_path):
    # complete_relief has no time-window rule: a second Govind 2003 row at 52 weeks is the one used
    project = copy_example(tmp_path)
    path = project / "outcomes.csv"
    rows = read_rows(path)
    head, i = rows[0], find_row(project, "outcomes", study="Govind 2003") - 1
    rows[i][head.index("timepoint_weeks")] = "13"
    extra = list(rows[i])
    extra[head.index("timepoint_weeks")], extra[head.index("events")] = "52", "40"
    write_rows(path, rows + [extra])
    review = netstrata.load_review(project)
    res = analyse_review(review, multiverse=False, optional_stages=False)
    (r,) = res.stratum("all / complete_relief").primary.rates
    assert (r.events, r.n, r.k) == (40.0, 49.0, 1)
    assert res.record_counts["unaccounted"] == 0 and res.record_counts["records"] == 33
    row13 = [x for x in res.register.rows if x.study == "Govind 2003"]
    assert len(row13) == 1 and row13[0].reason_code == "time_point_not_selected" and row13[0].timepoint_weeks == 13


def test_fidelity_tier_filter_leaves_out_studies_with_lower_tiers(review):
    from netstrata.synthesis.filters import arms_with_fidelity
    arms = arms_with_fidelity(review)
    active = arms[arms["family"].notna()]
    bad = set(active.loc[~active["fidelity_tier"].isin(["T1", "T2", "NA"]), "study"])
    prep = prepare(review, Choices(fidelity="fidelity_tier=T1|T2"))
    out = {r.study for r in prep.exclusions if r.reason_code == "sensitivity_filter"}
    analysed_before = set(prepare(review).contrasts["study"]) | set(prepare(review).rates["study"])
    assert out == bad & analysed_before and out
    assert not (set(prep.contrasts["study"]) & bad)


def test_mixed_duration_study_excluded_then_included(tmp_path):
    # van Wijk 2005 listed in exclusions.csv only for a mixed-duration population
    project = copy_example(tmp_path)
    path = project / "exclusions.csv"
    rows = read_rows(path)
    rows.append(["van Wijk 2005", "mixed_duration_population", "constructed for this test", "", ""])
    write_rows(path, rows)
    review = netstrata.load_review(project)
    res = analyse_review(review, multiverse=False, optional_stages=False)
    assert "van Wijk 2005" not in res.stratum("all / success").studies
    rc = res.record_counts
    assert rc["unaccounted"] == 0 and rc["analysed"] == 13 and rc["analysed"] + rc["excluded"] == rc["records"]
    inc = prepare(review, Choices(mixed_duration="include"))
    assert "van Wijk 2005" in set(inc.contrasts["study"])
    assert not [r for r in inc.exclusions if r.study == "van Wijk 2005"]
