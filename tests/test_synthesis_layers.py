"""Evidence layers in the pipeline (issue 9): when the plan's [sensitivity] design asks for
randomised + non-randomised evidence, every direct comparison with non-randomised studies gets
netstrata.ma.layers.combine_layers: the combined result always beside the RCT-only one."""
from __future__ import annotations

import json

import numpy as np
import pytest

import netstrata
from netstrata.errors import DataError
from netstrata.synthesis import analyse_review

from .test_data_support import copy_example, recode_designs, set_sensitivity

LUMBAR = "lumbar / facet_joint_pain / success"


def _project(tmp_path, sensitivity: str):
    """The example with van Wijk 2005 recast as a non-randomised comparative study (a test
    fixture, not a claim about the trial)."""
    p = copy_example(tmp_path)
    recode_designs(p, ("van Wijk 2005",), "NRS_comparative")
    return set_sensitivity(p, "[sensitivity]\n" + sensitivity)


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    p = _project(tmp_path_factory.mktemp("nrs"), 'design = ["randomised", "comparative"]\n')
    return analyse_review(netstrata.load_review(p), progress=False, workers=1)


def test_combined_result_shown_beside_rct_only(layered):
    s = layered.stratum(LUMBAR)
    assert [c.label for c in s.combinations] == ["RFN_FACET vs sham_procedure"]
    res = s.combinations[0].result
    assert res.approach == "subgroup" and res.layers == ("rct", "nrs", "combined")
    assert res.study == ("van Kleef 1999", "van Wijk 2005") and res.design == ("RCT", "NRS_comparative")
    # the RCT-only and NRS-only results are the layers' own study results (closed form)
    rct = next(c for c in s.layer("randomised").comparisons if (c.treat1, c.treat2) == ("RFN_FACET", "sham_procedure"))
    nrs = next(c for c in s.layer("nonrandomised").comparisons)
    assert res.rct.estimate == pytest.approx(rct.estimate, rel=1e-10)
    assert res.nrs.estimate == pytest.approx(nrs.estimate, rel=1e-10)


def test_subgroup_combined_equals_pairwise_of_all_studies(layered):
    """Cross-method identity: 'subgroup' pools every study ignoring design (same estimator)."""
    res = layered.stratum(LUMBAR).combinations[0].result
    y = np.array([res.rct.estimate, res.nrs.estimate])
    v = np.array([res.rct.se, res.nrs.se]) ** 2
    ref = netstrata.pairwise(y, v, method=layered.settings.pairwise)
    assert res.combined.estimate == pytest.approx(ref.estimate, rel=1e-10)
    assert res.combined.se == pytest.approx(ref.se, rel=1e-10)


def test_layers_in_json_and_tables(layered):
    data = json.loads(layered.to_json())
    s = next(x for x in data["strata"] if x["name"] == LUMBAR)
    (entry,) = s["evidence_layers"]
    labels = [r["layer"] for r in entry["layers"]]
    assert labels[0].startswith("randomised") and any(x.startswith("combined") for x in labels)
    assert entry["approach"] == "subgroup" and entry["designs"] == ["RCT", "NRS_comparative"]
    frame = layered.to_frames()["evidence_layers"]
    assert set(frame["stratum"]) == {LUMBAR, "all / success"}


def test_no_combination_unless_the_plan_asks(tmp_path):
    p = _project(tmp_path, 'node_level = ["family"]\n')
    res = analyse_review(netstrata.load_review(p), progress=False, workers=1, multiverse=False)
    assert all(not s.combinations for s in (*res.strata, *res.lumped))
    assert all(s["evidence_layers"] == [] for s in json.loads(res.to_json())["strata"])


def test_downweight_approach_from_plan(tmp_path):
    p = _project(tmp_path, 'design = ["randomised", "comparative"]\n'
                           'layers = { approach = "downweight", inflation = 4 }\n')
    res = analyse_review(netstrata.load_review(p), progress=False, workers=1, multiverse=False)
    r = res.stratum(LUMBAR).combinations[0].result
    assert r.approach == "downweight" and r.inflation == 4.0
    # the NRS weight falls: the combined estimate is nearer the RCT-only one than an equal pool
    assert abs(r.combined.estimate - r.rct.estimate) < abs(0.5 * (r.rct.estimate + r.nrs.estimate) - r.rct.estimate)


def test_bad_layers_key_is_a_plan_error(tmp_path):
    p = _project(tmp_path, 'design = ["randomised", "comparative"]\nlayers = "downweight"\n')
    with pytest.raises(DataError, match="sensitivity.layers"):
        analyse_review(netstrata.load_review(p), progress=False, workers=1)
