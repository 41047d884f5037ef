"""The faster shortest-path stream decomposition and the per-fit memo give exactly what the
previous code gave.

``_previous_stream_row`` is the implementation that ``netstrata.nma.contrib.stream_row``
replaced (a breadth-first search from scratch for every path, over every edge with an ``alive``
flag and a dict of parents, run to exhaustion of the queue's head vertex): the oracle. The new
one removes exhausted edges from the adjacency lists and stops the search at the sink; both
must give the same path every time, hence bit-identical contributions (compared with ``==``,
not a tolerance).
"""
from __future__ import annotations

import math
import warnings
from collections import deque

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import netstrata
from netstrata.nma.contrib import aggregated_hat, contribution_frame, contributions, stream_row
from tests.test_nma_split import DATASETS, network_fit


def _previous_shortest_path(out_edges, frm, alive, source, sink):
    parent = {source: None}
    queue = deque([source])
    while queue and sink not in parent:
        v = queue.popleft()
        for edge, target in out_edges.get(v, ()):
            if alive[edge] and target not in parent:
                parent[target] = edge
                queue.append(target)
    if sink not in parent:
        return []
    path = []
    v = sink
    while (edge := parent[v]) is not None:
        path.append(edge)
        v = frm[edge]
    return path[::-1]


def _previous_stream_row(h_row, edges, source, sink):
    h = np.asarray(h_row, dtype=float).tolist()
    frm = [i if x > 0 else j for x, (i, j) in zip(h, edges)]
    to = [j if x > 0 else i for x, (i, j) in zip(h, edges)]
    vid: dict[int, int] = {}
    for a, b in zip(frm, to):
        vid.setdefault(a, len(vid))
        vid.setdefault(b, len(vid))
    out_edges: dict[int, list] = {}
    for e in sorted(range(len(edges)), key=lambda e: (vid[to[e]], e)):
        out_edges.setdefault(frm[e], []).append((e, to[e]))
    flow = [abs(x) for x in h]
    contribution = [0.0] * len(edges)
    alive = [True] * len(edges)
    while True:
        path = _previous_shortest_path(out_edges, frm, alive, source, sink)
        if not path:
            return np.array(contribution)
        phi = min(flow[e] for e in path)
        assert math.isfinite(phi)
        share = phi / len(path)
        for e in path:
            flow[e] -= phi
            contribution[e] += share
        for e in path:
            if flow[e] == 0:
                alive[e] = False


def _rows_agree(n, t1, t2, w):
    edges, h = aggregated_hat(n, t1, t2, w)
    for r, (s, t) in enumerate((i, j) for i in range(n) for j in range(i + 1, n)):
        new, old = stream_row(h[r], edges, s, t), _previous_stream_row(h[r], edges, s, t)
        assert np.array_equal(new, old), (r, s, t)


@pytest.mark.parametrize("dataset", DATASETS)
def test_stream_rows_equal_previous_code_on_reference_networks(dataset):
    """Every row of both models of the R reference networks (multi-arm ones among them:
    dogliotti2014, franchini2012, linde2015, woods2010)."""
    fit = network_fit(dataset)
    for model in ("common", "random"):
        for c in range(len(fit.parts)):
            a = fit.model_arrays(model, c)
            _rows_agree(a["n"], np.asarray(a["t1"]), np.asarray(a["t2"]), np.asarray(a["w"]))


def test_tie_breaks_equal_previous_code():
    """Many equally short paths and equal flows (ties everywhere)."""
    edges = [(0, 1), (0, 3), (1, 2), (3, 2), (2, 4), (1, 5), (5, 6), (6, 4), (3, 7), (7, 8),
             (8, 4), (0, 2), (1, 4)]
    for flow in (np.full(len(edges), 0.25), np.array([0.5, -0.5, 0.5, -0.5, 0.6, 0.4, -0.4, 0.4,
                                                      0.4, 0.4, 0.4, 0.0, 0.1])):
        for s, t in ((0, 4), (0, 8), (1, 3), (2, 7)):
            assert np.array_equal(stream_row(flow, edges, s, t), _previous_stream_row(flow, edges, s, t))


@st.composite
def _weighted_networks(draw):
    """A connected network of 3-12 treatments: a chain plus random edges, some with several
    studies, and a few three-arm studies (whose three contrasts share a study)."""
    n = draw(st.integers(3, 12))
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.2, 20)),
                          max_size=30))
    triples = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, n - 1),
                                      st.floats(0.2, 20)), max_size=4))
    t1 = list(range(n - 1))
    t2 = list(range(1, n))
    w = [1.0] * (n - 1)
    for a, b, x in extra:
        if a != b:
            t1.append(a), t2.append(b), w.append(x)
    for a, b, c, x in triples:
        if len({a, b, c}) == 3:
            t1 += [a, a, b]
            t2 += [b, c, c]
            w += [x, x / 2, x / 3]
    return n, np.array(t1), np.array(t2), np.array(w)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=_weighted_networks())
def test_stream_rows_equal_previous_code_on_random_networks(net):
    _rows_agree(*net)


@pytest.mark.parametrize("seed,equal", [(18, False), (19, True), (20, False)])
def test_generated_review_network_equals_previous_code(seed, equal):
    """A 20-treatment network with many loops (the size of the generated 100-trial review);
    equal weights make many equally short paths and equal flows."""
    rng = np.random.default_rng(seed)
    n = 20
    pairs = [(i, i + 1) for i in range(n - 1)] + [tuple(sorted(rng.choice(n, 2, replace=False))) for _ in range(60)]
    t1 = np.array([p[0] for p in pairs])
    t2 = np.array([p[1] for p in pairs])
    _rows_agree(n, t1, t2, np.ones(len(pairs)) if equal else rng.uniform(0.5, 30, len(pairs)))


@pytest.mark.parametrize("dataset", ["woods2010", "linde2015", "senn2013"])
@pytest.mark.parametrize("method", ["shortestpath", "randomwalk"])
def test_contribution_frame_is_the_matrix_of_contributions(dataset, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tests.test_nma_split import contrasts
        fit = netstrata.network(contrasts(dataset))
    first = contribution_frame(fit, "random", "study", method)   # computed before contributions()
    full = contributions(fit, method)
    for model in ("common", "random"):
        for level in ("comparison", "study"):
            pd.testing.assert_frame_equal(contribution_frame(fit, model, level, method),
                                          full.matrix(model, level), check_exact=True)
    pd.testing.assert_frame_equal(first, full.matrix("random", "study"), check_exact=True)


def test_memo_is_reused_and_copies_are_returned():
    fit = network_fit("linde2015")
    a = contribution_frame(fit, "random", "study")
    a.iloc[:, :] = -1.0                                          # a caller's edit stays its own
    b = contribution_frame(fit, "random", "study")
    assert (b.to_numpy() >= 0).all()
    assert ("contributions", "random", "shortestpath") in fit._memo
    assert fit.node_split("random") is fit.node_split("random")
    s = fit.split("random")
    s["k"] = -1
    assert (fit.split("random")["k"] >= 0).all()
    assert fit.node_split("random", tol_direct=0.001) is not fit.node_split("random")


def test_memo_is_not_part_of_the_value():
    fit = network_fit("woods2010")
    fit.split()
    assert "_memo" not in repr(fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tests.test_nma_split import contrasts
        again = netstrata.network(contrasts("woods2010"))
    assert again._memo == {}
    with pytest.raises(Exception):                               # still frozen
        fit._memo = {}


def test_contribution_frame_rejects_unknown_options():
    fit = network_fit("woods2010")
    with pytest.raises(netstrata.errors.ParameterError, match="level"):
        contribution_frame(fit, "random", "studies")
    with pytest.raises(netstrata.errors.ParameterError, match="model"):
        contribution_frame(fit, "fixed")


def test_rows_built_once_and_copied():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tests.test_nma_split import contrasts
        fit = netstrata.network(contrasts("linde2015"))
    first = fit.rows
    first.loc[0, "effect"] = 99.0                                # a caller's edit stays its own
    again = fit.rows
    assert again.loc[0, "effect"] != 99.0
    pd.testing.assert_frame_equal(again, fit.rows, check_exact=True)
    assert "rows" in fit._memo


def test_memo_survives_pickling_and_copies():
    import copy
    import pickle
    fit = network_fit("linde2015")
    before = (fit.split("random"), fit.direct("random").effect, contribution_frame(fit, "random", "study"))
    for other in (pickle.loads(pickle.dumps(fit)), copy.deepcopy(fit)):
        assert all(isinstance(k, (str, tuple)) and "id" not in str(k) for k in other._memo)
        pd.testing.assert_frame_equal(other.split("random"), before[0], check_exact=True)
        pd.testing.assert_frame_equal(other.direct("random").effect, before[1], check_exact=True)
        pd.testing.assert_frame_equal(contribution_frame(other, "random", "study"), before[2], check_exact=True)
