"""Evidence layers (issue 9): RCT-only, NRS-only and explicitly combined results side by side.

R parity: the ``moderator`` approach is metafor's ``rma(yi, vi, mods = ~ factor(design))``; the
``downweight`` approach with inflation 1 and shift 0 (and the ``subgroup`` approach's overall row)
is metafor's ``rma(yi, vi)`` on all studies. Both are checked against metafor 3.8-1 numbers.
hackshaw1998 has a two-level ``design`` factor (case-control, cohort): R's reference level is
'case-control' (sorted first), so it is relabelled "RCT" and 'cohort' "NRS_comparative". This is
only a relabelling to reach R's numbers; the studies are all observational.
"""
from __future__ import annotations

import dataclasses
import doctest
import importlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from netstrata.errors import ParameterError, StatisticalWarning
from netstrata.ma import meta_regression, pairwise, subgroups
import pandas as pd

from netstrata.data.spec import DESIGNS
from netstrata.ma.layers import (DESIGN_CODES, LAYER_APPROACHES, LayeredResult, combine_layers,
                                 combine_layers_frame, layer_spec)
from netstrata.ma.layers.fit import CERTAINTY, NO_NRS, NO_RCT
from .reference import load, table
from .test_ma_data import analyses, effects, ref_value, rtol_for

# Example data (metafor's dat.bcg log risk ratios, shortened) with designs assigned for the tests.
Y = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01])
V = np.array([0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004])
D = np.array(["RCT", "RCT", "RCT", "RCT", "NRS_comparative", "NRS_comparative", "RCT", "NRS_comparative"])
RCT, NRS = D == "RCT", D == "NRS_comparative"
APPROACHES = [("separate", {}), ("subgroup", {}), ("subgroup", {"common_tau2": True}), ("moderator", {}),
              ("downweight", {"inflation": 3.0, "shift": 0.1})]


def _designs(ds: str) -> np.ndarray:
    """Design labels for a reference dataset (see the module docstring)."""
    t = table("pairwise", ds)
    if ds == "hackshaw1998":
        return np.where(t["design"] == "case-control", "RCT", "NRS_comparative")
    return np.where(t["alloc"] == "random", "RCT", "NRS_comparative")  # bcg: random vs other allocation


# ----------------------------------------------------------------------------- parity with metafor

MODERATOR = [name for ds, name in analyses("metareg_design_") if ds == "hackshaw1998"]


@pytest.mark.parametrize("name", MODERATOR)
def test_layers_moderator_hackshaw1998_design_metareg_equals_metafor(name):
    a = load("pairwise", "hackshaw1998")["analyses"][name]
    s, ref = a["settings"], a["result"]
    y, v = effects("hackshaw1998")
    res = combine_layers(y, v, _designs("hackshaw1998"), approach="moderator", method=s["method"],
                         ci="hksj" if s["test"] == "knha" else "wald")
    tol = rtol_for(s["method"])
    reg, c = res.regression, res.comparison
    assert reg.names == ("intercept", "design[NRS_comparative]")
    for attr, key in [("coef", "estimate"), ("se", "se"), ("ci_low", "ci.lb"), ("ci_high", "ci.ub"),
                      ("pvalue", "pval"), ("tau2", "tau2"), ("q", "QE"), ("qm", "QM"), ("qm_pvalue", "QMp")]:
        assert_allclose(np.atleast_1d(getattr(reg, attr)), ref_value(ref, key), rtol=tol, err_msg=attr)
    # design coefficient = NRS - RCT difference; intercept = RCT-level (combined) estimate
    assert_allclose([c.difference, c.se, c.ci_low, c.ci_high, c.pvalue, c.q, c.q_pvalue],
                    [ref_value(ref, k)[i] for k, i in [("estimate", 1), ("se", 1), ("ci.lb", 1), ("ci.ub", 1),
                                                       ("pval", 1), ("QM", 0), ("QMp", 0)]], rtol=tol)
    assert_allclose([res.combined.estimate, res.combined.se, res.combined.ci_low, res.combined.ci_high,
                     res.combined.tau2], [ref_value(ref, "estimate")[0], ref_value(ref, "se")[0],
                                          ref_value(ref, "ci.lb")[0], ref_value(ref, "ci.ub")[0],
                                          ref_value(ref, "tau2")[0]], rtol=tol)
    vc = ref_value(ref, "vcov").reshape(2, 2)
    assert_allclose(c.nrs_se, np.sqrt(vc[0, 0] + vc[1, 1] + 2 * vc[0, 1]), rtol=tol)
    if s["test"] == "knha":
        assert c.df == res.combined.df == ref["dfs"] == 35


POOLED = [(ds, name) for ds, name in analyses("rma_") if ds in ("bcg", "hackshaw1998")]
POOLED_QUANTITIES = [("estimate", "estimate"), ("se", "se"), ("ci_low", "ci.lb"), ("ci_high", "ci.ub"),
                     ("pvalue", "pval"), ("tau2", "tau2"), ("i2", "I2"), ("q", "QE")]


@pytest.mark.parametrize("ds,name", POOLED)
def test_layers_downweight_inflation1_and_subgroup_overall_equal_metafor_rma(ds, name):
    a = load("pairwise", ds)["analyses"][name]
    s, ref = a["settings"], a["result"]
    y, v = effects(ds)
    kw = dict(method=s["method"], ci="hksj" if s["test"] == "knha" else "wald")
    dw = combine_layers(y, v, _designs(ds), approach="downweight", inflation=1, shift=0, **kw)
    sg = combine_layers(y, v, _designs(ds), approach="subgroup", **kw)
    tol = rtol_for(s["method"])
    for res in (dw, sg):
        got = [getattr(res.combined, attr) for attr, _ in POOLED_QUANTITIES]
        assert_allclose(got, [ref_value(ref, key)[0] for _, key in POOLED_QUANTITIES], rtol=tol)
        # weights come back in analysis order; res.order maps them to the input rows
        assert_allclose(res.combined.weights, ref_value(ref, "weights_percent")[res.order], rtol=tol)


# ----------------------------------------------------------------------------- identities

@pytest.mark.parametrize("method", ["REML", "DL", "FE", "PM"])
def test_layers_rct_and_nrs_layers_equal_separate_pairwise_fits(method):
    res = combine_layers(Y, V, D, method=method)
    for got, mask in ((res.rct, RCT), (res.nrs, NRS)):
        alone = pairwise(Y[mask], V[mask], method=method)
        assert_allclose([got.estimate, got.se, got.tau2, got.q], [alone.estimate, alone.se, alone.tau2, alone.q],
                        rtol=1e-12)
        assert got.k == mask.sum()


@pytest.mark.parametrize("method", ["REML", "DL", "ML", "FE"])
def test_layers_downweight_inflation1_shift0_equals_pooling_all(method):
    res = combine_layers(Y, V, D, approach="downweight", inflation=1.0, shift=0.0, method=method)
    every = pairwise(Y, V, method=method)
    assert_allclose([res.combined.estimate, res.combined.se, res.combined.tau2, res.combined.pi_low],
                    [every.estimate, every.se, every.tau2, every.pi_low], rtol=1e-12)
    assert res.combined.k == Y.size


def test_layers_downweight_shift_is_subtracted_from_nrs_effects_only():
    res = combine_layers(Y, V, D, approach="downweight", inflation=1.0, shift=0.3, method="DL")
    by_hand = pairwise(np.where(NRS, Y - 0.3, Y), V, method="DL")
    assert_allclose([res.combined.estimate, res.combined.tau2], [by_hand.estimate, by_hand.tau2], rtol=1e-12)
    assert res.combined.estimate < combine_layers(Y, V, D, approach="downweight", inflation=1.0,
                                                  method="DL").combined.estimate


def test_layers_downweight_inflation_multiplies_nrs_variances():
    res = combine_layers(Y, V, D, approach="downweight", inflation=5.0, method="REML")
    by_hand = pairwise(Y, np.where(NRS, 5.0 * V, V), method="REML")
    assert_allclose([res.combined.estimate, res.combined.se, res.combined.tau2],
                    [by_hand.estimate, by_hand.se, by_hand.tau2], rtol=1e-12)


# REML/ML: the likelihood tends to the RCT-only one, but Fisher scoring starts from the HE
# estimate, which does count the down-weighted studies, so both fits stop on metafor's rule
# (change in tau2 < 1e-5) at slightly different iterates: agreement to ~1e-6, not to rounding.
@pytest.mark.parametrize("method,rtol", [("FE", 1e-9), ("REML", 1e-5), ("ML", 1e-5)])
def test_layers_downweight_bcg_infinite_inflation_tends_to_rct_only(method, rtol):
    y, v = effects("bcg")
    d = _designs("bcg")
    rct = combine_layers(y, v, d, method=method).rct
    assert method == "FE" or rct.tau2 > 0.3  # a heterogeneous RCT layer: the limit is not trivial
    gaps = [abs(combine_layers(y, v, d, approach="downweight", inflation=f, method=method).combined.estimate
                - rct.estimate) for f in (1.0, 1e2, 1e4)]
    assert gaps == sorted(gaps, reverse=True)
    res = combine_layers(y, v, d, approach="downweight", inflation=1e12, method=method)
    assert_allclose(res.combined.estimate, rct.estimate, rtol=rtol)
    assert_allclose(res.combined.se, rct.se, rtol=10 * rtol)
    assert_allclose(res.combined.tau2, rct.tau2, atol=1e-5)


def test_layers_downweight_ml_limit_can_stop_at_another_local_maximum():
    """Documented: when the RCT-only ML likelihood has a boundary and an interior maximum, the
    down-weighted fit (HE start = 0) stays at tau2 = 0 while the RCT-only fit (HE start > 0)
    finds the interior one, as metafor's algorithm would."""
    y, v = Y.copy(), V.copy()
    v[RCT] = v[RCT] / 10
    rct = combine_layers(y, v, D, method="ML").rct
    res = combine_layers(y, v, D, approach="downweight", inflation=1e12, method="ML")
    assert rct.tau2 > 0.02 and res.combined.tau2 == 0.0
    assert rct.fit.ll_ml > pairwise(y[RCT], v[RCT], method="FE").fit.ll_ml  # interior maximum is higher


def test_layers_downweight_dl_limit_keeps_the_nrs_degrees_of_freedom():
    """Documented: DL's tau2 tends to max(0, (Q_rct - (k_all - 1)) / c_rct), not the RCT-only DL."""
    y, v = Y.copy(), V.copy()
    v[RCT] = v[RCT] / 10  # make the RCT layer heterogeneous enough for a positive limit
    res = combine_layers(y, v, D, approach="downweight", inflation=1e12, method="DL")
    rct = pairwise(y[RCT], v[RCT], method="FE")
    w = 1 / v[RCT]
    limit = max(0.0, (rct.q - (y.size - 1)) / (w.sum() - (w @ w) / w.sum()))
    assert_allclose(res.combined.tau2, limit, rtol=1e-8, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Knapp-Hartung method is not meant:netstrata.errors.StatisticalWarning")
@pytest.mark.parametrize("method", ["REML", "DL", "FE"])
@pytest.mark.parametrize("ci", ["wald", "hksj"])
def test_layers_subgroup_per_design_estimates_equal_separate_fits(method, ci):
    res = combine_layers(Y, V, D, approach="subgroup", method=method, ci=ci)
    c = res.comparison
    assert c.tau2_model == "separate"
    assert (c.rct_estimate, c.nrs_estimate) == (res.rct.estimate, res.nrs.estimate)
    assert (c.rct_se, c.nrs_se) == (res.rct.se, res.nrs.se)
    sg = subgroups(Y, V, D, method=method, ci=ci)  # levels sorted: NRS_comparative, RCT
    assert_allclose([sg["RCT"].estimate, sg["NRS_comparative"].estimate], [c.rct_estimate, c.nrs_estimate],
                    rtol=1e-12)
    # Q-between (1 df) is the squared z of the difference and the FE Q of the two estimates
    assert_allclose(c.q, (c.difference / c.se) ** 2, rtol=1e-12)
    fe = pairwise([c.rct_estimate, c.nrs_estimate], [c.rct_se ** 2, c.nrs_se ** 2], method="FE")
    assert_allclose([c.q, c.q_pvalue, c.pvalue], [fe.q, fe.q_pvalue, fe.q_pvalue], rtol=1e-10)


@pytest.mark.parametrize("method", ["REML", "DL", "ML"])
@pytest.mark.parametrize("ci", ["wald", "hksj"])
def test_layers_subgroup_common_tau2_equals_moderator_and_no_intercept_metareg(method, ci):
    sg = combine_layers(Y, V, D, approach="subgroup", common_tau2=True, method=method, ci=ci)
    mod = combine_layers(Y, V, D, approach="moderator", method=method, ci=ci)
    assert dataclasses.astuple(sg.comparison) == dataclasses.astuple(mod.comparison)
    cell = meta_regression(Y, V, {"design": D}, method=method, ci=ci, intercept=False)  # one mean per design
    assert cell.names == ("design[NRS_comparative]", "design[RCT]")
    c = sg.comparison
    assert c.tau2_model == "common"
    for attr in ("estimate", "se", "ci_low", "ci_high"):
        assert_allclose([getattr(c, f"nrs_{attr}"), getattr(c, f"rct_{attr}")],
                        getattr(cell, "coef" if attr == "estimate" else attr), rtol=1e-8, err_msg=attr)
    assert_allclose(c.rct_estimate, mod.combined.estimate, rtol=1e-12)
    frame = sg.to_frame()
    assert frame.loc["randomised (RCT), common tau2", "ci_high"] == c.rct_ci_high


@pytest.mark.parametrize("approach,kw", APPROACHES)
@pytest.mark.parametrize("labels", [False, True])
def test_layers_study_order_changes_nothing(approach, kw, labels):
    rng = np.random.default_rng(9)
    names = np.array([f"S{i}" for i in range(Y.size)])
    base = combine_layers(Y, V, D, approach=approach, study=names if labels else None, **kw)
    for _ in range(5):
        p = rng.permutation(Y.size)
        res = combine_layers(Y[p], V[p], D[p], approach=approach, study=names[p] if labels else None, **kw)
        assert res.to_frame().equals(base.to_frame())  # bit for bit
        assert res.design == base.design
        if labels:
            assert res.study == base.study
        assert np.array_equal(p[res.order], base.order)


# ----------------------------------------------------------------------------- the rules of issue 9

@pytest.mark.parametrize("approach,kw", APPROACHES)
def test_layers_no_rct_gives_no_combined_and_an_observational_fallback(approach, kw):
    res = combine_layers(Y[NRS], V[NRS], D[NRS], approach=approach, **kw)
    assert res.rct is None and res.rct_reason == NO_RCT
    assert res.combined is None and res.combined_reason
    assert res.nrs is not None and res.primary is res.nrs
    assert res.fallback == "nrs"
    assert res.certainty_note == "observational evidence only: start at Low (GRADE)"
    assert res.layers == ("nrs",)
    assert "fallback='nrs'" in repr(res)
    assert any("observational" in n for n in res.summary().notes)


@pytest.mark.parametrize("approach,kw", APPROACHES)
def test_layers_no_nrs_gives_the_rct_layer_alone(approach, kw):
    res = combine_layers(Y[RCT], V[RCT], D[RCT], approach=approach, **kw)
    assert res.nrs is None and res.nrs_reason == NO_NRS
    assert res.combined is None and res.combined_reason
    assert res.fallback is None and res.primary is res.rct
    assert res.certainty_note == CERTAINTY["rct"]


def test_layers_combined_without_rct_cannot_be_constructed():
    res = combine_layers(Y, V, D, approach="downweight", inflation=2)
    with pytest.raises(ValueError, match="randomised-only"):
        dataclasses.replace(res, rct=None)


@pytest.mark.parametrize("approach,kw", APPROACHES)
def test_layers_combined_present_exactly_when_requested(approach, kw):
    res = combine_layers(Y, V, D, approach=approach, **kw)
    assert (res.combined is not None) == (approach != "separate")
    assert res.rct is not None and res.nrs is not None
    assert res.approach == approach
    assert set(res.parameters) == set(LAYER_APPROACHES[approach].parameters)


def test_layers_summary_shows_all_layers_in_one_table():
    res = combine_layers(Y, V, D, approach="subgroup", study=[f"S{i}" for i in range(8)])
    s = res.summary()
    frame = s.to_frame()
    assert list(frame.index) == ["randomised (RCT)", "non-randomised comparative (NRS)",
                                 "difference (NRS - RCT)", "combined (subgroup)"]
    assert list(frame["k"]) == [5, 3, 8, 8]
    assert res.subgroup.levels == ("RCT", "NRS_comparative")
    assert frame.loc["randomised (RCT)", "estimate"] == res.rct.estimate
    assert frame.loc["combined (subgroup)", "tau2"] == res.combined.tau2
    assert "doi:10.1007/s11121-013-0377-7" in s.as_text()
    assert "<table" in s.as_html()
    sep = combine_layers(Y, V, D).to_frame()
    assert np.isnan(sep.loc["combined (separate)", "estimate"])
    assert "not combined" in sep.loc["combined (separate)", "note"]


def test_layers_repr_is_one_line_naming_the_layers_present():
    res = combine_layers(Y, V, D, approach="moderator", method="DL")
    text = repr(res)
    assert "\n" not in text
    assert text.startswith("LayeredResult(approach='moderator', layers=('rct', 'nrs', 'combined'), rct=")
    assert f"combined={res.combined.estimate:.4f}" in text
    assert "nrs=" not in repr(combine_layers(Y[RCT], V[RCT], D[RCT]))


def test_layers_summary_flags_a_layer_whose_tau2_did_not_converge():
    res = combine_layers(Y, V, D, approach="downweight", inflation=2)
    bad = dataclasses.replace(res, nrs=dataclasses.replace(res.nrs, converged=False))
    notes = bad.summary().notes
    assert any("did not converge for the non-randomised" in n for n in notes)
    assert not any("did not converge" in n for n in res.summary().notes)


def test_layers_downweight_fit_keeps_the_adjusted_data():
    res = combine_layers(Y, V, D, approach="downweight", inflation=2, shift=0.5)
    nrs = np.array(res.design) == "NRS_comparative"
    assert_allclose(res.combined.fit.y, np.where(nrs, Y[res.order] - 0.5, Y[res.order]), rtol=1e-15)
    assert_allclose(res.combined.fit.v, np.where(nrs, 2 * V[res.order], V[res.order]), rtol=1e-15)


def test_layers_result_is_frozen():
    res = combine_layers(Y, V, D)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.approach = "downweight"


def test_layers_moderator_too_few_studies_reports_why():
    # one RCT and one NRS: two coefficients and tau2 from two studies (metafor refuses too)
    with pytest.warns(StatisticalWarning, match="only 1 study"):
        res = combine_layers(Y[[0, 4]], V[[0, 4]], D[[0, 4]], approach="moderator")
    assert res.combined is None and "cannot be fitted" in res.combined_reason
    assert "larger than the number of studies" in res.combined_reason
    assert res.rct is not None and res.nrs is not None
    with pytest.warns(StatisticalWarning, match="only 1 study"):
        res = combine_layers(Y[[0, 4]], V[[0, 4]], D[[0, 4]], approach="subgroup", common_tau2=True)
    assert res.combined is not None and res.comparison is None
    assert any("cannot be fitted" in n for n in res.notes)


def test_layers_single_study_layer_warns_as_pairwise():
    with pytest.warns(StatisticalWarning, match="only 1 study"):
        res = combine_layers(Y[[0, 1, 4]], V[[0, 1, 4]], D[[0, 1, 4]], approach="downweight", inflation=2)
    assert res.nrs.k == 1 and res.nrs.tau2 == 0.0


def test_layers_registry_entries_cite_a_doi():
    assert set(LAYER_APPROACHES) == {"separate", "subgroup", "moderator", "downweight"}
    for entry in LAYER_APPROACHES.values():
        assert entry.doi.startswith("10.") and entry.reference and entry.label
    assert DESIGN_CODES == ("RCT", "NRS_comparative")
    # a new comparative design in the data layer must be placed in a layer here on purpose
    assert set(DESIGN_CODES) == {c for c, d in DESIGNS.items() if d.comparative}


def test_layers_frame_of_one_comparison_equals_the_array_call():
    frame = pd.DataFrame({"study": [f"S{i}" for i in range(8)], "effect": Y, "se": np.sqrt(V), "design": D})
    got = combine_layers_frame(frame, layer_spec("downweight", inflation=2, shift=0.1), method="DL")
    want = combine_layers(Y, V, D, approach="downweight", inflation=2, shift=0.1, method="DL",
                          study=frame["study"])
    assert_allclose(got.to_frame()[["estimate", "se", "tau2"]].to_numpy(float),
                    want.to_frame()[["estimate", "se", "tau2"]].to_numpy(float), rtol=1e-12, equal_nan=True)
    assert got.study == want.study
    assert combine_layers_frame(frame.rename(columns={"se": "x"}).assign(variance=V)).approach == "separate"
    with pytest.raises(ParameterError, match="lacks the columns"):
        combine_layers_frame(frame.drop(columns=["se"]))


# ----------------------------------------------------------------------------- refusals

def test_layers_single_arm_refused_with_the_outcome_rate_layer_named():
    d = D.copy().astype(object)
    d[2] = "single_arm"
    with pytest.raises(ParameterError, match="single-arm outcome rates are a separate outcome-rate layer"):
        combine_layers(Y, V, d)


def test_layers_downweight_without_inflation_names_the_argument():
    with pytest.raises(ParameterError, match="'inflation' parameter of combine_layers is required"):
        combine_layers(Y, V, D, approach="downweight")
    with pytest.raises(ParameterError, match="'inflation' parameter of combine_layers is required"):
        combine_layers(Y, V, D, approach="downweight", shift=0.2)


@pytest.mark.parametrize("bad", [0.5, float("nan"), float("inf"), "2", True])
def test_layers_bad_inflation_refused(bad):
    with pytest.raises(ParameterError, match="'inflation' parameter"):
        combine_layers(Y, V, D, approach="downweight", inflation=bad)


@pytest.mark.parametrize("approach,kw,name", [
    ("separate", {"inflation": 2}, "inflation"), ("subgroup", {"shift": 0.1}, "shift"),
    ("moderator", {"common_tau2": True}, "common_tau2"), ("downweight", {"inflation": 2, "common_tau2": True},
                                                          "common_tau2")])
def test_layers_parameter_of_another_approach_refused(approach, kw, name):
    with pytest.raises(ParameterError, match=f"'{name}' parameter of combine_layers is only used"):
        combine_layers(Y, V, D, approach=approach, **kw)


def test_layers_bad_arguments_refused():
    with pytest.raises(ParameterError, match="'approach'.*Did you mean 'subgroup'"):
        combine_layers(Y, V, D, approach="subgrup")
    with pytest.raises(ParameterError, match="position 1 is 'cohort'"):
        combine_layers(Y, V, ["RCT", "cohort"] + list(D[2:]))
    with pytest.raises(ParameterError, match="same length"):
        combine_layers(Y, V, D[:3])
    with pytest.raises(ParameterError, match="same length"):
        combine_layers(Y, V, "RCT")
    with pytest.raises(ParameterError, match="repeated"):
        combine_layers(Y, V, D, study=["a"] * 8)
    with pytest.raises(ParameterError, match="'method'"):
        combine_layers(Y, V, D, method="reml2")
    with pytest.raises(ParameterError, match="'shift' parameter"):
        combine_layers(Y, V, D, approach="downweight", inflation=2, shift=float("nan"))


def test_layer_spec_validates_once_for_a_plan():
    assert layer_spec("DOWNWEIGHT", inflation=2).approach == "downweight"
    assert layer_spec("downweight", inflation=2).shift == 0.0
    assert layer_spec().approach == "separate"
    with pytest.raises(ParameterError, match="'inflation' parameter of layer_spec is required"):
        layer_spec("downweight")


def test_layers_design_labels_are_case_insensitive_and_kept():
    res = combine_layers(Y, V, [d.lower() for d in D])
    assert set(res.design) == {"RCT", "NRS_comparative"}
    assert isinstance(res, LayeredResult)


@pytest.mark.parametrize("name", ["netstrata.ma.layers.combine"])
def test_layers_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
