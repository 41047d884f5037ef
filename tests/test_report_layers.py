"""Issue 9 in the report: each stratum shows its evidence layers side by side, each with its own
certainty; observational layers are rated apart from the randomised one, never pooled silently."""
from __future__ import annotations

import pytest

import netstrata
from netstrata.present.build import build_context
from netstrata.synthesis import analyse_review
from netstrata.synthesis.pipeline import certainty_key

from .test_data_support import copy_example, recode_designs

LUMBAR = "lumbar / facet_joint_pain / success"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """The example with van Kleef 1999 and van Wijk 2005 recast as non-randomised comparative
    studies (a test fixture, not a claim about the trials): the lumbar stratum then has a
    randomised layer (MINT facet, one trial) and a non-randomised network (two studies)."""
    p = copy_example(tmp_path_factory.mktemp("layers"))
    recode_designs(p, ("van Kleef 1999", "van Wijk 2005"), "NRS_comparative")
    return analyse_review(netstrata.load_review(p), progress=False, workers=1)


def test_every_comparative_layer_with_a_network_is_rated(result):
    s = result.stratum(LUMBAR)
    nrs = s.layer("nonrandomised")
    assert nrs.network is not None and s.primary.layer == "randomised"
    assert certainty_key(s, nrs) == f"{LUMBAR} [nonrandomised]"
    assert f"{LUMBAR} [nonrandomised]" in result.certainty
    # the randomised layer is one trial: rated from that study (issue 12: every layer rated), its
    # heterogeneity "not applicable"; the non-randomised layer starts Low (no ROBINS-I here)
    one = result.certainty[LUMBAR]
    assert all(r.heterogeneity.judgement == "not applicable" and r.start_level == "High" for r in one)
    assert all(r.start_level == "Low" for r in result.certainty[f"{LUMBAR} [nonrandomised]"])


def test_report_shows_layers_side_by_side_with_their_certainty(result):
    ctx = build_context(result)
    label = result.glossary["strata"][LUMBAR]["label"]
    st = next(x for x in ctx.strata if x.key == LUMBAR)
    table = next(t for t in st.tables if t.title == "Evidence layers (side by side)")
    frame = table.frame.set_index("layer")
    assert list(frame["primary"]) == ["yes", ""]
    rated = result.certainty[f"{LUMBAR} [nonrandomised]"]
    nrs_cell = frame.iloc[1]["certainty"]
    assert all(r.rating in nrs_cell for r in rated.ratings)
    assert frame.iloc[1]["studies"] == 2 and frame.iloc[0]["studies"] == 1
    # Summary of findings: the non-randomised layer beside the randomised one, with its own
    # certainty and start level, called out because the randomised layer has one trial
    # (defect: 'non-randomised results are invisible').
    sof = next(t for t in ctx.summary_of_findings if t.title == label)
    assert sof.css == "prominent" and sof.lead[0].startswith("When randomised data are lacking")
    ev = list(sof.frame["Evidence"])
    assert any(e.startswith("Randomised comparative") for e in ev)
    nrs_rows = sof.frame[[e.startswith("Non-randomised comparative") for e in ev]]
    assert len(nrs_rows) >= 1
    assert set(nrs_rows["Starts at"]) <= {"Low: non-randomised studies start Low (GRADE)"} or all(
        r.start_level for r in rated.ratings if hasattr(r, "start_level"))
    assert all(c.split(" (")[0] in {r.rating for r in rated.ratings} for c in nrs_rows["Certainty"])
