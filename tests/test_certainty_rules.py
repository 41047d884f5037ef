"""CINeMA domain rules, case by case against the tables of design/domain.md §D3.

Specification: Nikolakopoulou 2020 (PLoS Med 17:e1003082) and CINeMA's documentation; the
aggregation rules and the area-agreement count follow CINeMA's web application source
(rob/netrob/update.js ``majRule``/``meanRule``/``maxRule``; incoherence/update.js ``makeVector``).
All rule outputs are exact (no tolerance needed).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netstrata.certainty import mid_zone, overall_rating
from netstrata.certainty.judgement import MAJOR, NO, NOT_ASSESSABLE, SOME, DomainJudgement, study_level
from netstrata.certainty.rules import (HETEROGENEITY_TABLE, aggregate_level, areas, contribution_judgement,
                                       crossings, heterogeneity, imprecision, incoherence, pvalue_band,
                                       reporting_bias, shared_areas)
from netstrata.errors import ParameterError

Z = mid_zone(1.0, "MD")          # zone (-1, 1)


# ----------------------------------------------------------------------------- zone
def test_zone_ratio_measure_log_scale_symmetric():
    z08, z125 = mid_zone(0.8, "OR"), mid_zone(1.25, "OR")
    assert z08.low == pytest.approx(math.log(0.8), rel=1e-15)
    assert z08.high == pytest.approx(-math.log(0.8), rel=1e-15)
    assert (z08.low, z08.high) == pytest.approx((z125.low, z125.high), rel=1e-15)
    assert z08.natural() == pytest.approx((0.8, 1.25), rel=1e-12)
    assert z08.log_scale and not mid_zone(1.5, "MD").log_scale


def test_zone_difference_and_explicit():
    assert mid_zone(1.5, "MD").limits == (-1.5, 1.5)
    assert mid_zone(0.05, "RD").limits == (-0.05, 0.05)
    assert mid_zone(measure="MD", zone=(-1.0, 2.0)).limits == (-1.0, 2.0)
    assert mid_zone(0.8, "HR").log_scale


@pytest.mark.parametrize("mid, measure", [(1.0, "OR"), (-0.8, "RR"), (0.0, "MD"), (-1.5, "MD"), ("x", "MD")])
def test_zone_refuses_bad_mid(mid, measure):
    with pytest.raises(ParameterError, match="'mid' parameter of mid_zone"):
        mid_zone(mid, measure)


def test_zone_refuses_zone_not_around_null():
    with pytest.raises(ParameterError, match="low < 0 < high"):
        mid_zone(measure="MD", zone=(0.5, 2.0))


# ----------------------------------------------------------------------------- crossings and imprecision
@pytest.mark.parametrize("ci, expected", [
    ((-2.0, 2.0), 2),     # crosses both limits
    ((-2.0, 0.5), 1),     # lower only
    ((0.5, 2.0), 1),      # upper only
    ((-0.5, 0.5), 0),     # inside the zone
    ((1.5, 3.0), 0),      # entirely right of the zone
    ((-3.0, -1.5), 0),    # entirely left
    ((-1.0, 0.5), 0),     # touching a limit is not crossing it
    ((-1.0, 1.0), 0),
])
def test_crossings(ci, expected):
    assert crossings(*ci, Z) == expected


@pytest.mark.parametrize("ci, judgement", [((-2.0, 2.0), MAJOR), ((-2.0, 0.5), SOME), ((0.5, 2.0), SOME),
                                           ((-0.5, 0.5), NO), ((1.5, 3.0), NO), ((-3.0, -1.5), NO)])
def test_imprecision_every_case(ci, judgement):
    j = imprecision(*ci, Z)
    assert (j.judgement, j.algorithm, j.domain) == (judgement, judgement, "imprecision")
    assert j.inputs["ci_low"] == ci[0] and j.inputs["zone_high"] == 1.0


def test_imprecision_ratio_on_log_scale():
    z = mid_zone(0.8, "OR")
    # OR 0.5 (0.3, 0.9): crosses 0.8 only; OR 1.0 (0.7, 1.4): both; OR 1.4 (1.3, 1.6): neither
    assert imprecision(math.log(0.3), math.log(0.9), z).judgement == SOME
    assert imprecision(math.log(0.7), math.log(1.4), z).judgement == MAJOR
    assert imprecision(math.log(1.3), math.log(1.6), z).judgement == NO
    # statins example of Nikolakopoulou 2020: OR 1.09 to 1.82 with zone 0.95-1.05 -> no concerns
    assert imprecision(math.log(1.09), math.log(1.82), mid_zone(1.05, "OR")).judgement == NO


def test_imprecision_without_ci_not_assessable():
    assert imprecision(np.nan, 1.0, Z).judgement == NOT_ASSESSABLE


# ----------------------------------------------------------------------------- heterogeneity
# intervals with a given number of crossings of (-1, 1): nested so PI ⊇ CI in every valid cell
INTERVALS = {0: (0.2, 0.4), 1: (0.1, 1.5), 2: (-1.5, 1.5)}
WIDER = {0: (0.1, 0.5), 1: (0.05, 2.0), 2: (-2.0, 2.0)}
EXPECTED_HET = {(0, 0): NO, (0, 1): SOME, (0, 2): MAJOR, (1, 1): NO, (1, 2): SOME, (2, 2): NO}


@pytest.mark.parametrize("cell", sorted(EXPECTED_HET))
def test_heterogeneity_every_valid_cell(cell):
    ci_n, pi_n = cell
    ci = INTERVALS[ci_n]
    pi = WIDER[pi_n] if pi_n == ci_n else INTERVALS[pi_n]
    lo, hi = min(ci[0], pi[0]), max(ci[1], pi[1])    # PI contains CI, crossings unchanged
    assert crossings(lo, hi, Z) == pi_n
    j = heterogeneity(*ci, lo, hi, Z)
    assert j.judgement == EXPECTED_HET[cell]
    assert (j.inputs["ci_crossings"], j.inputs["pi_crossings"]) == cell


@pytest.mark.parametrize("cell", [(1, 0), (2, 0), (2, 1)])
def test_heterogeneity_na_cells_cannot_occur(cell):
    assert HETEROGENEITY_TABLE[cell] is None
    ci, pi = INTERVALS[cell[0]], INTERVALS[cell[1]]
    with pytest.raises(ValueError, match="prediction interval .* must contain"):
        heterogeneity(*ci, *pi, Z)


def test_heterogeneity_table_complete():
    assert set(HETEROGENEITY_TABLE) == {(i, j) for i in range(3) for j in range(3)}


def test_heterogeneity_without_pi_not_assessable():
    j = heterogeneity(0.2, 0.4, np.nan, np.nan, Z)
    assert j.judgement == NOT_ASSESSABLE and "prediction interval" in j.note


@given(est=st.floats(-3, 3), se=st.floats(0.01, 2), extra=st.floats(0, 2))
def test_heterogeneity_never_na_for_nested_intervals(est, se, extra):
    ci = (est - 1.96 * se, est + 1.96 * se)
    pi = (est - 2.1 * (se + extra), est + 2.1 * (se + extra))
    assert heterogeneity(*ci, *pi, Z).judgement in (NO, SOME, MAJOR)


# ----------------------------------------------------------------------------- incoherence
def test_areas_vector():
    assert areas(-3.0, -2.0, Z) == (True, False, False)
    assert areas(-2.0, 0.0, Z) == (True, True, False)
    assert areas(-2.0, 2.0, Z) == (True, True, True)
    assert areas(2.0, 3.0, Z) == (False, False, True)
    assert areas(-0.5, 0.5, Z) == (False, True, False)


@pytest.mark.parametrize("direct, indirect, n, judgement", [
    ((-3.0, -2.0), (-0.5, 2.0), 0, MAJOR),    # A vs B+C: agree on nothing
    ((2.0, 3.0), (-3.0, -2.0), 1, MAJOR),     # C vs A: agree only on missing B
    ((2.0, 3.0), (0.5, 2.5), 2, SOME),        # C vs B+C
    ((2.0, 3.0), (1.5, 4.0), 3, NO),          # both right of the zone
    ((-2.0, 2.0), (-3.0, 3.0), 3, NO),        # both cover all three areas
])
def test_incoherence_mixed_every_count(direct, indirect, n, judgement):
    assert shared_areas(direct, indirect, Z) == n
    j = incoherence("mixed", Z, direct_ci=direct, indirect_ci=indirect)
    assert (j.judgement, j.inputs["shared_areas"], j.rule) == (judgement, n, "shared areas")


def test_incoherence_direct_only_no_concerns():
    assert incoherence("direct", Z).judgement == NO


@pytest.mark.parametrize("p, judgement", [
    (0.5, NO), (0.1000001, NO), (0.10, SOME), (0.05, SOME), (0.01, SOME), (0.0099999, MAJOR), (0.0, MAJOR),
])
def test_incoherence_indirect_pvalue_bands_with_boundaries(p, judgement):
    assert pvalue_band(p) == judgement
    j = incoherence("indirect", Z, dbt_pvalue=p)
    assert j.judgement == judgement and j.inputs["dbt_pvalue"] == p


def test_incoherence_configurable_bands():
    # CINeMA's web application uses 0.05 instead of 0.01
    assert pvalue_band(0.03, (0.05, 0.10)) == MAJOR
    assert pvalue_band(0.03) == SOME


@pytest.mark.parametrize("p", [None, np.nan])
def test_incoherence_star_network_not_assessable(p):
    j = incoherence("indirect", Z, dbt_pvalue=p)
    assert j.judgement == NOT_ASSESSABLE and "no loops" in j.note


def test_incoherence_mixed_missing_interval_not_assessable():
    assert incoherence("mixed", Z, direct_ci=(0.0, 1.0), indirect_ci=(np.nan, np.nan)).judgement == NOT_ASSESSABLE


# ----------------------------------------------------------------------------- aggregation rules
@pytest.mark.parametrize("shares, levels, majority, average, highest", [
    ([0.6, 0.3, 0.1], [1, 2, 3], 1, 2, 3),        # mean 1.5 -> rounds half up to 2
    ([0.2, 0.2, 0.6], [1, 2, 3], 3, 2, 3),        # mean 2.4
    ([0.5, 0.5], [1, 2], 1, 2, 2),                # tie 50/50 -> majority keeps the lower level
    ([0.5, 0.5], [2, 3], 2, 3, 3),                # mean 2.5 -> 3
    ([0.4, 0.4, 0.2], [1, 3, 2], 1, 2, 3),        # tie 40/40 between 1 and 3 -> 1
    ([0.3, 0.3, 0.4], [3, 3, 1], 3, 2, 3),        # levels summed over studies: 3 has 0.6
    ([0.7, 0.3, 0.0], [1, 1, 3], 1, 1, 1),        # zero contribution ignored by 'highest'
    ([1.0], [2], 2, 2, 2),
    ([60, 30, 10], [1, 2, 3], 1, 2, 3),           # percentages work as shares
])
def test_aggregation_rules(shares, levels, majority, average, highest):
    assert aggregate_level(shares, levels, "majority") == majority
    assert aggregate_level(shares, levels, "average") == average
    assert aggregate_level(shares, levels, "highest") == highest


def test_majority_tie_survives_float_noise():
    # 0.1 + 0.2 = 0.30000000000000004 > 0.3 in floats; the levels are tied, the lower one wins
    assert aggregate_level([0.3, 0.1, 0.2], [1, 2, 2], "majority") == 1


def test_average_half_rounds_up_despite_float_noise():
    # shares 0.52, 0.46, 0.02 give a mean of 1.5 in exact arithmetic but 1.4999999999999998 in floats
    shares = [0.52, 0.46, 1 - 0.52 - 0.46]
    assert float(np.dot(shares, [1, 2, 3]) / np.sum(shares)) < 1.5
    assert aggregate_level(shares, [1, 2, 3], "average") == 2


def test_contribution_judgement_keeps_inputs():
    j = contribution_judgement("within_study_bias", [0.5, 0.3, 0.2, 0.0], [1, 2, 3, 3], "majority",
                               studies=["a", "b", "c", "d"])
    assert j.judgement == NO and j.rule == "majority"
    assert j.inputs["share_low"] == pytest.approx(0.5, rel=1e-12)
    assert j.inputs["share_high"] == pytest.approx(0.2, rel=1e-12)
    assert set(j.inputs["studies"]) == {"a", "b", "c"}
    assert contribution_judgement("indirectness", [0.5, 0.3, 0.2], [1, 2, 3], "highest").judgement == MAJOR


@pytest.mark.parametrize("value, level", [(1, 1), ("L", 1), ("low", 1), ("Some concerns", 2), ("U", 2),
                                          ("Moderate", 2), ("No information", 2), (3, 3), ("H", 3),
                                          ("Serious", 3), ("Critical", 3), (2.0, 2)])
def test_study_level_spellings(value, level):
    assert study_level(value, name="rob", caller="t") == level


@pytest.mark.parametrize("value", [0, 4, "maybe", True, None])
def test_study_level_refuses(value):
    with pytest.raises(ParameterError, match="study level 1/2/3"):
        study_level(value, name="rob", caller="t")


# ----------------------------------------------------------------------------- reporting bias, overall
def test_reporting_bias_default_undetected_with_note():
    j = reporting_bias()
    assert j.judgement == NO and j.inputs == {"reporting_bias": "undetected", "recorded": False}
    assert "default" in j.note
    assert reporting_bias("suspected").judgement == SOME


def _doms(*judgements):
    return [DomainJudgement(f"d{i}", j, j, "r") for i, j in enumerate(judgements)]


@pytest.mark.parametrize("judgements, rating, downgrades", [
    ((NO,) * 6, "High", 0),
    ((SOME, NO, NO, NO, NO, NO), "Moderate", 1),
    ((SOME, SOME, NO, NO, NO, NO), "Low", 2),
    ((MAJOR, NO, NO, NO, NO, NO), "Low", 2),
    ((MAJOR, SOME, NO, NO, NO, NO), "Very low", 3),
    ((MAJOR, MAJOR, MAJOR, NO, NO, NO), "Very low", 6),         # floor at Very low
    ((NOT_ASSESSABLE, NOT_ASSESSABLE, NO, NO, NO, NO), "High", 0),
])
def test_overall_rating_default_mapping(judgements, rating, downgrades):
    got = overall_rating(_doms(*judgements))
    assert got == (rating, rating, downgrades, "")


def test_overall_rating_override_recorded():
    got = overall_rating(_doms(MAJOR, NO), ("Moderate", "large effect, residual confounding would reduce it"))
    assert got[:3] == ("Moderate", "Low", 2) and got[3].startswith("large effect")
    with pytest.raises(ParameterError, match="non-empty reason"):
        overall_rating(_doms(NO), ("Low", " "))
    with pytest.raises(ParameterError, match="rating_overrides"):
        overall_rating(_doms(NO), ("Medium", "typo"))


def test_domain_override_recorded():
    j = imprecision(-2.0, 2.0, Z).override("some concerns", "MID is conservative for this outcome")
    assert (j.judgement, j.algorithm, j.overridden) == (SOME, MAJOR, True)
    assert j.override_reason == "MID is conservative for this outcome"
    with pytest.raises(ParameterError):
        j.override("no concerns", "")


# ----------------------------------------------------------------------------- CINeMA web-application variants
@pytest.mark.parametrize("effect, ci, zone_rule, app_rule", [
    (0.8, (0.3, 1.5), SOME, NO),       # CI above the null crosses only the same-side MID
    (0.6, (0.2, 1.0), SOME, NO),
    (-0.3, (-1.0, 0.4), SOME, SOME),   # crosses the null (app) / the lower limit (zone)
    (0.2, (-0.8, 1.2), MAJOR, MAJOR),
    (0.1, (-0.2, 0.4), NO, NO),        # inside the zone
    (-2.0, (-3.0, -1.5), NO, NO),
])
def test_imprecision_limit_rules(effect, ci, zone_rule, app_rule):
    z = mid_zone(0.5, "MD")
    assert imprecision(*ci, z, effect=effect).judgement == zone_rule
    j = imprecision(*ci, z, effect=effect, limits="cinema_app")
    assert j.judgement == app_rule and j.rule == "CI crossings (cinema_app)"


def test_app_limits_need_the_point_estimate():
    z = mid_zone(0.5, "MD")
    with pytest.raises(ParameterError, match="'effect' parameter is required with limits='cinema_app'"):
        imprecision(0.3, 1.5, z, limits="cinema_app")
    assert imprecision(0.3, 1.5, z).judgement == SOME       # the zone rule does not read the estimate


def test_heterogeneity_app_rule_counts_pi_against_zone_when_ci_inside():
    z = mid_zone(0.5, "MD")
    # CI inside the zone, PI crosses both limits -> (0, 2) -> major under both rules
    assert heterogeneity(-0.2, 0.3, -0.7, 0.8, z, effect=0.05, limits="cinema_app").judgement == MAJOR
    # CI right of the null, crossing 0.5: app limits (-0.5, 0): CI 0 crossings, PI crosses 0 -> some
    j = heterogeneity(0.3, 1.2, -0.1, 1.6, z, effect=0.75, limits="cinema_app")
    assert (j.inputs["ci_crossings"], j.inputs["pi_crossings"], j.judgement) == (0, 1, SOME)
    assert heterogeneity(0.3, 1.2, -0.1, 1.6, z, effect=0.75).judgement == NO      # zone rule: (1, 1)


@pytest.mark.parametrize("p, judgement", [(0.2, NO), (0.10, NO), (0.05, MAJOR), (np.nan, MAJOR)])
def test_incoherence_difference_p_gate(p, judgement):
    j = incoherence("mixed", Z, direct_ci=(2.0, 3.0), indirect_ci=(-3.0, -2.0), difference_pvalue=p,
                    difference_p_gate=0.10)
    assert j.judgement == judgement
    assert incoherence("mixed", Z, direct_ci=(2.0, 3.0), indirect_ci=(-3.0, -2.0),
                       difference_pvalue=p).judgement == MAJOR          # no gate by default


@given(shares=st.lists(st.floats(0.001, 1), min_size=1, max_size=8), data=st.data())
def test_aggregation_rules_order_and_permutation(shares, data):
    levels = data.draw(st.lists(st.integers(1, 3), min_size=len(shares), max_size=len(shares)))
    perm = data.draw(st.permutations(range(len(shares))))
    for rule in ("majority", "average", "highest"):
        got = aggregate_level(shares, levels, rule)
        assert min(levels) <= got <= aggregate_level(shares, levels, "highest")
        assert aggregate_level([shares[i] for i in perm], [levels[i] for i in perm], rule) == got
