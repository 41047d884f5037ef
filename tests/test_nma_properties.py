"""Property tests: the network fit does not depend on labels, row order or row orientation,
and its Q decomposes exactly.  Random connected networks with two-, three- and four-arm studies."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose

import netstrata


def _network(seed: int, n_treat: int, n_studies: int, three_arm: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = [f"T{i}" for i in range(n_treat)]
    mu = rng.normal(0, 0.5, n_treat)
    studies = [[i, i + 1] for i in range(n_treat - 1)]          # a spanning path: connected
    for _ in range(n_studies):
        u = rng.random()
        k = (4 if u < 0.1 and n_treat >= 4 else 3 if u < 0.3 else 2) if three_arm else 2
        studies.append(sorted(rng.choice(n_treat, size=k, replace=False).tolist()))
    rows = []
    for s, arms in enumerate(studies):
        var = rng.uniform(0.01, 0.1, len(arms))
        val = mu[arms] + rng.normal(0, 0.3, len(arms)) + rng.normal(0, np.sqrt(var))
        for a in range(len(arms)):
            for b in range(a + 1, len(arms)):
                rows.append((f"S{s}", labels[arms[a]], labels[arms[b]], val[a] - val[b],
                             np.sqrt(var[a] + var[b])))
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


def _fit(df, method="DL"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.network(df, method=method)


networks = st.builds(_network, st.integers(0, 10_000), st.integers(3, 6), st.integers(2, 12), st.booleans())


@settings(max_examples=25, deadline=None)
@given(networks, st.integers(0, 10_000))
def test_nma_property_row_permutation_and_orientation(df, seed):
    rng = np.random.default_rng(seed)
    perm = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    flip = rng.random(len(perm)) < 0.5
    perm.loc[flip, ["treat1", "treat2"]] = perm.loc[flip, ["treat2", "treat1"]].to_numpy()
    perm.loc[flip, "effect"] = -perm.loc[flip, "effect"]
    a, b = _fit(df), _fit(perm)
    for model in ("common", "random"):
        assert_allclose(b.league(model), a.league(model), rtol=1e-9, atol=1e-11)
        assert_allclose(b.league_se(model), a.league_se(model), rtol=1e-9, atol=1e-11)
    assert_allclose([b.q, b.tau2, b.q_heterogeneity], [a.q, a.tau2, a.q_heterogeneity],
                    rtol=1e-9, atol=1e-11)
    assert_allclose(b.p_scores(), a.p_scores(), rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(networks, st.permutations(range(6)))
def test_nma_property_relabelling(df, order):
    names = {f"T{i}": f"{'zyxwvu'[j]}drug" for i, j in enumerate(order)}
    ren = df.assign(treat1=df["treat1"].map(names), treat2=df["treat2"].map(names))
    a, b = _fit(df), _fit(ren)
    inv = [names[t] for t in a.treatments]
    for model in ("common", "random"):
        assert_allclose(b.league(model).loc[inv, inv], a.league(model), rtol=1e-9, atol=1e-11)
    assert_allclose([b.q, b.tau2], [a.q, a.tau2], rtol=1e-9, atol=1e-12)
    assert_allclose(b.p_scores().loc[inv], a.p_scores(), rtol=1e-9, atol=1e-12)
    da, db = a.decomp_design(), b.decomp_design()
    if da is not None:
        assert_allclose(db.q_decomp["q"], da.q_decomp["q"], rtol=1e-9, atol=1e-10)
        assert_allclose(db.q_inc_random["tau_within"], da.q_inc_random["tau_within"], rtol=1e-8, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(networks)
def test_nma_property_q_decomposes(df):
    f = _fit(df)
    if np.isfinite(f.q_heterogeneity):    # NaN (as netmeta) only with a single design
        assert_allclose(f.q_heterogeneity + f.q_inconsistency, f.q, rtol=1e-9, atol=1e-10)
        assert f.q_heterogeneity_df + f.q_inconsistency_df == f.q_df
    # P-scores average to 1/2 in a connected network
    assert_allclose(f.p_scores("common").mean(), 0.5, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.builds(_network, st.integers(0, 10_000), st.integers(3, 5), st.integers(2, 10), st.just(False)),
       st.integers(0, 10_000))
def test_nma_property_reml_two_arm_permutation(df, seed):
    perm = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    a, b = _fit(df, "REML"), _fit(perm, "REML")
    assert_allclose(b.tau2, a.tau2, rtol=1e-8, atol=1e-12)
    assert_allclose(b.league("random"), a.league("random"), rtol=1e-8, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(networks)
def test_nma_property_diagnostics_complete(df):
    """Every diagnostic runs on any connected network (multi-arm studies included)."""
    f = _fit(df, "REML")
    nm = f.netmeasures("random")
    assert np.all((nm.proportion >= -1e-12) & (nm.proportion <= 1 + 1e-9))
    assert np.all(nm.minpar > 0)
    d = f.decomp_design()
    if d is not None:
        assert np.isfinite(d.q_decomp["q"]).all()
    assert np.isfinite(f.prop_direct("random")).all()
