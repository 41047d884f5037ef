"""Contribution matrix (netmeta 2.9-0 ``netcontrib``) against R, and its properties.

Reference: tests/data/reference/nma/*.json, analyses ``netcontrib_shortestpath`` and
``netcontrib_randomwalk`` (``netcontrib(net, method)`` on the DL fit, ``hatmatrix.F1000 =
FALSE``), matrices ``common`` and ``random``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import netstrata
from netstrata.errors import ParameterError
from netstrata.nma.contrib import contributions, stream_row
from tests import reference as ref
from tests.test_nma_split import DATASETS, contrasts, network_fit

_RESULTS: dict = {}


def contrib_of(name: str, method: str):
    if (name, method) not in _RESULTS:
        _RESULTS[name, method] = contributions(network_fit(name), method)
    return _RESULTS[name, method]


CASES = [(d, meth, m) for d in DATASETS for meth in ("shortestpath", "randomwalk")
         for m in ("common", "random")]


@pytest.mark.parametrize("dataset,method,model", CASES, ids=[f"{d}-{a}-{m}" for d, a, m in CASES])
def test_netcontrib_matrix(dataset, method, model):
    """Every entry, row and column names of netcontrib()$common / $random."""
    exp = ref.num(ref.load("nma", dataset)["analyses"][f"netcontrib_{method}"]["result"][model])
    got = contrib_of(dataset, method).matrix(model)
    assert list(got.index) == list(exp.index)
    assert list(got.columns) == list(exp.columns)
    np.testing.assert_allclose(got.to_numpy(), exp.to_numpy(), rtol=1e-6, atol=0)


@pytest.mark.parametrize("dataset,method,model", CASES, ids=[f"{d}-{a}-{m}" for d, a, m in CASES])
def test_rows_sum_to_one(dataset, method, model):
    res = contrib_of(dataset, method)
    np.testing.assert_allclose(res.matrix(model).sum(axis=1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(res.matrix(model, "study").sum(axis=1), 1.0, rtol=1e-10)
    assert (res.matrix(model, "study").to_numpy() >= 0).all()


def test_study_contributions_split_by_weight_woods2010():
    """Study level = direct share × w_k / Σ w over the studies of that direct comparison."""
    fit = network_fit("woods2010")
    res = contributions(fit)
    rows = fit.rows
    pair = rows[(rows["treat1"] == "Placebo") & (rows["treat2"] == "Salmeterol")]
    w = pair["w_common"].to_numpy() / pair["w_common"].sum()
    share = res.common.loc["Placebo:Salmeterol", "Placebo:Salmeterol"]
    studies = res.study_common.loc["Placebo:Salmeterol"]
    # Boyd 1997 and Celli 2003 inform only Placebo:Salmeterol
    for s in ("Boyd 1997", "Celli 2003"):
        np.testing.assert_allclose(studies[s], share * w[list(pair["study"]).index(s)],
                                   rtol=1e-12)


def test_star_network_splits_along_the_only_path():
    star = pd.DataFrame({"study": ["s1", "s2", "s3"], "treat1": ["A", "B", "A"],
                         "treat2": ["P", "P", "P"], "effect": [0.1, 0.3, 0.2],
                         "se": [0.2, 0.25, 0.22]})
    res = contributions(netstrata.network(star))
    np.testing.assert_allclose(res.common.loc["A:B"], [0.5, 0.5], rtol=1e-12)
    np.testing.assert_allclose(res.common.loc["A:P"], [1.0, 0.0], rtol=1e-12)


def test_disconnected_network_gives_block_matrix():
    data = pd.DataFrame({"study": list("abcde"), "treat1": ["A", "A", "B", "D", "D"],
                         "treat2": ["B", "C", "C", "E", "E"],
                         "effect": [0.5, 0.2, -0.1, 0.4, 0.1], "se": [0.2, 0.3, 0.25, 0.3, 0.35]})
    with pytest.warns(Warning, match="sub-networks"):
        fit = netstrata.network(data)
    res = contributions(fit)
    loop = contributions(netstrata.network(data.iloc[:3]))
    assert list(res.common.index) == ["A:B", "A:C", "B:C", "D:E"]
    pd.testing.assert_frame_equal(res.common.loc[loop.common.index, loop.common.columns],
                                  loop.common)
    assert res.common.loc["D:E", "D:E"] == pytest.approx(1.0, rel=1e-12)
    assert res.common.loc["D:E"].drop("D:E").eq(0).all()
    np.testing.assert_allclose(res.study_random.sum(axis=1), 1.0, rtol=1e-12)


def test_stream_row_tie_break_follows_first_discovered_edge():
    """Equally short paths 0→1→2→4 and 0→3→2→4 share the edge 2→4: the breadth-first search
    reaches vertex 2 first from vertex 1 (lower vertex id, as igraph), so that path saturates
    2→4 and 0→3's flow has to take the long way round 3→7→8→4."""
    edges = [(0, 1), (0, 3), (1, 2), (3, 2), (2, 4), (1, 5), (5, 6), (6, 4), (3, 7), (7, 8),
             (8, 4)]
    flow = np.array([0.5, 0.5, 0.5, 0.5, 0.6, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4])
    got = stream_row(flow, edges, 0, 4)
    expect = [1 / 6, 0.1 / 3 + 0.1, 1 / 6, 0.1 / 3, 1 / 6 + 0.1 / 3, 0, 0, 0, 0.1, 0.1, 0.1]
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-15)


def test_contributions_rejects_unknown_method():
    with pytest.raises(ParameterError, match="method"):
        contributions(network_fit("woods2010"), "cccp")


def test_repr_summary():
    res = contrib_of("senn2013", "shortestpath")
    assert repr(res) == "ContributionResult(method='shortestpath', comparisons=45, direct=15, studies=26)"
    assert res.summary("common").to_frame().shape == (45, 15)


_NEW = ["zeta", "alpha", "Mu", "beta", "omega", "Kappa", "delta", "pi", "eta", "sigma"]


def _canonical(frame: pd.DataFrame, back: dict) -> pd.DataFrame:
    def key(name):
        return ":".join(sorted(back[t] for t in name.split(":")))
    out = frame.rename(index=key, columns=key)
    return out.sort_index().sort_index(axis=1)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perm=st.permutations(_NEW), order=st.randoms(use_true_random=False),
       method=st.sampled_from(["shortestpath", "randomwalk"]))
def test_contributions_invariant_to_relabelling_and_study_order(perm, order, method):
    """Relabelled treatments and shuffled rows give the same matrices up to ordering.

    The random walk is fully label-invariant. The shortest-path streams are not: ties between
    equally short paths are broken by vertex numbering (as in netmeta/igraph), so relabelling
    that changes the treatment order can move flow between tied paths (senn2013 does this);
    for that method only order-preserving relabellings are drawn.
    """
    data = contrasts("senn2013")
    labels = sorted(set(data["treat1"]) | set(data["treat2"]))
    if method == "shortestpath":
        perm = [f"T{i:02d}_{p}" for i, p in enumerate(perm)]
    new = dict(zip(labels, perm))
    back = {v: k for k, v in new.items()}
    moved = data.assign(treat1=data["treat1"].map(new), treat2=data["treat2"].map(new))
    idx = list(range(len(moved)))
    order.shuffle(idx)
    res = contributions(netstrata.network(moved.iloc[idx].reset_index(drop=True)), method)
    if method == "shortestpath":
        assert res.matrix("common").index[0].startswith("T00_")
    base = contrib_of("senn2013", method)
    ident = {t: t for t in labels}
    for model in ("common", "random"):
        pd.testing.assert_frame_equal(_canonical(base.matrix(model), ident),
                                      _canonical(res.matrix(model), back),
                                      check_exact=False, rtol=1e-8, atol=1e-12)
        b = base.matrix(model, "study").sort_index(axis=1)
        r = res.matrix(model, "study").sort_index(axis=1)
        r.index = [":".join(sorted(back[t] for t in n.split(":"))) for n in r.index]
        b.index = [":".join(sorted(n.split(":"))) for n in b.index]
        pd.testing.assert_frame_equal(b.sort_index(), r.sort_index(), check_exact=False,
                                      rtol=1e-8, atol=1e-12)


@st.composite
def random_networks(draw):
    """A connected network: a chain T0-T1-...-Tn plus random extra two-arm studies."""
    n = draw(st.integers(3, 7))
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.floats(-1, 1), st.floats(0.1, 0.8)), max_size=12))
    rows = [(f"c{i}", f"T{i}", f"T{i + 1}", 0.1 * i, 0.3) for i in range(n - 1)]
    rows += [(f"s{j}", f"T{a}", f"T{b}", e, s) for j, (a, b, e, s) in enumerate(extra) if a != b]
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_networks(), method=st.sampled_from(["shortestpath", "randomwalk"]))
def test_rows_sum_to_one_on_random_networks(data, method):
    res = contributions(netstrata.network(data), method)
    for model in ("common", "random"):
        for level in ("comparison", "study"):
            m = res.matrix(model, level)
            np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=1e-9)
            assert (m.to_numpy() >= -1e-12).all()
        # one column per directly compared pair
        pairs = {frozenset(p) for p in zip(data["treat1"], data["treat2"])}
        assert res.matrix(model).shape[1] == len(pairs)
