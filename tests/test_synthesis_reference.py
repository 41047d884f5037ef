"""Which treatment a stratum's network is referenced to (the summary of findings reads it)."""
from __future__ import annotations

import pandas as pd
import pytest

from netstrata import DataError
from netstrata.synthesis.analyse import choose_reference
from netstrata.synthesis.config import parse_models

ROWS = pd.DataFrame({"study": ["a", "b", "c", "d"],
                     "treat1": ["RF", "RF", "RF", "RF"],
                     "treat2": ["sham", "sham", "exercise", "sham"]})
ROLES = {"RF": "active", "sham": "control", "exercise": "control"}


def test_most_studied_control_node_is_the_default_reference():
    assert choose_reference(ROWS, ROLES) == "sham"


def test_plan_preference_wins_when_present_and_is_skipped_when_absent():
    assert choose_reference(ROWS, ROLES, ("exercise",)) == "exercise"
    assert choose_reference(ROWS, ROLES, ("usual_care", "exercise")) == "exercise"


def test_no_control_node_leaves_netmetas_default():
    assert choose_reference(ROWS, {"RF": "active", "sham": "active", "exercise": "active"}) is None


def test_ties_between_controls_are_broken_alphabetically():
    rows = ROWS.iloc[[0, 2]]
    assert choose_reference(rows, ROLES) == "exercise"


def test_models_reference_is_parsed_and_checked():
    assert parse_models({"reference": "sham"}).reference == ("sham",)
    assert parse_models({"reference": ["sham", "exercise"]}).reference == ("sham", "exercise")
    with pytest.raises(DataError, match="models.reference"):
        parse_models({"reference": 3})
