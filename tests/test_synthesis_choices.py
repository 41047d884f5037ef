"""Specification choices that are not filters or time-window rules: a DataError naming the text.

The plan's [sensitivity] alternatives are checked when the plan is read; these guard Choices built
by hand (the type check showed that a filter or rule that does not parse reached ``.column`` /
``dataclasses.replace`` on None: an AttributeError or TypeError instead of a message).
"""
from __future__ import annotations

import pytest

import netstrata
from netstrata.errors import DataError
from netstrata.synthesis.filters import choice_filter
from netstrata.synthesis.records import Choices, prepare

from .test_data_support import EXAMPLE


@pytest.fixture(scope="module")
def review():
    return netstrata.load_review(EXAMPLE)


def test_choice_filter_parses_any_and_column_filters():
    assert choice_filter("any").keeps_all
    f = choice_filter("selection_reporting=explicit|implicit")
    assert (f.column, f.values) == ("selection_reporting", ("explicit", "implicit"))


@pytest.mark.parametrize("field", ["selection", "risk_of_bias", "fidelity"])
def test_a_choice_that_is_no_filter_is_a_data_error(review, field):
    with pytest.raises(DataError) as info:
        prepare(review, Choices(**{field: "not a filter"}))
    problem = info.value.problems[0]
    assert problem.found == "not a filter" and problem.column == "sensitivity"
    assert "column=value" in problem.expected


def test_a_choice_that_is_no_time_window_rule_is_a_data_error(review):
    assert any(o.time_window for o in review.plan.outcomes)   # else the rule would never be applied
    with pytest.raises(DataError) as info:
        prepare(review, Choices(time_window="whenever"))
    problem = info.value.problems[0]
    assert problem.found == "whenever" and problem.column == "sensitivity.time_window"
    assert problem.expected.startswith("'plan' or a rule like")
