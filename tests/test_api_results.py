"""One result vocabulary (issue 15): results know their measure and back-transform on request,
``pairwise(es)`` / ``network(es)`` take effect_sizes frames, one option name (``ci``), named
accessors on NetworkResult, netleague, netmetabin's Q p-value, and the project summary.

Numbers are checked as identities against quantities already tested against R elsewhere:
back-transformed values equal ``exp`` of the analysis-scale values (rtol 1e-15: one ``exp``),
the netleague triangles equal ``league()`` and ``direct()`` cell by cell, metafor-named and
netstrata-named calls give the same bits. netmetabin's ``q_pvalue`` is compared with netmeta
2.9-0's ``pval.Q.inconsistency`` (tests/data/reference/nma/*.json, analysis ``netmetabin_MH``).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import netstrata
from netstrata.errors import ParameterError, StatisticalWarning
from netstrata.ma import (GlmmProportion, MantelHaenszelResult, PairwiseResult, PetoResult, PooledProportion,
                          mantel_haenszel, peto, pooled_proportion, proportion_glmm, regtest, rma, trimfill)
from netstrata.ma.pooled import POOLED_FIELDS, Pooled, PooledEstimate
from netstrata.nma.netmetabin import netmetabin
from tests import reference as ref

BCG = ref.table("pairwise", "bcg")
EXP = dict(rtol=1e-15, atol=0)   # one exp() of the same double


def bcg_es(**kw):
    """metafor: escalc("RR", ai = events_1, n1i = n_1, ci = events_2, n2i = n_2, data = dat, slab = study)."""
    return netstrata.effect_sizes("RR", ai="events_1", n1i="n_1", ci="events_2", n2i="n_2", data=BCG,
                                  slab="study", **kw)


# ---------------------------------------------------------------- pairwise(es)

def test_pairwise_of_effect_sizes_equals_pairwise_of_columns():
    es = bcg_es()
    res = netstrata.pairwise(es, method="REML")
    arrays = netstrata.pairwise(es["effect"], es["variance"], method="REML")
    for field in ("estimate", "se", "ci_low", "ci_high", "tau2", "q", "pi_low", "pi_high"):
        assert getattr(res, field) == getattr(arrays, field)
    assert res.measure == "RR" and arrays.measure is None
    assert res.study == tuple(BCG["study"])


def test_pairwise_frame_errors_and_measure_conflict():
    es = bcg_es()
    with pytest.raises(ParameterError, match="do not pass variance as well"):
        netstrata.pairwise(es, es["variance"])
    with pytest.raises(ParameterError, match="measure='OR' but the effect sizes were computed as 'RR'"):
        netstrata.pairwise(es, measure="OR")
    with pytest.raises(ParameterError, match="needs variance="):
        netstrata.pairwise([0.1, 0.2])
    with pytest.raises(ParameterError, match="needs an 'effect' column"):
        netstrata.pairwise(pd.DataFrame({"x": [1.0]}))


def test_pairwise_of_frame_leaves_out_undefined_studies_by_name():
    es = netstrata.effect_sizes("OR", events_1=[0, 4, 6], n_1=[10, 123, 306], events_2=[0, 11, 29],
                                n_2=[12, 139, 303], study=["Empty", "A", "B"], drop00=True)
    with pytest.warns(StatisticalWarning, match="1 study without an effect or variance left out.*Empty"):
        res = netstrata.pairwise(es)
    assert res.k == 2 and res.study == ("A", "B")


def test_summary_backtransf_is_exp_of_the_log_summary():
    res = netstrata.pairwise(bcg_es())
    log, nat = res.summary().to_frame(), res.summary(backtransf=True).to_frame()
    for row in ("estimate", "prediction"):
        for col in ("value", "ci_low", "ci_high"):
            assert_allclose(nat.loc[row, col], np.exp(log.loc[row, col]), **EXP)
    assert np.isnan(nat.loc["estimate", "se"])
    assert nat.loc["tau2", "value"] == log.loc["tau2", "value"]        # heterogeneity stays as it is
    assert "back-transformed from the log risk ratio scale" in res.summary(backtransf=True).as_text()


def test_backtransform_needs_a_measure():
    res = netstrata.pairwise([0.1, 0.3, -0.2], [0.04, 0.05, 0.06])
    with pytest.raises(ParameterError, match="measure is unknown"):
        res.summary(backtransf=True)
    assert netstrata.pairwise([0.1, 0.3, -0.2], [0.04, 0.05, 0.06], measure="or").measure == "OR"


# ---------------------------------------------------------------- one vocabulary

def _pooled_results():
    e1, n1, e2, n2 = BCG["events_1"], BCG["n_1"], BCG["events_2"], BCG["n_2"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [netstrata.pairwise(bcg_es()), mantel_haenszel(e1, n1, e2, n2),
                mantel_haenszel(e1, n1, e2, n2, measure="RD"), peto(e1, n1, e2, n2),
                mantel_haenszel([7, 8], time_1=[1344, 1600], events_2=[11, 8], time_2=[1988, 1461], measure="IRR"),
                pooled_proportion(e1, n1), pooled_proportion(e1, n1, measure="PFT"), proportion_glmm(e1, n1)]


@pytest.mark.parametrize("res", _pooled_results(), ids=lambda r: f"{type(r).__name__}-{r.measure}")
def test_every_pairwise_type_result_speaks_the_pooled_vocabulary(res):
    assert isinstance(res, PooledEstimate)
    assert all(hasattr(res, f) for f in POOLED_FIELDS)
    p = res.pooled
    assert isinstance(p, Pooled) and p.estimate == res.estimate and p.measure == res.measure
    nat = res.estimate_frame(backtransf=True)
    assert_allclose(nat.loc["estimate", ["estimate", "ci_low", "ci_high"]].to_numpy(float),
                    res.backtransform([res.estimate, res.ci_low, res.ci_high]), **EXP)
    if res.scale in ("identity", "arcsine difference"):     # nothing to back-transform: se kept
        assert nat.loc["estimate", "se"] == res.se
    else:
        assert np.isnan(nat.loc["estimate", "se"])
    assert isinstance(res.summary(backtransf=True).to_frame(), pd.DataFrame)


def test_pooled_proportion_backtransform_is_its_own_proportion():
    for res in _pooled_results()[5:]:
        assert_allclose(res.backtransform(res.estimate), res.proportion, rtol=1e-13)
        assert_allclose(res.backtransform(res.ci_low), res.proportion_ci_low, rtol=1e-13)


def test_result_classes_share_the_base():
    for cls in (PairwiseResult, MantelHaenszelResult, PetoResult, PooledProportion, GlmmProportion):
        assert issubclass(cls, PooledEstimate)


# ---------------------------------------------------------------- one option name

def test_metafor_test_is_a_deprecated_alias_of_ci():
    y, v = bcg_es()["effect"], bcg_es()["variance"]
    with pytest.warns(DeprecationWarning, match="use ci='hksj'"):
        old = netstrata.pairwise(y, v, test="knha")
    new = netstrata.pairwise(y, v, ci="hksj")
    assert old.ci == "hksj" and old.se == new.se and old.df == new.df
    with pytest.raises(ParameterError, match="say different things"), pytest.warns(DeprecationWarning):
        netstrata.pairwise(y, v, ci="hksj", test="z")
    with pytest.warns(DeprecationWarning):
        fit = rma(y, v, test="knha")
    assert fit.knha and rma(y, v, ci="hksj").se[0] == fit.se[0]


def test_knha_is_a_deprecated_alias_of_ci():
    es = bcg_es()
    y, v = es["effect"], es["variance"]
    with pytest.warns(DeprecationWarning, match="knha=True is deprecated"):
        a = regtest(y, v, knha=True)
    assert a.statistic == regtest(y, v, ci="hksj").statistic
    with pytest.warns(DeprecationWarning):
        b = trimfill(y, v, knha=True)
    assert b.fit.se == trimfill(y, v, ci="hksj").fit.se
    with pytest.warns(DeprecationWarning):
        c = pooled_proportion(BCG["events_1"], BCG["n_1"], knha=True)
    assert c.se == pooled_proportion(BCG["events_1"], BCG["n_1"], ci="hksj").se


# ---------------------------------------------------------------- network(es)

SENN = ref.table("nma", "senn2013").rename(columns={"TE": "effect", "seTE": "se"})


def _two_arm_counts():
    return pd.DataFrame({"study": ["s1", "s2", "s3", "s4", "s5"], "treat1": ["A", "A", "B", "A", "C"],
                         "treat2": ["B", "C", "C", "B", "B"], "e1": [10, 12, 14, 9, 20],
                         "n1": [100, 110, 95, 90, 120], "e2": [15, 9, 11, 14, 13], "n2": [100, 105, 92, 88, 118]})


def test_network_of_effect_sizes_frame_equals_network_of_effect_and_se():
    data = _two_arm_counts()
    es = netstrata.effect_sizes("OR", ai="e1", n1i="n1", ci="e2", n2i="n2", data=data)
    net = netstrata.network(es, reference="A")
    plain = netstrata.network(data.assign(effect=es["effect"], se=np.sqrt(es["variance"])), reference="A")
    assert net.measure == "OR" and plain.measure is None
    assert_allclose(net.league("random").to_numpy(), plain.league("random").to_numpy(), rtol=0, atol=0)
    with pytest.raises(ParameterError, match="measure='RR' but the contrasts were computed as 'OR'"):
        netstrata.network(es, measure="RR")


def test_network_of_contrasts_object_equals_network_from_arms():
    arms = ref.table("nma", "dogliotti2014")
    con = netstrata.effects.arms_to_contrasts(arms, "OR", events="events", n="n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = netstrata.network(con), netstrata.network_from_arms(arms, measure="OR", events="events", n="n")
    assert a.measure == b.measure == "OR" and con.contrasts.attrs["measure"] == "OR"
    assert_allclose(a.league().to_numpy(), b.league().to_numpy(), rtol=0, atol=0)


@pytest.fixture(scope="module")
def senn():
    return netstrata.network(SENN, measure="MD", reference="plac")


@pytest.fixture(scope="module")
def dogliotti():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.network_from_arms(ref.table("nma", "dogliotti2014"), measure="OR", events="events", n="n")


@pytest.mark.parametrize("model", ["common", "random"])
@pytest.mark.parametrize("direct", [True, False])
def test_netleague_triangles_are_network_below_and_direct_above(dogliotti, model, direct):
    lt = dogliotti.netleague(model, direct=direct)
    te, (d_te, _) = dogliotti.league(model), dogliotti.direct(model)
    n = len(dogliotti.treatments)
    t = list(dogliotti.treatments)
    for i in range(n):
        for j in range(n):
            got = lt.estimate.iat[i, j]
            if i > j:                                    # column versus row, network
                want = te.loc[t[j], t[i]]
            elif i < j:                                  # row versus column, direct (or network)
                want = d_te.loc[t[i], t[j]] if direct else te.loc[t[i], t[j]]
            else:
                want = np.nan
            assert_allclose(got, want, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("model", ["common", "random"])
def test_backtransformed_league_equals_exp_of_the_log_league(dogliotti, model):
    log, nat = dogliotti.league_table(model), dogliotti.league_table(model, backtransf=True)
    for name in ("estimate", "ci_low", "ci_high"):
        assert_allclose(getattr(nat, name).to_numpy(), np.exp(getattr(log, name).to_numpy()), equal_nan=True, **EXP)
    assert nat.table.iat[0, 0] == dogliotti.treatments[0]
    assert (nat.table == ".").to_numpy().sum() > 0          # pairs without direct evidence, as netleague
    assert "odds ratio" in nat.league.caption and "log odds ratio" in log.league.caption


def test_league_table_needs_a_measure_to_backtransform():
    net = netstrata.network(SENN)
    with pytest.raises(ParameterError, match="needs the measure"):
        net.league_table(backtransf=True)


def test_network_summary_backtransf(dogliotti):
    log, nat = dogliotti.summary().to_frame(), dogliotti.summary(backtransf=True).to_frame()
    assert_allclose(nat["effect"], np.exp(log["effect"]), **EXP)
    assert_allclose(nat["ci_high"], np.exp(log["ci_high"]), **EXP)
    assert nat["se"].isna().all() and (nat["p_score"] == log["p_score"]).all()


def test_named_accessors_on_network_result(senn):
    d, ind, pi = senn.direct(), senn.indirect(), senn.prediction()
    assert d.effect is d[0] and d.se is d[1] and ind.effect is ind[0]
    assert pi.se is pi[0] and pi.pi_low is pi[1] and pi.pi_high is pi[2]
    ci = senn.league_ci()
    assert ci.ci_low is ci[0]


def test_netmeasures_defaults_to_random_like_everything_else(senn):
    a, b, c = senn.netmeasures(), senn.netmeasures("random"), senn.netmeasures("common")
    pd.testing.assert_series_equal(a.meanpath, b.meanpath)
    pd.testing.assert_series_equal(a.proportion, b.proportion)
    assert not np.allclose(a.proportion.to_numpy(), c.proportion.to_numpy())   # the model matters here


def test_split_is_the_node_split_table(senn):
    table = senn.split("random")
    full = senn.node_split("random").table("random")
    assert list(table.index) == list(full["comparison"])
    pd.testing.assert_frame_equal(table.reset_index(drop=True), full.reset_index(drop=True))


# ---------------------------------------------------------------- netmetabin

@pytest.mark.parametrize("name", ["dogliotti2014", "dong2013", "gurusamy2011", "woods2010"])
def test_netmetabin_q_pvalue_equals_netmeta(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        res = netmetabin(ref.table("nma", name), "MH")
        nch = netmetabin(ref.table("nma", name), "NCH")
    r = ref.load("nma", name)["analyses"]["netmetabin_MH"]["result"]
    assert_allclose(res.q_pvalue, ref.num(r["pval.Q.inconsistency"]), rtol=1e-10)   # closed form
    assert np.isnan(nch.q_pvalue)
    assert res.measure == "OR" and "p = " in res.summary().as_text()
    assert_allclose(res.summary(backtransf=True).to_frame()["effect"], np.exp(res.summary().to_frame()["effect"]),
                    **EXP)


def test_component_and_class_networks_know_their_measure():
    combos = pd.DataFrame({"study": ["S1", "S2", "S3", "S4", "S5", "S6"],
                           "treat1": ["A", "B", "A + B", "A + B", "B", "A + C"],
                           "treat2": ["placebo", "placebo", "placebo", "A", "A", "placebo"],
                           "effect": [0.50, 0.30, 0.90, 0.35, -0.15, 0.60], "se": [0.20, 0.25, 0.30, 0.25, 0.30, 0.35]})
    combos.attrs["measure"] = "OR"
    cnma = netstrata.component_network(combos, inactive="placebo")
    assert cnma.measure == "OR"
    log, nat = cnma.summary().to_frame(), cnma.summary(backtransf=True).to_frame()
    assert_allclose(nat["effect"], np.exp(log["effect"]), **EXP)
    classes = {"metf": "biguanide", "plac": "placebo"}
    net = netstrata.network(SENN, measure="MD", reference="plac")
    classes |= {t: "other" for t in net.treatments if t not in classes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = netstrata.class_network(net, classes, reference="plac", model="common")
    assert fit.measure == "MD"
    pd.testing.assert_frame_equal(fit.summary(backtransf=True).to_frame(), fit.summary().to_frame())   # identity scale
