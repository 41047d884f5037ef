"""Split prepared records into strata and analyse each (plus the lumped analysis per outcome)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .analyse import StratumResult, analyse_stratum
from .config import ModelSettings
from .evidence import EVIDENCE_LAYERS, EvidencePlan
from .records import Prepared
from .strata import Stratum, stratum_values

__all__ = ["assign_strata", "analyse_strata"]


def assign_strata(review, frame: pd.DataFrame, variables, cache: dict | None = None) -> list[Stratum]:
    """The stratum of every row of ``frame`` (columns study, outcome); ``cache``: a dict
    (study, outcome) -> Stratum to reuse across calls on the same review and variables."""
    cache = {} if cache is None else cache
    out = []
    for s, o in zip(frame["study"], frame["outcome"]):
        if (s, o) not in cache:
            cache[(s, o)] = Stratum(o, stratum_values(variables, review, s, o))
        out.append(cache[(s, o)])
    return out


def analyse_strata(review, prepared: Prepared, settings: ModelSettings, variables,
                   *, lumped: bool = True, layer_spec=None,
                   evidence: EvidencePlan | None = None, strata_cache: dict | None = None,
                   analyse=analyse_stratum, positions: bool = False
                   ) -> tuple[tuple[StratumResult, ...], tuple[StratumResult, ...]]:
    """(split strata results, lumped results); strata sorted by outcome (plan order) then name.
    ``layer_spec``: combine randomised and non-randomised layers (see :func:`analyse_stratum`).
    ``evidence``: the plan's declared layers per stratum (default: all). With stratification
    variables, a record's layer is declared or not by its own stratum, and the lumped analysis of
    an outcome uses the declared records only (its ``excluded`` is empty: the split strata hold
    the register rows); without variables the lumped strata are matched themselves.
    ``strata_cache`` (see :func:`assign_strata`) and ``analyse`` (a function with the signature of
    :func:`analyse_stratum`, e.g. a memoised one) let the multiverse reuse work across specifications.
    ``positions=True``: ``analyse`` is given the positions (int arrays, in order) of the stratum's
    rows in ``prepared.contrasts`` and ``prepared.rates`` instead of frames (a memo can then tell
    which records a stratum holds without building its frames)."""
    evidence = evidence or EvidencePlan()
    con, rates = prepared.contrasts, prepared.rates
    con_s = assign_strata(review, con, variables, strata_cache) if len(con) else []
    rate_s = assign_strata(review, rates, variables, strata_cache) if len(rates) else []
    order = {o: i for i, o in enumerate(review.plan.outcome_ids)}
    strata = sorted(set(con_s) | set(rate_s), key=lambda s: (order[s.outcome], s.values))
    if positions:
        def rows_of(frame, at):
            return at
    else:
        con = con.assign(_stratum=con_s) if len(con) else con.assign(_stratum=None)
        rates = rates.assign(_stratum=rate_s) if len(rates) else rates.assign(_stratum=None)

        def rows_of(frame, at):
            return frame.take(at)      # frame[mask] of these rows: same rows, index labels kept
    con_at, rate_at = np.arange(len(con)), np.arange(len(rates))     # rows in play
    split: tuple[StratumResult, ...] = ()
    if variables:
        declared = {st: evidence.layers_for(st) for st in strata}
        con_k, rate_k = _groups(_stratum_codes(con_s, strata)), _groups(_stratum_codes(rate_s, strata))
        split = tuple(_with_arms(review, analyse(
            st, rows_of(con, con_k(k)), rows_of(rates, rate_k(k)), review.plan.outcome(st.outcome),
            settings, prepared.roles, layer_spec=layer_spec, layers=declared[st])) for k, st in enumerate(strata))
        dropped = {k for res in split for k in _keys(res.excluded)}
        if dropped:
            con_at = con_at[[not dropped.issuperset(r) for r in con["records"]]]
            rate_at = rate_at[[not dropped.issuperset(r) for r in rates["records"]]]
    whole: tuple[StratumResult, ...] = ()
    if lumped or not variables:
        con_o, rate_o = (_codes(f["outcome"].tolist(), at, order) for f, at in ((con, con_at), (rates, rate_at)))
        outs = [o for o in review.plan.outcome_ids if (con_o == order[o]).any() or (rate_o == order[o]).any()]
        con_of, rate_of = _groups(con_o), _groups(rate_o)
        whole = tuple(_with_arms(review, analyse(
            Stratum(o), rows_of(con, con_at[con_of(order[o])]), rows_of(rates, rate_at[rate_of(order[o])]),
            review.plan.outcome(o), settings, prepared.roles, layer_spec=layer_spec,
            layers=_lumped_layers(evidence, Stratum(o), split) if variables else evidence.layers_for(Stratum(o))))
            for o in outs)
    return split, whole


def _codes(values: list, at: np.ndarray, order: dict) -> np.ndarray:
    """``order[values[i]]`` (-1 when absent) for the positions ``at``."""
    return np.fromiter((order.get(values[i], -1) for i in at.tolist()), dtype=np.intp, count=len(at))


def _groups(codes: np.ndarray):
    """``group(k)`` = ``np.flatnonzero(codes == k)``, the codes sorted once (stable) instead of a
    comparison per group."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(codes.max(initial=-1) + 2))

    def group(k: int) -> np.ndarray:
        if 0 <= k < len(bounds) - 1:
            return order[bounds[k]:bounds[k + 1]]
        return order[:0]
    return group


def _stratum_codes(labels: list, strata: list) -> np.ndarray:
    """Each row's position in ``strata``: ``codes == k`` is the mask ``frame["_stratum"] == strata[k]``
    (one dictionary look-up per row instead of a Stratum comparison per row and stratum)."""
    at = {st: k for k, st in enumerate(strata)}
    return np.fromiter((at[s] for s in labels), dtype=np.intp, count=len(labels))


def _keys(rows) -> set:
    return {(r.file.removesuffix(".csv"), r.row) for r in rows}


def _lumped_layers(evidence: EvidencePlan, lumped: Stratum, split) -> tuple[str, ...]:
    """Declared layers of a lumped analysis with variables: those of the outcome's strata."""
    found = {x for res in split if res.stratum.outcome == lumped.outcome for x in res.declared}
    return tuple(x for x in EVIDENCE_LAYERS if x in found) or evidence.layers_for(lumped)


def _with_arms(review, res: StratumResult) -> StratumResult:
    """Register rows of arm-level records get the arm and time point of their outcomes.csv row."""
    if not res.excluded:
        return res
    out = review.outcomes
    rows = tuple(replace(e, arm=str(out.at[e.row, "arm"]), timepoint_weeks=_weeks(out.at[e.row, "timepoint_weeks"]))
                 if e.file == "outcomes.csv" and e.row in out.index else e for e in res.excluded)
    return replace(res, excluded=rows)


def _weeks(t) -> float | None:
    return None if t is None or pd.isna(t) else float(t)
