"""Exclusion register and known-trials (omission) check with fuzzy study names."""
from __future__ import annotations

import pandas as pd
import pytest

from netstrata.appraisal import check_exclusion_register, check_known_trials, match_study
from netstrata.appraisal.register import normalise_study_name
from netstrata.errors import DataError, ParameterError

EXCLUSIONS = pd.DataFrame({"study": ["Ghahreman et al. 2010", "Ghahreman et al. 2010", "Smith 2003"],
                           "reason_code": ["mixed_duration_population", "arm_sizes_not_verified", "other"],
                           "message": ["acute and chronic", "sizes not verified", "x"]})


@pytest.mark.parametrize("name, candidates, expected", [
    ("Ghahreman 2010", ["Ghahreman et al. 2010"], "Ghahreman et al. 2010"),
    ("Ghahreman 2010", ["ghahreman, 2010a"], "ghahreman, 2010a"),
    ("Ghahreman 2010", ["Ghahreman & Bogduk 2010"], "Ghahreman & Bogduk 2010"),
    ("van Kleef 1999", ["Van Kleef et al., 1999"], "Van Kleef et al., 1999"),
    ("Lord 1996", ["Lord 1997", "Lorde 1996"], "Lorde 1996"),     # one letter off, same year
    ("Lord 1996", ["Lord 1997"], None),                            # same author, other year
    ("Nath 2008", ["Cohen 2008", "Lord 1996"], None),
    ("Müller 2004", ["Muller et al 2004"], "Muller et al 2004"),
])
def test_fuzzy_study_name_matching(name, candidates, expected):
    assert match_study(name, candidates)[0] == expected


def test_normalised_name_parts():
    assert normalise_study_name("Ghahreman et al., 2010b") == ("ghahreman", "2010")


def test_known_trials_included_excluded_missing():
    check = check_known_trials(["Lord 1996", "Ghahreman 2010", "Nath 2008"], ["Lord et al. 1996", "Cohen 2008"],
                               EXCLUSIONS)
    t = check.trials.set_index("expected")
    assert list(t["status"]) == ["included", "excluded", "missing"]
    assert t.loc["Ghahreman 2010", "reason_code"] == "mixed_duration_population; arm_sizes_not_verified"
    assert check.missing == ("Nath 2008",)
    assert "MISSING: Nath 2008" in check.summary().as_text()
    assert repr(check) == "KnownTrialsCheck(included=1, excluded=1, missing=1)"


def test_known_trials_from_the_bundled_plan():
    from netstrata.data import example_path, load_review
    review = load_review(example_path())
    check = check_known_trials(review.plan.known_trials, review.studies, review.exclusions)
    t = check.trials.set_index("expected")
    assert t.loc["Lord 1996", "status"] == "included"
    assert t.loc["Ghahreman 2010", "status"] == "excluded"
    assert "mixed_duration_population" in t.loc["Ghahreman 2010", "reason_code"]


def test_known_trials_rejects_a_single_string():
    with pytest.raises(ParameterError, match="list of trial labels"):
        check_known_trials("Lord 1996", ["Lord 1996"])


def test_exclusion_register_completeness():
    problems = check_exclusion_register(
        candidates=["Lord 1996", "Ghahreman et al. 2010", "Nath 2008", "Smith 2003"],
        analysed=["Lord 1996", "Smith 2003"], exclusions=EXCLUSIONS,
        reasons=["mixed_duration_population", "arm_sizes_not_verified", "other"])
    messages = [(p.study, p.message) for p in problems]
    assert messages == [("Nath 2008", "candidate study reaches no analysis and has no exclusion reason"),
                        ("Smith 2003", "study is both analysed and in the exclusion register")]


def test_exclusion_register_reason_codes():
    bad = EXCLUSIONS.assign(reason_code=["", "mixed_duraton_population", "other"])
    problems = check_exclusion_register([], [], bad, reasons=["mixed_duration_population", "other"])
    assert [(p.row, p.message) for p in problems] == [(2, "excluded study without a reason code"),
                                                     (3, "undeclared exclusion reason code")]
    assert problems[1].hint == "did you mean 'mixed_duration_population'?"
    with pytest.raises(DataError, match="reason_code"):
        check_exclusion_register([], [], pd.DataFrame({"study": []}))
