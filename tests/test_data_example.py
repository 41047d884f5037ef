"""The bundled example holds only [V] numbers of domain brief section E, with provenance."""
from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from netstrata.data import Review, load_review

from .test_data_support import EXAMPLE, copy_example, find_row, set_cell


@pytest.fixture(scope="module")
def review() -> Review:
    return load_review(EXAMPLE)


# (study, arm, timepoint_weeks or None) -> (events, n): domain brief E1 and E4, all [V]
# (van Wijk 2005: counts derived from 27.5% of 40 and 29.3% of 41, as the brief says).
BINARY = {
    ("Lord 1996", "rf", 27): (7, 12), ("Lord 1996", "sham", 27): (1, 12),
    ("van Kleef 1999", "rf", 8): (10, 15), ("van Kleef 1999", "sham", 8): (6, 16),
    ("van Wijk 2005", "rf", 13): (11, 40), ("van Wijk 2005", "sham", 13): (12, 41),
    ("Cohen 2008", "rf", 4.3): (11, 14), ("Cohen 2008", "placebo", 4.3): (2, 14),
    ("Cohen 2008", "rf", 13): (9, 14), ("Cohen 2008", "placebo", 13): (0, 14),
    ("Shanthanna 2014", "prf", None): (6, 16), ("Shanthanna 2014", "placebo", None): (3, 15),
    ("Juch 2017 MINT facet", "rf", 3): (32, 108), ("Juch 2017 MINT facet", "exercise", 3): (5, 101),
    ("Juch 2017 MINT facet", "rf", 6): (35, 119), ("Juch 2017 MINT facet", "exercise", 6): (11, 118),
    ("Juch 2017 MINT facet", "rf", 13): (43, 119), ("Juch 2017 MINT facet", "exercise", 13): (27, 114),
    ("Govind 2003", "cohort", None): (43, 49),
}


def _t(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def test_example_binary_counts_match_domain_brief(review):
    o = review.outcomes[review.outcomes["events"].notna()]
    found = {(r.study, r.arm, _t(r.timepoint_weeks)): (int(r.events), int(r.n)) for r in o.itertuples()}
    assert found == BINARY


def test_example_contrasts_match_domain_brief(review):
    c = review.table("contrasts")
    got = {(r.study, r.timepoint_weeks): (r.effect, r.ci_low, r.ci_high) for r in c.itertuples()}
    assert got == {("Juch 2017 MINT facet", 13): (-0.18, -0.76, 0.40),
                   ("Juch 2017 MINT SIJ", 13): (-0.71, -1.35, -0.06),
                   ("Juch 2017 MINT combination", 13): (-0.99, -1.73, -0.25),
                   ("Shanthanna 2014", 4): (-0.36, -2.29, 1.57),
                   ("Shanthanna 2014", 13): (-0.76, -3.14, 1.61)}


def test_example_arm_sizes(review):
    n = {(r.study, r.arm): r.n for r in review.arms.itertuples()}
    assert n[("Juch 2017 MINT facet", "rf")] == 125 and n[("Juch 2017 MINT facet", "exercise")] == 126
    assert n[("Juch 2017 MINT SIJ", "rf")] == 116 and n[("Juch 2017 MINT combination", "exercise")] == 99
    assert math.isnan(n[("MacVicar 2013", "practice_1")])   # per-practice n not captured


def test_every_outcome_value_has_provenance(review):
    for name in ("outcomes", "contrasts", "extraction-b"):
        t = review.table(name)
        for col in ("source", "location", "quote", "extractor"):
            assert t[col].notna().all(), (name, col)


def test_no_unverified_or_forbidden_studies(review):
    # domain brief E5: Ghahreman arm sizes, Patel 2012 results, Nath 2008 effects must not be used
    for name in ("studies", "arms", "outcomes", "contrasts"):
        assert not review.table(name)["study"].isin(["Ghahreman 2010", "Patel 2012", "Nath 2008"]).any()


def test_designs(review):
    d = dict(zip(review.studies["study"], review.studies["design"]))
    assert d["Govind 2003"] == d["MacVicar 2013"] == "single_arm"
    assert review.designs().to_dict() == {"RCT": 8, "single_arm": 2}


def test_lord_selection_paradigm_and_extractor_b_dispute(review):
    a = review.studies.set_index("study").loc["Lord 1996"]
    b = review.table("studies-b").set_index("study").loc["Lord 1996"]
    assert (a["selection_control"], a["selection_reporting"]) == ("placebo_controlled", "explicit")
    assert (b["selection_control"], b["selection_reporting"]) == ("unclear", "unclear")


def test_extraction_b_seeded_disagreements(review):
    a, b = review.outcomes.drop(columns=["selected", "extractor"]), review.table("extraction-b")
    b = b.drop(columns=["extractor"])[a.columns]
    diff = a.astype(str).fillna("") != b.astype(str).fillna("")
    cells = {(a["study"].iloc[r], a["arm"].iloc[r], a.columns[c]) for r, c in zip(*diff.to_numpy().nonzero())}
    assert cells == {("van Kleef 1999", "sham", "events"), ("Juch 2017 MINT facet", "exercise", "n")}
    assert set(review.table("extraction-b")["extractor"]) == {"B"}


def test_success_rows_selected_by_time_window(review):
    used = review.analysis_rows("success")
    got = sorted({(r.study, r.timepoint_weeks) for r in used.itertuples()})
    assert got == [("Cohen 2008", 13), ("Juch 2017 MINT facet", 13), ("Lord 1996", 27),
                   ("van Kleef 1999", 8), ("van Wijk 2005", 13)]


def _codes(review, study, **kw):
    return sorted({r.reason_code for r in review.register.for_study(study)
                   if all(getattr(r, k) == v for k, v in kw.items())})


def test_register_explains_time_point_and_sample_size(review):
    assert _codes(review, "Shanthanna 2014", outcome="success") == ["time_point_not_reported"]
    assert _codes(review, "MacVicar 2013") == ["n_not_reported"]
    assert _codes(review, "Cohen 2008") == ["time_point_not_selected"]
    assert _codes(review, "Juch 2017 MINT SIJ") == ["dispersion_not_reported"]


def test_ghahreman_is_in_the_register_and_known_trials(review):
    rows = review.register.for_study("Ghahreman 2010")
    assert {r.reason_code for r in rows} == {"mixed_duration_population", "arm_sizes_not_verified"}
    assert {r.stage for r in rows} == {"screening"}
    status = review.known_trials.set_index("study")["status"].to_dict()
    assert status == {"Lord 1996": "included", "Ghahreman 2010": "excluded"}


def test_known_trial_not_found_is_registered(tmp_path):
    p = copy_example(tmp_path)
    text = (p / "netstrata.toml").read_text() + '\n[[known_trials]]\nstudy = "Nath 2008"\n'
    (p / "netstrata.toml").write_text(text)
    r = load_review(p)
    assert _codes(r, "Nath 2008") == ["known_trial_not_found"]


def test_single_arm_data_in_comparative_study_is_registered(tmp_path):
    p = copy_example(tmp_path)
    row = find_row(p, "outcomes", study="Lord 1996", arm="sham")
    set_cell(p, "outcomes", row, "events", "NR")
    r = load_review(p)
    assert _codes(r, "Lord 1996") == ["counts_not_reported", "single_arm_in_comparative_layer"]
    assert r.analysis_rows("success").query("study == 'Lord 1996'").empty


def test_review_is_frozen(review):
    with pytest.raises(dataclasses.FrozenInstanceError):
        review.name = "other"
    with pytest.raises(TypeError):
        review.tables["studies"] = pd.DataFrame()


def test_fingerprint_is_stable_and_sensitive(tmp_path, review):
    assert load_review(EXAMPLE).fingerprint == review.fingerprint
    p = copy_example(tmp_path)
    set_cell(p, "outcomes", 2, "quote", "changed")
    assert load_review(p).fingerprint != review.fingerprint


def test_review_repr_and_summary(review):
    assert repr(review).startswith("Review(name='spine-landmark', studies=10, arms=19,")
    frame = review.summary().to_frame()
    assert frame.loc["Lord 1996", "selected_rows"] == 2 and frame.loc["Lord 1996", "n"] == 24
    assert "Review 'spine-landmark'" in review.summary().as_text()


def test_provenance_lookup(review):
    p = review.provenance("Lord 1996", "success")
    assert set(p["location"]) == {"ACP J Club 1997;126:71, 'Main results'"}
    assert list(p.columns) == ["study", "arm", "outcome", "timepoint_weeks", "source", "location", "quote",
                               "extractor"]


def test_lazy_export_from_package():
    import netstrata
    assert netstrata.load_review is load_review


def test_bad_arguments_raise_parameter_error(review):
    from netstrata import ParameterError
    with pytest.raises(ParameterError, match="'outcome' parameter of Review.analysis_rows.*Did you mean 'success'"):
        review.analysis_rows("sucess")
    with pytest.raises(ParameterError, match="'level' parameter"):
        review.analysis_rows("success", level="study")
    with pytest.raises(ParameterError, match="'path' parameter of load_review"):
        load_review(None)
    assert len(review.analysis_rows("pain", level="contrast")) == 4
