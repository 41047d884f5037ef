"""netrank (P-scores), decomp.design and netmeasures parity with netmeta 2.9-0.

All closed form given the fit: DL at rtol 1e-10; on REML fits rtol 1e-6 (R's nlminb tau², see
test_nma_netmeta.py).  Values that are zero in exact arithmetic (e.g. residuals of designs that
are fitted perfectly) carry an absolute floor of 1e-10.
"""
from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from .reference import num
from .test_nma_data import FITTED, fit, result

RANKS = [("netrank_desirable", "DL", "desirable"), ("netrank_undesirable", "DL", "undesirable"),
         ("netrank_REML_desirable", "REML", "desirable")]


@pytest.mark.parametrize("name", FITTED)
@pytest.mark.parametrize("analysis,method,sv", RANKS, ids=[r[0] for r in RANKS])
@pytest.mark.parametrize("model", ["common", "random"])
def test_netrank_pscore(name, analysis, method, sv, model):
    want = num(result(name, analysis)[f"ranking.{model}"])
    got = fit(name, method).p_scores(model, small_values=sv).loc[want.index]
    tol = dict(rtol=1e-10, atol=1e-13) if method == "DL" else dict(rtol=1e-6, atol=1e-7)
    assert_allclose(got.to_numpy(), want.to_numpy(), **tol)


@pytest.mark.parametrize("name", FITTED)
def test_netrank_pscores_of_a_fit_default_direction(name):
    f = fit(name)
    assert_allclose(f.p_scores("random"), f.p_scores("random", small_values="desirable"))
    assert_allclose(f.p_scores("random") + f.p_scores("random", small_values="undesirable"), 1.0)


def _decomp(name):
    return fit(name).decomp_design(), result(name, "decomp.design")


@pytest.mark.parametrize("name", FITTED)
def test_decomp_design_q_decomp(name):
    d, r = _decomp(name)
    assert_allclose(d.q_decomp["q"], r["Q.decomp"]["Q"], rtol=1e-10, atol=1e-10)
    assert list(d.q_decomp["df"]) == r["Q.decomp"]["df"]
    assert_allclose(d.q_decomp["pvalue"], num(r["Q.decomp"]["pval"]), rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("name", FITTED)
@pytest.mark.parametrize("part,rpart", [("q_het_design", "Q.het.design"), ("q_inc_detach", "Q.inc.detach")])
def test_decomp_design_per_design(name, part, rpart):
    d, r = _decomp(name)
    got, want = getattr(d, part), r[rpart]
    assert list(got["design"]) == want["design"]
    assert list(got["df"]) == want["df"]
    assert_allclose(got["q"], num(want["Q"]), rtol=1e-10, atol=1e-10)
    assert_allclose(got["pvalue"], num(want["pval"]), rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", FITTED)
def test_decomp_design_q_inc_design(name):
    d, r = _decomp(name)
    want = num(r["Q.inc.design"])
    assert list(d.q_inc_design.index) == list(want.index)
    assert_allclose(d.q_inc_design, want, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", FITTED)
def test_decomp_design_q_inc_random(name):
    d, r = _decomp(name)
    want = r["Q.inc.random"]
    got = d.q_inc_random.iloc[0]
    assert_allclose([got["q"], got["pvalue"], got["tau_within"]],
                    [want["Q"][0], want["pval"][0], want["tau.within"][0]], rtol=1e-10, atol=1e-12)
    assert got["df"] == want["df"][0]


@pytest.mark.parametrize("name", FITTED)
def test_decomp_design_residuals_inc_detach(name):
    d, r = _decomp(name)
    want = num(r["residuals.inc.detach"])
    got = d.residuals_inc_detach
    assert list(got.index) == list(want.index) and list(got.columns) == list(want.columns)
    assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-10, equal_nan=True)


@pytest.mark.parametrize("name", FITTED)
def test_decomp_totals_agree_with_fit(name):
    f = fit(name)
    d = f.decomp_design()
    assert_allclose(d.q_decomp["q"].iloc[0], f.q, rtol=1e-10)
    assert_allclose(d.q_decomp["q"].iloc[1] + d.q_decomp["q"].iloc[2], f.q, rtol=1e-10)


MEASURES = [("proportion", "proportion"), ("meanpath", "meanpath"), ("minpar", "minpar"),
            ("minpar_study", "minpar.study")]


@pytest.mark.parametrize("name", FITTED)
@pytest.mark.parametrize("model", ["common", "random"])
@pytest.mark.parametrize("attr,rname", MEASURES, ids=[m[1] for m in MEASURES])
def test_netmeasures(name, model, attr, rname):
    want = num(result(name, f"netmeasures_{model}")[rname])
    got = getattr(fit(name).netmeasures(model), attr)
    assert list(got.index) == list(want.index)
    assert_allclose(got, want, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", FITTED)
@pytest.mark.parametrize("model", ["common", "random"])
def test_netmeasures_h_tilde(name, model):
    want = num(result(name, f"netmeasures_{model}")["H.tilde"])
    got = fit(name).netmeasures(model).h_tilde
    assert list(got.index) == list(want.index) and list(got.columns) == list(want.columns)
    assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-10, atol=1e-13)
