"""[models] classes / threshold in a project: plan validation, results.json, tables and the report.

The simulated example is analysed at the "technique" node level with class models over the
"family" level (techniques nested in procedure families; sham subtypes in the sham class).
"""
from __future__ import annotations

from dataclasses import replace

import json
import shutil
import warnings

import numpy as np
import pytest

import netstrata
from netstrata.data import example_path
from netstrata.errors import DataError
from netstrata.present import render_report
from netstrata.present.build import build_context
from netstrata.synthesis import analyse_review
from netstrata.synthesis.classes_stage import ThresholdPlan, check_plan
from netstrata.synthesis.config import parse_models

PLAN_EXTRA = '''
[models]
classes = "family"
threshold = { level = "study", decision = "best" }

[[known_trials]]
study = "Sim 0018"
note = "named in a letter"
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    dest = tmp_path_factory.mktemp("classes") / "project"
    shutil.copytree(example_path("simulated-spine"), dest)
    plan = (dest / "netstrata.toml").read_text()
    plan = plan[:plan.index("[sensitivity]")].replace('level = "family"', 'level = "technique"')
    (dest / "netstrata.toml").write_text(plan + PLAN_EXTRA)
    return dest


@pytest.fixture(scope="module")
def result(project):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(netstrata.load_review(project), multiverse=False, optional_stages=False,
                              progress=False)


def test_plan_keys_are_parsed():
    s = parse_models({"classes": "family", "threshold": True})
    assert s.classes == "family" and s.threshold == ThresholdPlan()
    s = parse_models({"threshold": {"level": "contrast", "decision": "mid", "model": "common"}})
    assert s.threshold == ThresholdPlan("contrast", "mid", "common") and s.classes is None
    assert parse_models({"threshold": False}).threshold is None


def test_bad_plan_keys_name_file_key_found_expected():
    with pytest.raises(DataError) as err:
        parse_models({"classes": 3, "threshold": {"level": "arm", "decison": "mid"}})
    text = str(err.value)
    assert "netstrata.toml" in text and "models.classes" in text and "found 3" in text
    assert "models.threshold.level" in text and "found 'arm'" in text and "study, contrast" in text
    assert "models.threshold.decison" in text and "did you mean 'decision'" in text
    with pytest.raises(DataError, match="expected true, false or a table"):
        parse_models({"threshold": "yes"})


def test_plan_checks_against_pack_and_outcomes(project):
    review = netstrata.load_review(project)
    with pytest.raises(DataError, match="unknown node level.*'famly'.*did you mean 'family'"):
        check_plan(parse_models({"classes": "famly"}), review.plan, review.pack)
    no_mid = replace(review.plan, outcomes=tuple(replace(o, mid=None) if o.id == "success" else o
                                                 for o in review.plan.outcomes))
    with pytest.raises(DataError, match="outcome 'success' has none"):
        check_plan(parse_models({"threshold": {"decision": "mid"}}), no_mid, review.pack)
    check_plan(parse_models({"classes": "family", "threshold": True}), review.plan, review.pack)


def test_class_models_per_stratum(result):
    assert result.settings.classes == "family"
    assert result.class_models, result.notes
    for name, entry in result.class_models.items():
        assert set(entry["classes"]) >= {entry["reference"]}
        models = [m["model"] for m in entry["comparison"]["models"]]
        assert models == ["independent", "exchangeable", "common"]
        ll = {m["model"]: m["loglik"] for m in entry["comparison"]["models"]}
        assert ll["exchangeable"] >= ll["common"] - 1e-9
        # the independent model is the stratum's network (REML)
        assert entry["method"] == "REML"


def test_class_models_independent_equals_the_stratum_network(result):
    name = next(iter(result.class_models))
    net = result.stratum(name).primary.network
    refit = netstrata.network(net.rows, method="REML", reference=net.reference)
    fit = netstrata.class_network(net, result.class_models[name]["classes"], model="independent",
                                  reference=net.reference)
    np.testing.assert_allclose(fit.league("random"), refit.league("random"), rtol=1e-10, atol=1e-10)


def test_thresholds_per_stratum_flag_known_trials(result):
    assert result.threshold
    flagged = [r for e in result.threshold.values() for r in e["thresholds"] if r["known_trial"]]
    assert flagged and all(r["study"] == "Sim 0018" for r in flagged)
    for entry in result.threshold.values():
        assert entry["level"] == "study" and entry["optimal"]


def test_results_json_is_deterministic_and_has_the_new_sections(project, result):
    text = result.to_json()
    data = json.loads(text)
    assert set(data["class_models"]) == set(result.class_models)
    assert set(data["threshold"]) == set(result.threshold)
    assert data["settings"]["classes"] == "family"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = analyse_review(netstrata.load_review(project), multiverse=False, optional_stages=False,
                               progress=False)
    assert again.to_json() == text
    frames = result.to_frames()
    assert {"class_models", "thresholds"} <= set(frames)
    assert frames["thresholds"]["known_trial"].any()


def test_report_shows_class_tables_and_threshold_plots(result):
    ctx = build_context(json.loads(result.to_json()))
    name = next(iter(result.class_models))
    st = next(s for s in ctx.strata if s.key == name)
    titles = [getattr(t, "title", "") for t in st.tables]
    assert any(t.startswith("Class models (family)") for t in titles)
    assert any("Shrinkage" in t for t in titles)
    captions = [getattr(f, "caption", "") for f in st.forests]
    assert any(c.startswith("Invariant intervals") for c in captions)
    html = render_report(ctx)
    assert "Class models (family)" in html and "Sim 0018" in html
    assert build_context(result) is not None
