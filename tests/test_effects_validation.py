"""effect_sizes refuses bad input at the boundary with a message naming argument, position, value, expectation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netstrata import effect_sizes
from netstrata.effects import MEASURES, get_measure
from netstrata.errors import ParameterError

OK = dict(events_1=[4, 6], n_1=[123, 300], events_2=[11, 29], n_2=[139, 300])


def test_unknown_measure_lists_allowed_and_closest():
    with pytest.raises(ParameterError, match=r"'measure'.*'OR'.*Got 'ZCORR'.*Did you mean 'ZCOR'"):
        effect_sizes("ZCORR", **OK)


def test_measure_is_case_insensitive():
    pd.testing.assert_frame_equal(effect_sizes("or", **OK), effect_sizes("OR", **OK))


def test_missing_required_input_is_named():
    with pytest.raises(ParameterError, match=r"'n_2'"):
        effect_sizes("OR", events_1=[1], n_1=[10], events_2=[1])


def test_input_the_measure_does_not_use_is_refused():
    with pytest.raises(ParameterError, match=r"'mean_1'"):
        effect_sizes("OR", mean_1=[1.0], **OK)


def test_mismatched_lengths():
    with pytest.raises(ParameterError, match=r"same length.*events_1=2.*n_2=3"):
        effect_sizes("OR", events_1=[1, 2], n_1=[10, 10], events_2=[1, 2], n_2=[10, 10, 10])


def test_events_above_n_names_position_and_values():
    with pytest.raises(ParameterError, match=r"'events_1'.*'n_1'.*position 1.*events_1=31.0 > n_1=30.0"):
        effect_sizes("RR", events_1=[1, 31], n_1=[10, 30], events_2=[1, 2], n_2=[10, 10])


@pytest.mark.parametrize("arg,value,expected", [
    ("n_1", -5, "sample size > 0"), ("n_1", 0, "sample size > 0"), ("events_2", -1, "count >= 0"),
])
def test_impossible_counts(arg, value, expected):
    kw = {k: list(v) for k, v in OK.items()}
    kw[arg][1] = value
    with pytest.raises(ParameterError, match=rf"'{arg}'.*{expected}.*position 1 is {float(value)!r}"):
        effect_sizes("OR", **kw)


def test_negative_sd():
    with pytest.raises(ParameterError, match=r"'sd_2'.*standard deviation >= 0.*position 0 is -1.0"):
        effect_sizes("MD", mean_1=[1], sd_1=[1], n_1=[10], mean_2=[0], sd_2=[-1], n_2=[10])


def test_correlation_outside_unit_interval():
    with pytest.raises(ParameterError, match=r"'r'.*\[-1, 1\].*position 1 is 1.5"):
        effect_sizes("ZCOR", r=[0.2, 1.5], n=[20, 20])


def test_non_numeric_names_position_and_value():
    with pytest.raises(ParameterError, match=r"'events_1'.*numeric; position 1 is 'NR'"):
        effect_sizes("OR", events_1=[4, "NR"], n_1=[10, 10], events_2=[1, 1], n_2=[10, 10])


def test_infinite_input_is_refused():
    with pytest.raises(ParameterError, match=r"'mean_1'.*finite.*position 0"):
        effect_sizes("MD", mean_1=[np.inf], sd_1=[1], n_1=[10], mean_2=[0], sd_2=[1], n_2=[10])


def test_vtype_allowed_per_measure():
    with pytest.raises(ParameterError, match=r"'vtype'.*\{'LS', 'UB', 'LS2', 'AV'\}.*'HO'"):
        effect_sizes("SMD", mean_1=[1], sd_1=[1], n_1=[10], mean_2=[0], sd_2=[1], n_2=[10], vtype="HO")


@pytest.mark.parametrize("kw,match", [
    (dict(to="some"), r"'to'.*'only0'"), (dict(add=-0.5), r"'add'.*>= 0"), (dict(drop00="yes"), r"'drop00'"),
])
def test_bad_options(kw, match):
    with pytest.raises(ParameterError, match=match):
        effect_sizes("OR", **OK, **kw)


def test_pandas_series_with_missing_values_are_accepted():
    res = effect_sizes("OR", events_1=pd.Series([4, None]), n_1=pd.Series([10, 10]),
                       events_2=pd.Series([1, 2]), n_2=pd.Series([10, 10]))
    assert np.isnan(res["effect"].iat[1]) and np.isfinite(res["effect"].iat[0])


# ---------------------------------------------------------------- registry

def test_registry_entries_are_complete():
    for code, m in MEASURES.items():
        assert m.code == code and m.label and m.doi and m.vtypes[0] == "LS"
        assert set(m.inputs) <= {"events_1", "n_1", "events_2", "n_2", "mean_1", "sd_1", "mean_2", "sd_2",
                                 "events", "n", "r", "time_1", "time_2"}


def test_registry_default_add_matches_metafor():
    # metafor escalc: add = 0 by default for AS, PHI, RTET, IRSD, PAS, PFT, IRS, IRFT
    assert {c for c, m in MEASURES.items() if m.default_add == 0} == {"AS", "PAS", "PFT"}


@pytest.mark.parametrize("code,p", [("PLO", 0.3), ("PAS", 0.3), ("PLN", 0.3), ("PR", 0.3)])
def test_proportion_back_transforms_invert_the_kernel(code, p):
    eff = effect_sizes(code, events=[30], n=[100])["effect"]
    assert get_measure(code).back_transform(eff)[0] == pytest.approx(p, rel=1e-12)


def test_pft_back_transform_needs_n_and_is_close():
    m = get_measure("PFT")
    eff = effect_sizes("PFT", events=[30], n=[100])["effect"]
    with pytest.raises(ParameterError, match="needs the sample size"):
        m.back_transform(eff)
    # Miller (1978) inverse is exact up to O(1/n^2): 30/100 back within 1e-3
    assert m.back_transform(eff, n=100)[0] == pytest.approx(0.3, abs=1e-3)


def test_axis_label_from_registry():
    assert get_measure("OR").axis_label == "Odds ratio (log scale)"
    assert get_measure("MD").axis_label == "Mean difference"


# ---------------------------------------------------------------- properties

TWO_GROUP_BINARY = [c for c, m in MEASURES.items() if m.kind == "binary"]
counts = st.integers(min_value=1, max_value=300).flatmap(
    lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=60, deadline=None)
@given(g1=counts, g2=counts, code=st.sampled_from(TWO_GROUP_BINARY), to=st.sampled_from(["only0", "all", "if0all"]))
def test_swapping_groups_negates_binary_effect(g1, g2, code, to):
    a = effect_sizes(code, events_1=[g1[0]], n_1=[g1[1]], events_2=[g2[0]], n_2=[g2[1]], to=to)
    b = effect_sizes(code, events_1=[g2[0]], n_1=[g2[1]], events_2=[g1[0]], n_2=[g1[1]], to=to)
    np.testing.assert_allclose(b["effect"], -a["effect"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b["variance"], a["variance"], rtol=1e-10, atol=0)


arm = st.tuples(st.floats(0.5, 100), st.floats(0.1, 30), st.integers(2, 500))


@settings(max_examples=60, deadline=None)
@given(g1=arm, g2=arm, code=st.sampled_from(["MD", "SMD", "ROM"]))
def test_swapping_groups_negates_continuous_effect(g1, g2, code):
    a = effect_sizes(code, mean_1=[g1[0]], sd_1=[g1[1]], n_1=[g1[2]], mean_2=[g2[0]], sd_2=[g2[1]], n_2=[g2[2]])
    b = effect_sizes(code, mean_1=[g2[0]], sd_1=[g2[1]], n_1=[g2[2]], mean_2=[g1[0]], sd_2=[g1[1]], n_2=[g1[2]])
    np.testing.assert_allclose(b["effect"], -a["effect"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b["variance"], a["variance"], rtol=1e-10, atol=0)


rate = st.tuples(st.integers(0, 200), st.floats(1, 1e4))


@settings(max_examples=40, deadline=None)
@given(g1=rate, g2=rate, code=st.sampled_from(["IRR", "IRD"]))
def test_swapping_groups_negates_rate_effect(g1, g2, code):
    a = effect_sizes(code, events_1=[g1[0]], time_1=[g1[1]], events_2=[g2[0]], time_2=[g2[1]])
    b = effect_sizes(code, events_1=[g2[0]], time_1=[g2[1]], events_2=[g1[0]], time_2=[g1[1]])
    np.testing.assert_allclose(b["effect"], -a["effect"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b["variance"], a["variance"], rtol=1e-10, atol=0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 50), st.integers(1, 50), st.integers(1, 50)),
                min_size=2, max_size=8), st.randoms(use_true_random=False))
def test_permuting_studies_permutes_results(rows, rnd):
    e1, extra1, e2, extra2 = (np.array(c) for c in zip(*rows))
    kw = dict(events_1=e1, n_1=e1 + extra1, events_2=e2, n_2=e2 + extra2)
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    a = effect_sizes("OR", **kw)
    b = effect_sizes("OR", **{k: v[perm] for k, v in kw.items()})
    np.testing.assert_allclose(b["effect"], a["effect"].to_numpy()[perm], rtol=1e-14)
