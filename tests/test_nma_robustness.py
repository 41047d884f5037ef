"""Robustness of netstrata.network: refusals where netmeta refuses, star and disconnected
networks, bad input, two-treatment networks against the pairwise layer."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import netstrata
from netstrata.errors import DataError, ParameterError
from netstrata.nma import ComponentNotice, DroppedComparisonWarning

from .reference import load, table
from .test_nma_data import REFUSED, contrasts


def _net(rows, **kw):
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ComponentNotice)
        warnings.simplefilter("ignore", DroppedComparisonWarning)
        return netstrata.network(df, **kw)


STAR = [("s1", "A", "B", 0.5, 0.2), ("s2", "A", "B", 0.3, 0.25), ("s3", "A", "C", -0.2, 0.3),
        ("s4", "A", "D", 0.1, 0.2), ("s5", "A", "D", 0.4, 0.3)]
DISCONNECTED = [("s1", "A", "B", 0.5, 0.2), ("s2", "B", "C", 0.3, 0.25), ("s3", "A", "C", 0.9, 0.3),
                ("s4", "D", "E", 0.1, 0.2), ("s5", "D", "E", 0.4, 0.3)]


@pytest.mark.parametrize("name", REFUSED)
def test_refused_dataset_raises_data_error_naming_the_study(name):
    """netmeta: "After removing comparisons with missing treatment effects or standard errors,
    study '33' has a wrong number of comparisons" - we refuse too, naming the study."""
    r_error = load("nma", name)["analyses"]["netmeta"]["result"]["error"]
    assert "33" in r_error
    with pytest.warns(DroppedComparisonWarning):
        with pytest.raises(DataError, match="study '33'"):
            netstrata.network(contrasts(name))


def test_refused_dataset_from_arms_raises_too():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="study '33'"):
            netstrata.network_from_arms(table("nma", "dong2013"), measure="OR", events="events", n="n")


@pytest.mark.parametrize("method", ["DL", "REML"])
def test_star_network_completes(method):
    f = _net(STAR, method=method)
    assert f.is_connected and f.n == 4
    assert f.q_inconsistency_df == 0 and np.isnan(f.q_inconsistency_pvalue)
    assert f.q_heterogeneity_df == f.q_df == 2
    assert_allclose(f.q_inconsistency, 0.0, atol=1e-12)
    assert np.isfinite(f.league("random").to_numpy()).all()
    assert f.p_scores().notna().all()
    d = f.decomp_design()
    assert len(d.q_inc_detach) == 0                      # no design can be detached in a tree
    nm = f.netmeasures("random")
    assert_allclose(nm.proportion[["A:B", "A:C", "A:D"]], 1.0, rtol=1e-12)
    assert_allclose(nm.proportion[["B:C", "B:D", "C:D"]], 0.0)
    assert "NetworkResult(" in repr(f) and f.summary().as_text()


def test_star_network_with_single_studies_has_no_tau2():
    f = _net([r for r in STAR if r[0] in ("s1", "s3", "s4")])
    assert f.q_df == 0 and np.isnan(f.tau2) and np.isnan(f.q_pvalue) and np.isnan(f.i2)
    assert_allclose(f.league("random").to_numpy(), f.league("common").to_numpy())


def test_disconnected_network_is_analysed_per_component():
    df = pd.DataFrame(DISCONNECTED, columns=["study", "treat1", "treat2", "effect", "se"])
    with pytest.warns(ComponentNotice, match="2 sub-networks"):
        f = netstrata.network(df)
    assert f.components == (("A", "B", "C"), ("D", "E"))
    L = f.league("random")
    assert np.isnan(L.loc["A", "D"]) and np.isfinite(L.loc["D", "E"]) and np.isfinite(L.loc["A", "C"])
    assert len(f.not_comparable) == 6 and set(f.not_comparable.columns) == {"treat1", "treat2", "reason"}
    assert np.isnan(f.tau2)
    sub = _net(DISCONNECTED[:3])
    assert_allclose(L.loc[["A", "B", "C"], ["A", "B", "C"]], sub.league("random"), rtol=1e-12)
    assert_allclose(f.q, sub.q + _net(DISCONNECTED[3:]).q, rtol=1e-12)
    assert f.p_scores().notna().all()
    assert "components=2" in repr(f) and "sub-network" in f.summary().as_text()


def test_multiarm_study_with_missing_pair_is_refused():
    rows = [("m", "A", "B", 0.1, 0.2), ("m", "A", "C", 0.2, 0.2), ("s", "B", "C", 0.1, 0.2)]
    with pytest.raises(DataError, match="study 'm'"):
        _net(rows)


def test_multiarm_study_becoming_incomplete_after_drop_is_refused():
    rows = [("m", "A", "B", 0.1, 0.2), ("m", "A", "C", 0.2, 0.0), ("m", "B", "C", 0.1, 0.2),
            ("s", "B", "C", 0.1, 0.2)]
    with pytest.warns(DroppedComparisonWarning):
        with pytest.raises(DataError, match="after dropping.*study 'm'|study 'm'.*after dropping"):
            netstrata.network(pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"]))


def test_zero_and_missing_se_rows_are_dropped_with_a_record():
    rows = STAR + [("s6", "A", "C", 0.3, 0.0), ("s7", "A", "B", np.nan, 0.2)]
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])
    with pytest.warns(DroppedComparisonWarning, match="s6, s7"):
        f = netstrata.network(df)
    assert list(f.excluded["study"]) == ["s6", "s7"] and f.k == 5
    assert_allclose(f.league().to_numpy(), _net(STAR).league().to_numpy(), rtol=1e-12)


def test_inconsistent_multiarm_effects_are_refused():
    rows = [("m", "A", "B", 0.1, 0.2), ("m", "A", "C", 0.2, 0.2), ("m", "B", "C", 0.5, 0.2)]
    with pytest.raises(DataError, match="inconsistent"):
        _net(rows)


def test_same_treatment_twice_is_refused():
    with pytest.raises(DataError, match="two different treatments"):
        _net([("s", "A", "A", 0.1, 0.2), ("t", "A", "B", 0.1, 0.2)])


def test_bad_arguments_raise_parameter_error():
    with pytest.raises(ParameterError, match="'method'"):
        _net(STAR, method="PM")
    with pytest.raises(ParameterError, match="'reference'"):
        _net(STAR, reference="Z")
    with pytest.raises(ParameterError, match="'small_values'"):
        _net(STAR, small_values="good-ish")
    with pytest.raises(ParameterError, match="DataFrame"):
        netstrata.network([1, 2, 3])
    with pytest.raises(DataError, match="column"):
        netstrata.network(pd.DataFrame({"study": ["a"]}))


def pairwise_tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """Exact REML tau² of a pairwise random effects model, written independently of netstrata:
    the root of the REML score (Harville 1977) by bisection-safe Brent."""
    from scipy.optimize import brentq

    def score(t2):
        w = 1.0 / (v + t2)
        r = y - np.sum(w * y) / np.sum(w)
        return np.sum(w * w * r * r) - np.sum(w) + np.sum(w * w) / np.sum(w)

    if score(0.0) <= 0:
        return 0.0
    hi = max(1.0, np.var(y) * 10)
    while score(hi) > 0:
        hi *= 10
    return brentq(score, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)


@pytest.mark.parametrize("method,pmethod", [("DL", "DL"), ("REML", "REML")])
def test_two_treatment_network_equals_pairwise(method, pmethod):
    rng = np.random.default_rng(1)
    y, se = rng.normal(0.3, 0.3, 8), rng.uniform(0.1, 0.4, 8)
    rows = [(f"s{i}", "A", "B", y[i], se[i]) for i in range(8)]
    f = _net(rows, method=method)
    pw = netstrata.pairwise(y, se ** 2, method=pmethod)
    fe = netstrata.pairwise(y, se ** 2, method="FE")
    # metafor's REML (Fisher scoring) stops when |Δτ²| < 1e-5: compare the exact optimum with
    # our pairwise REML root at 1e-10 and with metafor's iterate at its own threshold
    tol = 1e-10 if method == "DL" else 1e-4
    if method == "REML":
        assert_allclose(f.tau2, pairwise_tau2_reml(y, se ** 2), rtol=1e-10)
    assert_allclose(f.tau2, pw.tau2, rtol=tol, atol=1e-5 if method == "REML" else 0)
    assert_allclose(f.league("random").loc["A", "B"], pw.estimate, rtol=tol)
    assert_allclose(f.league_se("random").loc["A", "B"], pw.se, rtol=tol)
    assert_allclose(f.league("common").loc["A", "B"], fe.estimate, rtol=1e-10)
    assert_allclose(f.league_se("common").loc["A", "B"], fe.se, rtol=1e-10)
    assert_allclose(f.q, pw.q, rtol=1e-10)
    assert f.decomp_design() is None and np.isnan(f.q_inconsistency)


def test_network_from_arms_equals_network_on_contrasts():
    arms = table("nma", "dogliotti2014")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = netstrata.network_from_arms(arms, measure="OR", events="events", n="n", method="REML")
        b = netstrata.network(contrasts("dogliotti2014"), method="REML")
    assert_allclose(a.league("random").to_numpy(), b.league("random").to_numpy(), rtol=1e-10, atol=1e-12)
    assert_allclose(a.tau2, b.tau2, rtol=1e-10)


def test_reml_row_order_note_when_multiarm_rows_are_split():
    f = netstrata.network(contrasts("senn2013"), method="REML")
    assert any("not contiguous" in n for n in f.notes)


ARMS = {"dietaryfat": ("IRR", dict(events="events", time="time")),
        "dogliotti2014": ("OR", dict(events="events", n="n")),
        "franchini2012": ("MD", dict(mean="mean", sd="sd", n="n")),
        "woods2010": ("OR", dict(events="events", n="n")),
        "linde2015": ("OR", dict(events="events", n="n")),
        "gurusamy2011": ("OR", dict(events="events", n="n"))}


@pytest.mark.parametrize("name", sorted(ARMS))
@pytest.mark.parametrize("method", ["DL", "REML"])
def test_network_from_arms_matches_netmeta(name, method):
    """Arm-level CSV -> pairwise (effects layer) -> network, against netmeta on pairwise()."""
    from .test_nma_data import result
    from .reference import num, scalar
    measure, cols = ARMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = netstrata.network_from_arms(table("nma", name), measure=measure, method=method, **cols)
    r = result(name, "netmeta" if method == "DL" else "netmeta_REML")
    tol = dict(rtol=1e-10, atol=1e-12) if method == "DL" else dict(rtol=1e-6, atol=1e-6)
    want = num(r["matrices"]["TE.random"])
    assert_allclose(f.league("random").loc[want.index, want.columns].to_numpy(), want.to_numpy(), **tol)
    assert_allclose(f.tau2, scalar(r["tau2"]), **(tol if method == "DL" else dict(rtol=1e-6, atol=1e-9)))


@pytest.mark.parametrize("name", sorted(ARMS) + ["senn2013"])
def test_dropped_comparison_warning_where_netmeta_warns(name):
    """netmeta warns "Comparison(s) with missing TE / seTE or zero seTE not considered"; so do we,
    and the excluded register has exactly the rows R left out."""
    from .test_nma_data import result
    r_warns = load("nma", name)["analyses"]["netmeta"].get("warnings") or []
    dropped = any("missing TE" in w for w in r_warns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = netstrata.network(contrasts(name))
    assert any(issubclass(w.category, DroppedComparisonWarning) for w in caught) == dropped
    assert len(f.excluded) + f.m == len(contrasts(name))
    assert f.m == result(name, "netmeta")["m"]


@pytest.mark.parametrize("name", ["senn2013", "linde2015"])
def test_hat_matrix_reproduces_fitted_values_and_leverage(name):
    from .test_nma_data import fit
    f = fit(name)
    for model in ("common", "random"):
        H = f.hat_matrix(model).to_numpy()
        rows = f.rows
        assert_allclose(H @ rows["effect"].to_numpy(), rows[f"fitted_{model}"], rtol=1e-10, atol=1e-12)
        assert_allclose(np.trace(H), f.n - 1, rtol=1e-10)       # rank of the projection
    two = rows["narms"].to_numpy() == 2
    assert_allclose(np.diag(f.hat_matrix("common").to_numpy())[two], rows["leverage_common"][two], rtol=1e-10)


@pytest.mark.parametrize("name", ["senn2013", "dogliotti2014"])
def test_covariance_matches_league_se(name):
    from .test_nma_data import fit
    f = fit(name)
    for model in ("common", "random"):
        cov = f.covariance(model)
        se = f.league_se(model)[f.reference].loc[cov.index]
        assert_allclose(np.sqrt(np.diag(cov)), se, rtol=1e-10)
        a, b = cov.index[0], cov.index[1]
        var_ab = cov.loc[a, a] + cov.loc[b, b] - 2 * cov.loc[a, b]
        assert_allclose(np.sqrt(var_ab), f.league_se(model).loc[a, b], rtol=1e-10)


def test_level_accepts_percent_and_changes_intervals():
    f90, f95 = _net(STAR, level=90), _net(STAR)
    assert f90.level == 0.9
    lo90, lo95 = f90.league_ci().ci_low.loc["B", "A"], f95.league_ci().ci_low.loc["B", "A"]
    assert lo90 > lo95


def test_negative_multiarm_variances_warn_naming_the_study():
    from netstrata.errors import StatisticalWarning
    rows = [("m", "A", "B", 0.1, 0.1), ("m", "A", "C", 0.2, 0.1), ("m", "B", "C", 0.1, 1.0),
            ("s", "A", "B", 0.2, 0.3)]
    with pytest.warns(StatisticalWarning, match="'m'"):
        f = netstrata.network(pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"]))
    assert np.isfinite(f.league("common").to_numpy()).all()
