"""Contribution matrix of a network meta-analysis (netmeta's ``netcontrib``).

Row ``c`` of the contribution matrix says which share of the network estimate of comparison
``c`` comes from each direct comparison (a column). Both methods start from the aggregated hat
matrix ``H = B_full L⁺ Bᵀ W`` of the network (one column per direct comparison, ``W`` the summed
inverse variances of the direct comparison's study contrasts) and read a row of ``H`` as a flow
from the first to the second treatment of ``c``:

* ``"shortestpath"`` (default): Papakonstantinou et al. (2018) stream decomposition. Repeatedly
  take the shortest path (fewest edges; ties broken exactly as igraph's breadth-first search
  does, see :func:`_shortest_path`), send the smallest flow along it, credit each of its edges
  with ``flow / path length`` and delete edges whose flow is exhausted.
* ``"randomwalk"``: Davies et al. (2022). A random walk from source to sink with transition
  probabilities proportional to the (positive) flows; an edge's contribution is the sum over
  all source-sink paths through it of ``P(path) / length(path)``.

Per-study contributions (needed for CINeMA's within-study bias and indirectness domains)
split a direct comparison's share among the studies that contribute to it, in proportion to
their weights ``1 / se_adj²`` in that comparison (``se_adj`` is the multi-arm adjusted standard
error of the study's contrast, including τ² for the random effects model). Each row of the
study-level matrix therefore still sums to 1.

References
----------
Papakonstantinou T, Nikolakopoulou A, Rücker G, et al. Estimating the contribution of studies
in network meta-analysis: paths, flows and streams. F1000Research 2018;7:610.
doi:10.12688/f1000research.14770.3
Davies AL, Papakonstantinou T, Nikolakopoulou A, Rücker G, Galla T. Network meta-analysis and
random walks. Stat Med 2022;41:2091-2114. doi:10.1002/sim.9346
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from netstrata._summary import Summary

from .._validate import check_option

__all__ = ["ContributionResult", "CONTRIBUTION_METHODS", "contribution_frame", "contribution_matrix", "contributions"]

_EPS = np.finfo(float).eps


@dataclass(frozen=True, slots=True)
class _Method:
    code: str
    label: str
    reference: str


CONTRIBUTION_METHODS = {
    "shortestpath": _Method("shortestpath", "shortest-path streams (Papakonstantinou 2018)",
                            "doi:10.12688/f1000research.14770.3"),
    "randomwalk": _Method("randomwalk", "random walk (Davies 2022)", "doi:10.1002/sim.9346"),
}


# --------------------------------------------------------------------------- kernels
def aggregated_hat(n: int, pos1: np.ndarray, pos2: np.ndarray, weight: np.ndarray):
    """Aggregated hat matrix (netmeta's ``hatmatrix.aggr``, type "long").

    Edges are the direct comparisons ``i < j`` in treatment order. ``W_e = Σ w_k`` over the
    study contrasts k of edge e; ``L = Bᵀ W B``; ``L⁺ = (L − J/n)⁻¹ + J/n`` (Rücker 2012);
    ``H_long = B_full L⁺ Bᵀ W`` (rows: all n(n−1)/2 comparisons, columns: edges).
    Returns ``(edges, H_long)``; ``edges`` is a list of (i, j) position pairs.
    """
    lo, hi = np.minimum(pos1, pos2), np.maximum(pos1, pos2)
    edges = sorted(set(zip(lo.tolist(), hi.tolist())))
    w_edge = np.array([weight[(lo == i) & (hi == j)].sum() for i, j in edges])
    b = np.zeros((len(edges), n))
    for r, (i, j) in enumerate(edges):
        b[r, i], b[r, j] = 1.0, -1.0
    lap = b.T @ (w_edge[:, None] * b)
    jn = np.full((n, n), 1.0 / n)
    lplus = np.linalg.solve(lap - jn, np.eye(n)) + jn
    lplus[np.abs(lplus) < 10 * _EPS] = 0.0            # netmeta: L.plus[is.zero(L.plus)] <- 0
    b_full = np.zeros((n * (n - 1) // 2, n))
    for r, (i, j) in enumerate(combinations(range(n), 2)):
        b_full[r, i], b_full[r, j] = 1.0, -1.0
    return edges, b_full @ lplus @ b.T @ np.diag(w_edge)


def _shortest_path(adjacency: list[list[tuple[int, int]]], frm: list[int], n: int,
                   source: int, sink: int) -> list[int]:
    """Edge ids of the breadth-first shortest path source → sink ([] if unreachable).

    Mirrors igraph's unweighted ``get_shortest_paths`` (used by netmeta): FIFO search, each
    vertex's out-edges visited in order of (target vertex id, edge id), a vertex keeps the edge
    it was first reached by. ``adjacency[v]`` lists (edge, target) of every remaining edge out
    of ``v`` in that order (deleted edges are removed from it). The search stops when the sink
    is reached: the parents on its path were all set before, so the path is the one a full
    search gives.
    """
    parent = [-1] * n
    seen = [False] * n
    seen[source] = True
    queue = [source]
    for v in queue:                             # the list grows while it is read: a FIFO queue
        for edge, target in adjacency[v]:
            if seen[target]:
                continue
            parent[target] = edge
            if target == sink:
                path = [edge]
                v = frm[edge]
                while v != source:
                    edge = parent[v]
                    path.append(edge)
                    v = frm[edge]
                return path[::-1]
            seen[target] = True
            queue.append(target)
    return []


def stream_row(h_row: np.ndarray, edges: Sequence[tuple[int, int]], source: int, sink: int):
    """Shortest-path stream contributions of one hat-matrix row (Papakonstantinou 2018).

    Edge e = (i, j) points i → j if ``h_row[e] > 0`` and j → i otherwise, carrying flow
    ``|h_row[e]|``. Vertex ids follow first appearance in the directed edge list, as
    ``igraph::graph_from_edgelist`` numbers them, so ties between equally short paths are
    broken as in netmeta. Repeat: shortest path p; φ = min flow on p; every edge on p loses φ
    and gains φ/|p| contribution; exhausted edges on p are deleted.

    The out-edge lists are sorted once and an exhausted edge is removed from its list
    (deleting an edge does not change the order of the others); the arithmetic is on Python
    floats, which are the same IEEE doubles.
    """
    h = np.asarray(h_row, dtype=float).tolist()
    frm = [i if x > 0 else j for x, (i, j) in zip(h, edges)]
    to = [j if x > 0 else i for x, (i, j) in zip(h, edges)]
    vid: dict[int, int] = {}
    for a, b in zip(frm, to):
        vid.setdefault(a, len(vid))
        vid.setdefault(b, len(vid))
    n = max(max(frm, default=0), max(to, default=0), source, sink) + 1
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for e in sorted(range(len(edges)), key=lambda e: (vid[to[e]], e)):
        adjacency[frm[e]].append((e, to[e]))
    flow = [abs(x) for x in h]
    contribution = [0.0] * len(edges)
    while True:
        path = _shortest_path(adjacency, frm, n, source, sink)
        if not path:
            return np.array(contribution)
        phi = min([flow[e] for e in path])
        if not math.isfinite(phi):          # a non-finite hat matrix would never exhaust
            raise FloatingPointError("non-finite flow in the hat matrix row")
        share = phi / len(path)
        for e in path:
            flow[e] -= phi
            contribution[e] += share
        for e in path:
            if flow[e] == 0:
                adjacency[frm[e]].remove((e, to[e]))


def _simple_paths(p: np.ndarray, source: int, sink: int):
    """All simple paths source → sink in the directed graph with adjacency ``p != 0``."""
    stack = [(source, [source])]
    while stack:
        v, path = stack.pop()
        for w in np.flatnonzero(p[v])[::-1]:
            if w == v or w in path:
                continue
            if w == sink:
                yield path + [int(w)]
            else:
                stack.append((int(w), path + [int(w)]))


def random_walk_row(h_full_row: np.ndarray, n: int, source: int, sink: int) -> np.ndarray:
    """Random-walk contributions of one row of the full hat matrix (Davies 2022).

    Q[i, j] = H[r, (i, j)] (antisymmetric), negative entries set to 0; transition matrix
    P = diag(rowsums Q)⁺ Q with the sink absorbing. Streams: every simple path π from source to
    sink adds Π P(π) / |π| to each of its edges. Returns the n(n−1)/2 edge contributions.
    """
    q = np.zeros((n, n))
    iu = np.triu_indices(n, 1)                    # row-wise (i < j) order, as netmeta's uppertri
    q[iu] = h_full_row
    q = q - q.T
    q[q <= 0] = 0.0
    rs = q.sum(axis=1)
    keep = rs > np.sqrt(_EPS) * rs.max()          # MASS::ginv tolerance on a diagonal matrix
    p = np.zeros_like(q)
    p[keep] = q[keep] / rs[keep, None]
    p[sink] = 0.0
    p[sink, sink] = 1.0
    p[np.abs(p) < 1000 * _EPS] = 0.0
    streams = np.zeros((n, n))
    for path in _simple_paths(p, source, sink):
        steps = list(zip(path[:-1], path[1:]))
        prob = np.prod([p[a, b] for a, b in steps]) / len(steps)
        for a, b in steps:
            streams[a, b] += prob
    streams = np.maximum(streams, streams.T)
    return streams[iu]


def contribution_matrix(n: int, t1: np.ndarray, t2: np.ndarray, weight: np.ndarray,
                        method: str = "shortestpath"):
    """Contribution matrix of all n(n−1)/2 comparisons (rows) on the direct ones (columns).

    ``t1``, ``t2``, ``weight`` are the study contrasts (treatment positions, reduced weights
    ``1/se_adj²``). Returns ``(edges, matrix)``; rows follow ``itertools.combinations(range(n),
    2)``, columns ``edges``. Entries below 10ε are set to 0, as netmeta does.
    """
    edges, h_long = aggregated_hat(n, np.asarray(t1), np.asarray(t2), np.asarray(weight))
    comps = list(combinations(range(n), 2))
    if method == "shortestpath":
        out = np.array([stream_row(h_long[r], edges, s, t) for r, (s, t) in enumerate(comps)])
    else:
        col = [comps.index(e) for e in edges]
        h_full = np.zeros((len(comps), len(comps)))
        h_full[:, col] = h_long
        full = np.array([random_walk_row(h_full[r], n, s, t) for r, (s, t) in enumerate(comps)])
        out = full[:, col]
    out[np.abs(out) < 10 * _EPS] = 0.0
    return edges, out.reshape(len(comps), len(edges))


def study_shares(t1: np.ndarray, t2: np.ndarray, weight: np.ndarray, study: Sequence[str],
                 edges: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """Share of each study within each direct comparison: ``w_k / Σ_{k' ∈ edge} w_k'``.

    Rows: edges; columns: studies (first-appearance order). A multi-arm study gets a share in
    every edge it informs, with the reduced weight of that contrast.
    """
    lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
    labels = list(dict.fromkeys(study))
    share = np.zeros((len(edges), len(labels)))
    col = {s: c for c, s in enumerate(labels)}
    for e, (i, j) in enumerate(edges):
        rows = np.flatnonzero((lo == i) & (hi == j))
        w = weight[rows]
        for r, wr in zip(rows.tolist(), w / w.sum()):
            share[e, col[study[r]]] += wr
    return pd.DataFrame(share, columns=labels)


@dataclass(frozen=True, slots=True)
class ContributionResult:
    """Contribution matrices (rows: network comparisons 'A:B'; columns: direct comparisons).

    ``common``/``random``: comparison × direct comparison; ``study_common``/``study_random``:
    comparison × study, each direct share split over its studies in proportion to their
    (reduced, model-specific) inverse-variance weights. Every row of every matrix sums to 1.
    """

    method: str
    common: pd.DataFrame
    random: pd.DataFrame
    study_common: pd.DataFrame
    study_random: pd.DataFrame

    def matrix(self, model: str = "random", level: str = "comparison") -> pd.DataFrame:
        """The contribution matrix of ``model`` at ``level`` ('comparison' or 'study')."""
        key = model if level == "comparison" else f"study_{model}"
        return getattr(self, key).copy()

    def summary(self, model: str = "random") -> Summary:
        note = (f"{CONTRIBUTION_METHODS[self.method].label}, {model} effects model; "
                "shares of each network estimate (row) by direct comparison (column).")
        return Summary(title="Contribution matrix", frame=self.matrix(model), notes=(note,))

    def __repr__(self) -> str:
        r, c = self.common.shape
        return (f"ContributionResult(method={self.method!r}, comparisons={r}, direct={c}, "
                f"studies={self.study_common.shape[1]})")


def _component(arrays: dict, method: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Comparison- and study-level contribution matrices of one connected (sub-)network."""
    trts, n = arrays["treatments"], arrays["n"]
    t1, t2, w = arrays["t1"], arrays["t2"], arrays["w"]
    edges, mat = contribution_matrix(n, t1, t2, w, method)
    rows = [f"{trts[i]}:{trts[j]}" for i, j in combinations(range(n), 2)]
    cols = [f"{trts[i]}:{trts[j]}" for i, j in edges]
    labels = [arrays["studies"][s] for s in arrays["study"]]
    shares = study_shares(t1, t2, w, labels, edges)
    comp = pd.DataFrame(mat, index=rows, columns=cols)
    study = pd.DataFrame(mat @ shares.to_numpy(), index=rows, columns=shares.columns)
    return comp, study


def contributions(fit, method: str = "shortestpath") -> ContributionResult:
    """Contribution matrix of a network meta-analysis (netmeta ``netcontrib``).

    Parameters
    ----------
    fit : NetworkResult
        A network meta-analysis from :func:`netstrata.network`.
    method : {"shortestpath", "randomwalk"}, default="shortestpath"
        Stream decomposition of Papakonstantinou et al. (2018) or the random walk of Davies et
        al. (2022).

    Returns
    -------
    ContributionResult
        Common and random effects matrices (comparison × direct comparison) and their study-level
        versions. A disconnected network gives a block matrix: each sub-network's comparisons
        draw only on its own direct comparisons and studies.
    """

    method = check_option(method, name="method", allowed=tuple(CONTRIBUTION_METHODS),
                          caller="contributions")
    out = {}
    for model in ("common", "random"):
        comp, study = _model_matrices(fit, model, method)
        out[model], out[f"study_{model}"] = comp.copy(), study.copy()
    return ContributionResult(method=method, **out)


def contribution_frame(fit, model: str = "random", level: str = "comparison",
                       method: str = "shortestpath") -> pd.DataFrame:
    """One matrix of :func:`contributions`: ``contributions(fit, method).matrix(model, level)``,
    computing only that model (and, for a NetworkResult, once per fit: the certainty ratings
    and ``results.json`` read the same matrix).

    Parameters
    ----------
    fit : NetworkResult
    model : {"common", "random"}, default="random"
    level : {"comparison", "study"}, default="comparison"
    method : {"shortestpath", "randomwalk"}, default="shortestpath"
    """
    method = check_option(method, name="method", allowed=tuple(CONTRIBUTION_METHODS),
                          caller="contributions")
    model = check_option(model, name="model", allowed=("common", "random"), caller="contribution_frame")
    level = check_option(level, name="level", allowed=("comparison", "study"), caller="contribution_frame")
    comp, study = _model_matrices(fit, model, method)
    return (comp if level == "comparison" else study).copy()


def _model_matrices(fit, model: str, method: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(comparison-level, study-level) matrices of one model, all sub-networks stacked; kept in
    the fit's memo when it has one (a NetworkResult), so each is computed once per fit."""
    memo = getattr(fit, "_memo", None)
    key = ("contributions", model, method)
    if memo is not None and key in memo:
        return memo[key]
    parts = [_component(fit.model_arrays(model, c), method) for c in range(len(fit.parts))]
    out = (pd.concat([p[0] for p in parts]).fillna(0.0), pd.concat([p[1] for p in parts]).fillna(0.0))
    if memo is not None:
        memo[key] = out
    return out
