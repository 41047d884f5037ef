"""component_network: errors, identifiability, new combinations and cross-method identities.

Reference values are in test_nma_cnma_reference.py; here the behaviour netmeta defines without a
stored number (identifiability rules, NaN patterns) and identities that must hold exactly.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import netstrata
from netstrata import DataError, ParameterError
from netstrata.nma import ComponentIdentifiabilityWarning, ReconnectedNetworkNotice

from .test_nma_cnma_reference import data, fit


def table(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


def quiet(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.component_network(df, **kw)


# ----------------------------------------------------------------------------- clear errors
def test_cnma_inactive_not_in_network_names_it():
    with pytest.raises(DataError, match=r"inactive treatment 'plaecbo' is not a component.*did you mean 'Placebo'"):
        netstrata.component_network(data("face"), inactive="plaecbo")


def test_cnma_inactive_matches_ignoring_case():
    assert quiet(data("face"), inactive="PLACEBO").inactive == "Placebo"


def test_cnma_rank_deficient_c_matrix_names_inseparable_components():
    df = table([("s1", "A + B", "P", 0.5, 0.2), ("s2", "C", "P", 0.2, 0.2), ("s3", "A + B", "C", 0.3, 0.3)])
    with pytest.raises(DataError, match=r"components 'A', 'B' cannot be separated.*'A \+ B'") as err:
        netstrata.component_network(df, inactive="P")
    assert "C" not in err.value.problems[0].message.split("separated")[0].replace("components", "")


def test_cnma_interaction_with_unknown_component():
    with pytest.raises(DataError, match=r"component 'SSRJ' \(in 'Face-to-face PST\*SSRJ'\) is not a component"):
        netstrata.component_network(data("face"), inactive="placebo", interactions=["Face-to-face PST*SSRJ"])


def test_cnma_interaction_never_observed_cannot_be_identified():
    with pytest.raises(DataError, match=r"'TCA\*UC' can never be identified from the data"):
        netstrata.component_network(data("face"), inactive="placebo", interactions=["TCA*UC"])


def test_cnma_interaction_that_makes_c_rank_deficient_is_refused():
    """In the face subset SSRI also occurs alone, but PST + SSRI is the only treatment with both:
    an interaction there is separable; TCA*... is not observed; an interaction equal to a
    component column is not separable."""
    quiet(data("face"), inactive="placebo", interactions=["Face-to-face PST*SSRI"])
    df = table([("s1", "A + B", "P", 0.5, 0.2), ("s2", "A", "P", 0.2, 0.2), ("s3", "B", "P", 0.3, 0.3)])
    quiet(df, inactive="P", interactions=[("A", "B")])          # three treatments, three columns
    df2 = df[df["study"] != "s3"]
    with pytest.raises(DataError, match=r"'B', 'A\*B' cannot be separated"):
        netstrata.component_network(df2, inactive="P", interactions=["A*B"])


@pytest.mark.parametrize("bad,match", [
    (["SSRI"], "needs two or more"), ([3.5], "must list strings"), (["SSRI*SSRI*Placebo"], "inactive")])
def test_cnma_bad_interactions(bad, match):
    with pytest.raises((ParameterError, DataError), match=match):
        netstrata.component_network(data("face"), inactive="placebo", interactions=bad)


@pytest.mark.parametrize("kw,match", [({"sep": "++"}, "'sep' parameter"), ({"method": "PM"}, "'method' parameter"),
                                      ({"reference": "nope"}, "'reference' parameter")])
def test_cnma_bad_parameters(kw, match):
    with pytest.raises(ParameterError, match=match):
        netstrata.component_network(data("face"), **kw)


def test_cnma_contrast_problems_are_reported_like_network():
    df = data("face").copy()
    df = df[~((df["study"] == "16") & (df["treat1"] == "SSRI") & (df["treat2"] == "Face-to-face PST"))]
    with pytest.raises(DataError, match="study '16'"):
        netstrata.component_network(df)


# ----------------------------------------------------------------------------- interactions and new combinations
def test_cnma_interaction_as_explicit_treatment_list_equals_component_form():
    a = fit("netcomb_interaction")
    b = quiet(data("full"), inactive="placebo", interactions={"Face-to-face PST*SSRI": ["Face-to-face PST + SSRI"]})
    for model in ("common", "random"):
        cols = ["effect", "se", "ci_low", "ci_high", "z", "pvalue"]
        assert_allclose(b.component_effects(model)[cols], a.component_effects(model)[cols], rtol=1e-12, atol=1e-14)
    assert b.q == pytest.approx(a.q, rel=1e-12)


def test_cnma_new_combination_is_the_sum_of_its_components():
    f = fit("netcomb_additive")
    for model in ("common", "random"):
        comp = f.component_effects(model)
        cov = f.laplacian_pinv(model)
        new = f.combination("Face-to-face PST + TCA", model)
        a, b = "Face-to-face PST", "TCA"
        assert new["effect"] == pytest.approx(comp.loc[a, "effect"] + comp.loc[b, "effect"], rel=1e-12)
        var = cov.loc[a, a] + cov.loc[b, b] + 2 * cov.loc[a, b]
        assert new["se"] == pytest.approx(np.sqrt(var), rel=1e-12)
        # an existing treatment label (any spacing, any order) gives its Comb row
        same = f.combination("SSRI+Face-to-face CBT", model)
        assert same["effect"] == pytest.approx(f.combination_effects(model).loc["Face-to-face CBT + SSRI", "effect"],
                                               rel=1e-12)
        diff = f.combination("Face-to-face CBT + SSRI", model, versus="SSRI")
        assert diff["effect"] == pytest.approx(comp.loc["Face-to-face CBT", "effect"], rel=1e-12)
        assert diff["se"] == pytest.approx(comp.loc["Face-to-face CBT", "se"], rel=1e-12)


def test_cnma_new_combination_with_unknown_component():
    with pytest.raises(DataError, match="'Yoga' .* is not a component"):
        fit("netcomb_additive").combination("SSRI + Yoga")


def test_cnma_interaction_applies_to_new_combination_with_both_components():
    f = fit("netcomb_interaction")
    comp = f.component_effects("common")["effect"]
    new = f.combination("Face-to-face PST + SSRI + TCA", "common")
    want = comp["Face-to-face PST"] + comp["SSRI"] + comp["TCA"] + comp["Face-to-face PST*SSRI"]
    assert new["effect"] == pytest.approx(want, rel=1e-12)


# ----------------------------------------------------------------------------- identifiability
def test_cnma_connected_unidentifiable_components_are_nan_with_warning():
    """No inactive component and no combination: only differences are identified (netmeta warns
    and sets every component and combination to NA); league tables equal the standard model's."""
    df = data("face")
    df = df[~df["treat1"].str.contains(r"\+") & ~df["treat2"].str.contains(r"\+")]
    with pytest.warns(ComponentIdentifiabilityWarning, match="'Face-to-face PST', 'Placebo', 'SSRI', 'TCA', 'UC'"):
        f = netstrata.component_network(df)
    assert f.unidentifiable == f.components == f.not_identifiable
    assert f.component_effects("common")["effect"].isna().all()
    assert not f.component_effects("common")["identifiable"].any()
    assert f.combination_effects("random")["effect"].isna().all()
    for model in ("common", "random"):
        assert_allclose(f.league(model), f.standard.league(model), rtol=1e-10, atol=1e-12)
    assert f.estimable().to_numpy().all()
    with pytest.raises(DataError, match="not identifiable"):
        f.combination("SSRI")


def test_cnma_discomb_component_never_contrasted_is_nan():
    """discomb: a component whose X column is zero (B occurs on both sides of every comparison it
    is in) is NA, with every combination containing it, and their league rows and columns."""
    df = table([("s1", "A", "P", 0.5, 0.2), ("s2", "B + C", "B", 0.3, 0.25), ("s3", "A", "P", 0.4, 0.3)])
    with pytest.warns(ReconnectedNetworkNotice):
        with pytest.warns(ComponentIdentifiabilityWarning, match="'B'"):
            f = netstrata.component_network(df, inactive="P")
    assert f.kind == "discomb" and f.unidentifiable == ("B",) and set(f.na_treatments) == {"B", "B + C"}
    eff = f.component_effects("common")["effect"]
    assert np.isnan(eff["B"]) and eff["A"] == pytest.approx(
        (0.5 / 0.04 + 0.4 / 0.09) / (1 / 0.04 + 1 / 0.09), rel=1e-12) and eff["C"] == pytest.approx(0.3, rel=1e-12)
    league = f.league("common")
    assert league.loc["B"].isna().all() and league["B + C"].isna().all()
    assert league.loc["A", "P"] == pytest.approx(eff["A"], rel=1e-12)


def test_cnma_discomb_reconnects_through_a_shared_component():
    """Two sub-networks {P, A, A + C} and {B, B + C}: C links them (A vs B = A - B, identified)."""
    df = table([("s1", "A", "P", 0.5, 0.2), ("s2", "A + C", "A", 0.3, 0.25), ("s3", "B + C", "B", 0.35, 0.2),
                ("s4", "B", "P", 0.1, 0.3), ("s5", "A + C", "P", 0.7, 0.3)])
    split = df[df["study"] != "s4"]
    with pytest.warns(ReconnectedNetworkNotice, match="2 sub-networks"):
        with pytest.warns(ComponentIdentifiabilityWarning, match="'B'"):
            f = netstrata.component_network(split, inactive="P")
    assert f.kind == "discomb" and not f.is_connected and f.standard is None
    assert {frozenset(s) for s in f.subnetworks} == {frozenset({"A", "A + C", "P"}), frozenset({"B", "B + C"})}
    # B is only ever compared with B + C, so B alone is not identified (warned, kept as netmeta does)
    assert "B" in f.not_identifiable and f.unidentifiable == ("B",)
    est = f.estimable()
    assert est.loc["A + C", "A"] and not est.loc["A", "B + C"]
    comp = f.component_effects("random")
    assert np.isfinite(comp.loc["C", "effect"])
    assert dict(comp["identifiable"]) == {"A": True, "B": False, "C": True}
    combos = f.combination_effects("random")["identifiable"]
    assert dict(combos) == {"A": True, "A + C": True, "B": False, "B + C": False, "P": True}


# ----------------------------------------------------------------------------- identities
def test_cnma_without_combinations_equals_standard_nma():
    """No combination treatments and an inactive reference: the additive model is the standard
    network model (X = B without the reference column); Q_diff = 0 on 0 df."""
    df = data("full")
    df = df[~df["treat1"].str.contains(r"\+") & ~df["treat2"].str.contains(r"\+")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = netstrata.component_network(df, inactive="placebo", reference="placebo")
        net = netstrata.network(df, reference="Placebo")
    for model in ("common", "random"):
        assert_allclose(f.league(model), net.league(model), rtol=1e-10, atol=1e-12)
        assert_allclose(f.league_se(model), net.league_se(model), rtol=1e-10, atol=1e-12)
        est = net.estimates(model)
        assert_allclose(f.combination_effects(model)[["effect", "se"]], est[["effect", "se"]], rtol=1e-10, atol=1e-12)
    assert f.q == pytest.approx(net.q, rel=1e-12) and f.q_df == net.q_df
    assert f.tau2 == pytest.approx(net.tau2, rel=1e-10)
    assert f.q_diff == 0 and f.q_diff_df == 0 and np.isnan(f.q_diff_pvalue)
    assert f.additivity_rejected is None


def test_cnma_q_diff_is_q_difference_and_reported():
    f = fit("netcomb_additive")
    assert f.q_diff == pytest.approx(f.q - f.standard.q, rel=1e-12)
    assert f.additivity_rejected is False
    text = f.summary("random").as_text()
    assert "Additivity is not rejected at the 5% level" in text and "Q_diff = 6.6715 on 3 df" in text


def test_cnma_result_is_frozen_and_repr():
    f = fit("netcomb_face_additive")
    with pytest.raises(AttributeError):
        f.tau2 = 0
    assert repr(f).startswith("ComponentNetworkResult(kind='netcomb', k=4, treatments=6, components=4")
    d = f.to_dict()
    assert d["kind"] == "netcomb" and [r["name"] for r in d["component_effects"]["random"]] == list(f.components)


def test_cnma_lazy_exports():
    import netstrata.nma
    assert netstrata.component_network is netstrata.nma.component_network
    assert "component_network" in dir(netstrata)
