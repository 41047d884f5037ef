"""The analysis plan: parsing, validation with closest-key hints, time-window rules."""
from __future__ import annotations

import math

import pytest

from netstrata import DataError
from netstrata.data import Plan, load_plan, load_review, parse_plan, parse_window
from netstrata.data.timewindow import WEEKS_PER

from .test_data_support import EXAMPLE, copy_example, problems_of

MINIMAL = {"project": {"name": "p", "pack": "spine"},
           "outcomes": {"success": {"kind": "binary", "measure": "RR"}}}


def _errors(data) -> DataError:
    with pytest.raises(DataError) as info:
        parse_plan(data)
    return info.value


def test_example_plan():
    plan = load_plan(EXAMPLE / "netstrata.toml")
    assert isinstance(plan, Plan) and plan.name == "spine-landmark" and plan.pack == "spine"
    assert plan.outcome_ids == ("success", "pain", "complete_relief")
    pain = plan.outcome("pain")
    assert (pain.kind, pain.measure, pain.mid, pain.small_values) == ("continuous", "MD", 1.5, "desirable")
    success = plan.outcome("success")
    assert success.time_window.rule == "closest_not_after"
    assert success.time_window.target_weeks == pytest.approx(26.0, rel=1e-12)   # 6 x 52/12
    assert success.time_window.tolerance_weeks == 1
    assert success.window_for(["ESI"]).target_weeks == pytest.approx(13.0, rel=1e-12)
    assert success.window_for(["RFN_FACET"]) is success.time_window
    assert plan.node_level == "family" and plan.strata == ("region", "diagnosis")
    assert [k.study for k in plan.known_trials] == ["Lord 1996", "Ghahreman 2010"]


def test_minimal_plan_defaults():
    plan = parse_plan(MINIMAL)
    o = plan.outcome("success")
    assert (o.small_values, o.mid, o.time_window, plan.node_level, plan.strata) == ("desirable", None, None, None, ())


@pytest.mark.parametrize("where, key, hint", [
    ((), "projct", "project"),
    (("project",), "nmae", "name"),
    (("outcomes", "success"), "small_value", "small_values"),
    (("outcomes", "success"), "time_windows", "time_window"),
])
def test_unknown_key_names_closest(where, key, hint):
    data = {"project": dict(MINIMAL["project"]), "outcomes": {"success": dict(MINIMAL["outcomes"]["success"])}}
    target = data
    for w in where:
        target = target[w]
    target[key] = 1
    (prob,) = problems_of(_errors(data), message="unknown key")
    assert prob.found == key and prob.hint == f"did you mean {hint!r}?"
    assert prob.column == ".".join((*where, key))


def test_measure_must_fit_kind():
    data = {**MINIMAL, "outcomes": {"pain": {"kind": "continuous", "measure": "RR"}}}
    (prob,) = _errors(data).problems
    assert prob.column == "outcomes.pain.measure" and prob.found == "RR" and "MD" in prob.expected


def test_bad_values_reported_together():
    data = {"project": {"name": "p"},
            "outcomes": {"x": {"kind": "binry", "measure": "OR", "mid": -1, "small_values": "good",
                               "time_window": "about three months"}}}
    cols = {p.column for p in _errors(data).problems}
    assert {"project.pack", "outcomes.x.kind", "outcomes.x.mid", "outcomes.x.small_values",
            "outcomes.x.time_window"} <= cols


def test_no_outcomes():
    (prob,) = _errors({"project": {"name": "p", "pack": "spine"}}).problems
    assert prob.column == "outcomes" and "no outcomes" in prob.message


def test_known_trials_as_names():
    plan = parse_plan({**MINIMAL, "known_trials": ["Ghahreman 2010"]})
    assert plan.known_trials[0].study == "Ghahreman 2010"


def test_deferred_sections_kept_for_later_layers():
    plan = parse_plan({**MINIMAL, "models": {"tau2": "REML"}})
    assert plan.sections["models"]["tau2"] == "REML"


@pytest.mark.parametrize("text, rule, weeks", [
    ("closest to but not after 12 weeks", "closest_not_after", 12),
    ("closest to, but not over, 3 months", "closest_not_after", 3 * 52 / 12),
    ("Closest to but not exceeding 6 months", "closest_not_after", 26),
    ("closest to but not before 90 days", "closest_not_before", 90 / 7),
    ("closest to 26 weeks", "closest", 26),
])
def test_parse_window_text(text, rule, weeks):
    w, err = parse_window(text)
    assert err is None and w.rule == rule
    assert math.isclose(w.target_weeks, weeks, rel_tol=1e-12)


def test_parse_window_table_and_errors():
    w, err = parse_window({"rule": "closest_not_after", "target": 3, "unit": "months", "tolerance_weeks": 1})
    assert err is None and math.isclose(w.target_weeks, 3 * WEEKS_PER["month"], rel_tol=1e-12)
    assert parse_window("3 months-ish")[0] is None
    assert "unit" in parse_window("closest to 3 fortnights")[1]
    assert "rule" in parse_window({"rule": "nearest", "target": 3})[1]


@pytest.mark.parametrize("rule, times, chosen", [
    ("closest to but not after 12 weeks", [3, 6, 13, 26], 6),
    ("closest to but not after 12 weeks", [13, 26], None),
    ("closest to but not before 12 weeks", [3, 13, 26], 13),
    ("closest to 12 weeks", [10, 14, 26], 10),          # tie -> the earlier time point
    ("closest to 12 weeks", [float("nan")], None),
])
def test_window_choose(rule, times, chosen):
    assert parse_window(rule)[0].choose(times) == chosen


def test_tolerance_admits_27_weeks_for_6_months():
    w, _ = parse_window("closest to but not after 6 months", tolerance_weeks=1)
    assert w.choose([4.3, 27]) == 27
    assert parse_window("closest to but not after 6 months")[0].choose([4.3, 27]) == 4.3


def test_unknown_node_level_and_stratum_in_project(tmp_path):
    p = copy_example(tmp_path)
    text = (p / "netstrata.toml").read_text()
    text = text.replace('level = "family"', 'level = "famly"').replace('"diagnosis"]', '"diagnosys"]')
    (p / "netstrata.toml").write_text(text)
    with pytest.raises(DataError) as info:
        load_review(p)
    (lvl,) = problems_of(info.value, column="nodes.level")
    assert lvl.hint == "did you mean 'family'?" and lvl.file == "netstrata.toml"
    (strat,) = problems_of(info.value, column="strata.variables")
    assert strat.found == "diagnosys" and strat.hint == "did you mean 'diagnosis'?"


def test_unknown_pack_in_plan(tmp_path):
    p = copy_example(tmp_path)
    text = (p / "netstrata.toml").read_text().replace('pack = "spine"', 'pack = "spne"')
    (p / "netstrata.toml").write_text(text)
    with pytest.raises(DataError) as info:
        load_review(p)
    (prob,) = problems_of(info.value, column="project.pack")
    assert prob.hint == "did you mean 'spine'?" and prob.found == "spne"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = st.sampled_from(["project", "outcomes", "nodes", "strata", "known_trials", "models", "name", "pack",
                         "kind", "measure", "mid", "time_window", "tolerance_weeks", "time_window_by_family",
                         "small_values", "label", "level", "variables", "study", "x", "success"])
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.floats(allow_nan=True),
                    st.sampled_from(["binary", "RR", "MD", "continuous", "closest to 3 months", "spine", "p",
                                     "closest to but not after 12 weeks", "desirable", ""]), st.text(max_size=5))
_TREES = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _TREES, max_size=6))
def test_random_plans_give_plan_or_data_error(data):
    data = {k: v for k, v in data.items() if v is not None}   # TOML has no null
    try:
        plan = parse_plan(data)
    except DataError as exc:
        assert exc.problems
    else:
        assert isinstance(plan, Plan) and plan.outcomes
