"""The parts of a network's results a guideline panel reads beyond its estimates, as plain data
for ``results.json``: rankings (P-scores with SUCRA and rank intervals from resampling),
node splitting (where the network has loops) and the study contribution matrix.

Ranks are resampled with the run's seed (:meth:`NetworkResult.rank_resample`, netmeta
``rankogram``), so the same inputs give the same bytes; node splitting is netmeta's ``netsplit``
back-calculation; contributions are netmeta's ``netcontrib`` shortest-path method (random
effects, study level). A part that cannot be computed is None, never an error.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError
from ..nma.contrib import contribution_frame

__all__ = ["network_views", "RANK_DRAWS"]

#: resampling draws for rank intervals (Monte Carlo error of SUCRA about 0.005)
RANK_DRAWS = 4000
_SPLIT = ("comparison", "k", "prop", "network_effect", "network_ci_low", "network_ci_high", "direct_effect",
          "direct_ci_low", "direct_ci_high", "indirect_effect", "indirect_ci_low", "indirect_ci_high",
          "difference_effect", "difference_pvalue", "status", "evidence")
_ERRORS = (ParameterError, ValueError, ArithmeticError, KeyError, IndexError, TypeError, RuntimeError)


def _num(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return x
    return x if math.isfinite(x) else None


def _ranks(net, seed) -> list[dict] | None:
    try:
        table = net.rank_resample("random", n_draws=RANK_DRAWS, seed=seed).table
        ps = net.p_scores("random")
    except _ERRORS:
        return None
    return [{"treatment": str(t), "p_score": _num(ps.get(t)), "sucra": _num(r["sucra"]),
             "median_rank": _num(r["median_rank"]), "rank_ci_low": _num(r["rank_ci_low"]),
             "rank_ci_high": _num(r["rank_ci_high"])} for t, r in table.iterrows()]


def _split(net) -> list[dict] | None:
    try:
        table = net.split("random")
    except _ERRORS:
        return None
    cols = [c for c in _SPLIT if c in table.columns]
    values = [[str(v) for v in table[c].tolist()] if c in ("comparison", "status", "evidence")
              else [_num(v) for v in table[c].tolist()] for c in cols]     # a column at a time
    return [dict(zip(cols, row)) for row in zip(*values)] if cols else [{} for _ in range(len(table))]


def _contributions(net) -> dict | None:
    try:
        m = contribution_frame(net, "random", "study")
    except _ERRORS:
        return None
    values = m.to_numpy(float)
    matrix = values.tolist()                           # _num of every cell: non-finite -> None
    for i, j in np.argwhere(~np.isfinite(values)).tolist():
        matrix[i][j] = None
    return {"comparisons": [str(c) for c in m.index], "studies": [str(s) for s in m.columns],
            "matrix": matrix}


def network_views(net, *, seed: int | None = 0) -> dict:
    """``{"ranks", "node_split", "has_loops", "contributions"}`` of a NetworkResult."""
    split = _split(net)
    loops = split is not None and any(r.get("status") == "assessable" for r in split)
    return {"ranks": _ranks(net, seed), "node_split": split, "has_loops": loops,
            "contributions": _contributions(net)}
