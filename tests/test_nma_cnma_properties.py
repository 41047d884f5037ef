"""Property tests of component_network: row order, row orientation and labels change nothing;
without combination treatments the CNMA is the standard network model.  Random connected
networks of single components and combinations, two- and three-arm studies."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose

import netstrata

TOL = dict(rtol=1e-9, atol=1e-11)


def _network(seed: int, n_comp: int, n_studies: int, combos: bool) -> pd.DataFrame:
    """Treatments: placebo 'P', every single component, and (if ``combos``) a few combinations;
    a spanning path keeps the network connected."""
    rng = np.random.default_rng(seed)
    comps = [f"K{i}" for i in range(n_comp)]
    beta = dict(zip(comps, rng.normal(0, 0.5, n_comp)))
    treatments = ["P", *comps]
    if combos:
        for _ in range(rng.integers(1, 4)):
            size = int(rng.integers(2, min(3, n_comp) + 1))
            treatments.append(" + ".join(sorted(rng.choice(comps, size, replace=False))))
        treatments = list(dict.fromkeys(treatments))
    effect = {t: sum(beta[c] for c in t.split(" + ") if c != "P") for t in treatments}
    studies = [[i, i + 1] for i in range(len(treatments) - 1)]
    for _ in range(n_studies):
        k = 3 if rng.random() < 0.25 and len(treatments) >= 3 else 2
        studies.append(sorted(rng.choice(len(treatments), k, replace=False).tolist()))
    rows = []
    for s, arms in enumerate(studies):
        var = rng.uniform(0.01, 0.1, len(arms))
        val = np.array([effect[treatments[a]] for a in arms]) + rng.normal(0, 0.2, len(arms))
        val = val + rng.normal(0, np.sqrt(var))
        for a in range(len(arms)):
            for b in range(a + 1, len(arms)):
                rows.append((f"S{s}", treatments[arms[a]], treatments[arms[b]], val[a] - val[b],
                             np.sqrt(var[a] + var[b])))
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


def _fit(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.component_network(df, inactive="P", **kw)


networks = st.builds(_network, st.integers(0, 10_000), st.integers(2, 5), st.integers(2, 12), st.just(True))


def _same(a, b, comp_map=lambda c: c, trt_map=lambda t: t):
    for model in ("common", "random"):
        ca, cb = a.component_effects(model), b.component_effects(model)
        cols = ["effect", "se", "ci_low", "ci_high", "z", "pvalue"]
        assert_allclose(cb.loc[[comp_map(c) for c in ca.index], cols].to_numpy(), ca[cols].to_numpy(),
                        equal_nan=True, **TOL)
        assert list(cb.loc[[comp_map(c) for c in ca.index], "identifiable"]) == list(ca["identifiable"])
        idx = [trt_map(t) for t in a.treatments]
        assert_allclose(b.league(model).loc[idx, idx].to_numpy(), a.league(model).to_numpy(), **TOL)
        assert_allclose(b.league_se(model).loc[idx, idx].to_numpy(), a.league_se(model).to_numpy(), **TOL)
    assert_allclose([b.q, b.tau2, b.q_diff, b.q_standard], [a.q, a.tau2, a.q_diff, a.q_standard],
                    equal_nan=True, **TOL)
    assert (b.q_df, b.q_diff_df) == (a.q_df, a.q_diff_df)


@settings(max_examples=25, deadline=None)
@given(networks, st.integers(0, 10_000))
def test_cnma_property_row_order_and_orientation(df, seed):
    rng = np.random.default_rng(seed)
    perm = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    flip = rng.random(len(perm)) < 0.5
    perm.loc[flip, ["treat1", "treat2"]] = perm.loc[flip, ["treat2", "treat1"]].to_numpy()
    perm.loc[flip, "effect"] = -perm.loc[flip, "effect"]
    _same(_fit(df), _fit(perm))


@settings(max_examples=25, deadline=None)
@given(networks, st.integers(0, 10_000))
def test_cnma_property_relabelling(df, seed):
    """New component names (a random order, other case, spaces around the separator) and new
    study labels: the same model, relabelled."""
    rng = np.random.default_rng(seed)
    comps = sorted({c for t in pd.concat([df.treat1, df.treat2]) for c in t.split(" + ")} - {"P"})
    new = dict(zip(comps, [f"{'abcdefgh'[i]}comp{rng.integers(100)}" for i in rng.permutation(len(comps))]))
    new["P"] = "placebo"

    def trt(t: str) -> str:
        return "+".join(new[c] for c in t.split(" + "))

    out = df.assign(treat1=df.treat1.map(trt), treat2=df.treat2.map(trt),
                    study=df.study.map(lambda s: f"trial {s[::-1]}"))
    a = _fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = netstrata.component_network(out, inactive="PLACEBO")
    b_trt = {frozenset(t.split("+")): t for t in b.treatments}
    _same(a, b, comp_map=new.get, trt_map=lambda t: b_trt[frozenset(new[c] for c in t.split(" + "))])


@settings(max_examples=25, deadline=None)
@given(st.builds(_network, st.integers(0, 10_000), st.integers(2, 6), st.integers(2, 12), st.just(False)))
def test_cnma_property_no_combinations_is_standard_nma(df):
    f = _fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = netstrata.network(df)
    for model in ("common", "random"):
        assert_allclose(f.league(model).to_numpy(), net.league(model).to_numpy(), **TOL)
        assert_allclose(f.league_se(model).to_numpy(), net.league_se(model).to_numpy(), **TOL)
        comp = f.component_effects(model)          # each component = that treatment versus placebo
        est = net.estimates(model, reference="P").loc[list(comp.index)]
        assert_allclose(comp[["effect", "se"]].to_numpy(), est[["effect", "se"]].to_numpy(), **TOL)
    assert_allclose([f.q, f.tau2], [net.q, net.tau2], equal_nan=True, **TOL)
    assert f.q_diff == 0 and f.q_diff_df == 0
