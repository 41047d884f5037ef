"""netmeta() parity: every quantity of the ``netmeta`` (DL) and ``netmeta_REML`` analyses.

Reference: netmeta 2.9-0 (R 4.2.2), tests/data/reference/nma/*.json.  DL is closed form and is
compared at rtol 1e-10 (with an absolute floor of 1e-12 for cells that are zero in exact
arithmetic).  REML: R's tau² comes from nlminb (rma.mv) whose relative function tolerance
(1e-10) leaves tau² accurate to ~1e-7 relative (senn2013 differs by 5.9e-7 from the exact
optimum we compute); quantities depending on tau² are compared at rtol 1e-6.  Where the REML
optimum is tau² = 0, nlminb (log scale) stops at a positive value below 1e-9, hence an absolute
floor of 1e-9 on tau² (3e-5 on tau = sqrt).  R's tau² error (6e-8 absolute for senn2013) moves
random-effects estimates and CI bounds by up to 2e-7 absolute, so REML matrices carry an absolute
floor of 1e-6 (effects are O(1)); cells near zero would otherwise fail on R's optimiser noise.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from .reference import num, scalar
from .test_nma_data import FITTED, fit, result

TOL = {"DL": dict(rtol=1e-10, atol=1e-12), "REML": dict(rtol=1e-6, atol=1e-6)}
ANALYSIS = {"DL": "netmeta", "REML": "netmeta_REML"}
CASES = [(d, m) for d in FITTED for m in ("DL", "REML")]
IDS = [f"{d}-{m}" for d, m in CASES]

SCALARS = [  # (attribute, R name, scale)
    ("q", "Q", 1), ("q_df", "df.Q", 1), ("q_pvalue", "pval.Q", 1),
    ("i2", "I2", 100), ("i2_ci_low", "lower.I2", 100), ("i2_ci_high", "upper.I2", 100),
    ("q_heterogeneity", "Q.heterogeneity", 1), ("q_heterogeneity_df", "df.Q.heterogeneity", 1),
    ("q_heterogeneity_pvalue", "pval.Q.heterogeneity", 1),
    ("q_inconsistency", "Q.inconsistency", 1), ("q_inconsistency_df", "df.Q.inconsistency", 1),
    ("q_inconsistency_pvalue", "pval.Q.inconsistency", 1),
]


def _close(actual, desired, method, **extra):
    tol = dict(TOL[method]); tol.update(extra)
    assert_allclose(np.asarray(actual, float), np.asarray(desired, float), equal_nan=True, **tol)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("attr,rname,scale", SCALARS, ids=[s[1] for s in SCALARS])
def test_netmeta_scalar(name, method, attr, rname, scale):
    r = result(name, ANALYSIS[method])
    _close(getattr(fit(name, method), attr), scale * scalar(r[rname]), method)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
def test_netmeta_tau2(name, method):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    if method == "DL":
        _close(f.tau2, scalar(r["tau2"]), method)
        _close(f.tau, scalar(r["tau"]), method)
    else:
        _close(f.tau2, scalar(r["tau2"]), method, atol=1e-9)
        _close(f.tau, scalar(r["tau"]), method, atol=3e-5)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
def test_netmeta_structure(name, method):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    assert list(f.treatments) == r["trts"]
    assert f.reference == r["reference.group"]
    assert (f.k, f.m, f.n) == (r["k"], r["m"], r["n"])
    assert sorted(set(f.rows["design"])) == sorted(r["designs"])
    assert len(set(f.rows["design"])) == r["d"]
    assert sorted(f.studies) == sorted(r["studies"])


LEAGUE = ["TE", "seTE", "lower", "upper", "statistic", "pval"]


def _league(f, kind, model):
    lo, hi = f.league_ci(model)
    return {"TE": f.league(model), "seTE": f.league_se(model), "lower": lo, "upper": hi,
            "statistic": f.league_z(model), "pval": f.league_pvalue(model)}[kind]


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("model", ["common", "random"])
@pytest.mark.parametrize("kind", LEAGUE)
def test_netmeta_league(name, method, model, kind):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    want = num(r["matrices"][f"{kind}.{model}"])
    got = _league(f, kind, model).loc[want.index, want.columns]
    want, got = want.to_numpy().copy(), got.to_numpy().copy()
    if kind in ("statistic", "pval"):   # diagonal is 0/0 (NaN in R; not a comparison)
        np.fill_diagonal(want, np.nan)
        np.fill_diagonal(got, np.nan)
    _close(got, want, method)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("kind", ["seTE", "lower", "upper"])
def test_netmeta_prediction(name, method, kind):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    want = num(r["matrices"][f"{kind}.predict"])
    got = f.prediction()[["seTE", "lower", "upper"].index(kind)].loc[want.index, want.columns]
    extra = {} if method == "DL" else {"atol": 3e-5}   # se includes tau (see module docstring)
    _close(got.to_numpy(), want.to_numpy(), method, **extra)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("model", ["common", "random"])
@pytest.mark.parametrize("kind", ["TE", "seTE"])
def test_netmeta_direct(name, method, model, kind):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    want = num(r["matrices"][f"{kind}.direct.{model}"])
    got = f.direct(model)[kind == "seTE"].loc[want.index, want.columns]
    _close(got.to_numpy(), want.to_numpy(), method)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("model", ["common", "random"])
@pytest.mark.parametrize("kind", ["TE", "seTE"])
def test_netmeta_indirect(name, method, model, kind):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    want = num(r["matrices"][f"{kind}.indirect.{model}"])
    got = f.indirect(model)[kind == "seTE"].loc[want.index, want.columns]
    _close(got.to_numpy(), want.to_numpy(), method, atol=1e-9 if method == "DL" else 1e-7)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("model", ["common", "random"])
def test_netmeta_prop_direct(name, method, model):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    want = num(r[f"prop.direct.{model}"])
    _close(f.prop_direct(model).loc[want.index].to_numpy(), want.to_numpy(), method)
    P = num(r["matrices"][f"P.{model}"])
    got = f.prop_direct(model)
    for i in P.index:
        for j in P.columns:
            if i != j:
                key = f"{i}:{j}" if f"{i}:{j}" in got.index else f"{j}:{i}"
                _close(got[key], P.loc[i, j], method)


@pytest.mark.parametrize("name", FITTED)
@pytest.mark.parametrize("kind", ["Q", "I2"])
def test_netmeta_direct_heterogeneity_dl(name, kind):
    f, r = fit(name, "DL"), result(name, "netmeta")
    want = num(r["matrices"][f"{kind}.direct"])
    got = f.direct_heterogeneity()[kind.lower()].loc[want.index, want.columns]
    _close(got.to_numpy(), want.to_numpy(), "DL")


@pytest.mark.parametrize("name", FITTED)
def test_netmeta_tau_direct_dl(name):
    f, r = fit(name, "DL"), result(name, "netmeta")
    want = num(r["matrices"]["tau.direct"])
    got = f.direct_heterogeneity()["tau"].loc[want.index, want.columns]
    _close(got.to_numpy(), want.to_numpy(), "DL", atol=1e-10)


@pytest.mark.parametrize("name", FITTED)
def test_netmeta_reml_tau_direct(name):
    """Per-comparison REML tau: meta runs metafor's rma.uni (Fisher scoring, threshold 1e-5),
    reproduced through netstrata.pairwise, so R's iterate (not the exact optimum) is matched."""
    f, r = fit(name, "REML"), result(name, "netmeta_REML")
    want = num(r["matrices"]["tau.direct"])
    got = f.direct_heterogeneity()["tau"].loc[want.index, want.columns]
    assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("model", ["common", "random"])
def test_netmeta_laplacian(name, method, model):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    arr = f.model_arrays(model)
    from netstrata.nma.kernel import laplacian
    L = laplacian(arr["t1"], arr["t2"], arr["w"], arr["n"])
    _close(L, num(r["matrices"][f"L.matrix.{model}"]).to_numpy(), method)
    _close(arr["lplus"], num(r["matrices"][f"Lplus.matrix.{model}"]).to_numpy(), method)


@pytest.mark.parametrize("name,method", CASES, ids=IDS)
@pytest.mark.parametrize("col,rcol", [
    ("se_adj_common", "seTE.adj.common"), ("se_adj_random", "seTE.adj.random"),
    ("fitted_common", "TE.nma.common"), ("se_fitted_common", "seTE.nma.common"),
    ("fitted_random", "TE.nma.random"), ("se_fitted_random", "seTE.nma.random"),
    ("leverage_common", "leverage.common"), ("w_common", "w.common"), ("w_random", "w.random"),
    ("q_common", "Q.common"), ("effect", "TE"), ("se", "seTE")])
def test_netmeta_comparisons(name, method, col, rcol):
    f, r = fit(name, method), result(name, ANALYSIS[method])
    comp = r["comparisons"]
    rows = f.rows
    assert list(rows["study"]) == [str(s) for s in comp["studlab"]]
    assert list(rows["treat1"]) == comp["treat1"] and list(rows["design"]) == comp["design"]
    _close(rows[col].to_numpy(), num(comp[rcol]), method, atol=1e-10 if method == "DL" else 1e-8)


def test_netmeta_a_matrix_senn2013():
    f, r = fit("senn2013"), result("senn2013", "netmeta")
    want = num(r["matrices"]["A.matrix"])
    rows = f.rows
    got = want * 0
    for a, b in zip(rows["treat1"], rows["treat2"]):
        got.loc[a, b] += 1; got.loc[b, a] += 1
    assert (got.to_numpy() == want.to_numpy()).all()


@pytest.mark.parametrize("name", FITTED)
@pytest.mark.parametrize("kind", LEAGUE)
def test_netmeta_reml_league_at_r_tau2(name, kind):
    """The REML random-effects machinery at closed-form tolerance: fixing tau² at R's REML value
    (netmeta tau.preset) reproduces R's REML matrices to 1e-10."""
    import warnings
    import netstrata
    from .test_nma_data import contrasts
    r = result(name, "netmeta_REML")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = netstrata.network(contrasts(name), method="REML", tau2=scalar(r["tau2"]))
    want = num(r["matrices"][f"{kind}.random"])
    got = _league(f, kind, "random").loc[want.index, want.columns].to_numpy().copy()
    want = want.to_numpy().copy()
    if kind in ("statistic", "pval"):
        np.fill_diagonal(want, np.nan); np.fill_diagonal(got, np.nan)
    _close(got, want, "DL")


@pytest.mark.parametrize("name", FITTED)
def test_netmeta_reml_tau2_uses_arm_columns_like_netmeta(name):
    """netmeta models the multi-arm within-study covariance in REML only when arm-level columns
    come with the contrasts (netmeta.R: available.n & events/times/sds, then calcV; else
    V = seTE^2). With R's own pairwise() rows, arm columns included, R's tau2 is reproduced."""
    import warnings
    import netstrata
    from netstrata.nma.prepare import has_arm_level
    from .test_nma_data import contrasts
    data = contrasts(name)
    assert has_arm_level(data) == ({"n1", "n2"} <= set(data.columns))
    assert not has_arm_level(data[["study", "treat1", "treat2", "effect", "se"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = netstrata.network(data, method="REML")
    _close(f.tau2, scalar(result(name, "netmeta_REML")["tau2"]), "REML", atol=1e-9)


def test_netmeta_reml_covariance_matters_only_for_multiarm_studies():
    """Five columns (contrasts alone) give netmeta's diagonal V: different from the arm-level fit
    where multi-arm studies exist (dogliotti2014), identical once they are removed."""
    import warnings
    import netstrata
    from .test_nma_data import contrasts
    data = contrasts("dogliotti2014")
    five = ["study", "treat1", "treat2", "effect", "se"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert netstrata.network(data[five], method="REML").tau2 != pytest.approx(
            netstrata.network(data, method="REML").tau2, rel=1e-3)
        two_arm = data[data.groupby("study")["study"].transform("size") == 1]
        assert netstrata.network(two_arm[five], method="REML").tau2 == pytest.approx(
            netstrata.network(two_arm, method="REML").tau2, rel=1e-12, abs=1e-15)
