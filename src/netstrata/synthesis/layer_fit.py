"""A comparative layer's records as the analysis reads them, and their network fit.

:class:`_Rows` holds a layer's columns (extracted once, from a frame or from a specification's
shared columns: :mod:`~netstrata.synthesis.primary`); :func:`_curve_network` fits them without
the DataFrame checks of :func:`netstrata.network` (the records were built and checked by
:mod:`~netstrata.synthesis.records`), :func:`_cached_league` shares that fit between layers with the
same input, and :class:`_League` is what the comparisons read from a fit
(:func:`~netstrata.synthesis.analyse._with_network`). Private to :mod:`~netstrata.synthesis.analyse`
and :mod:`~netstrata.synthesis.primary`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .._validate import check_level, check_option
from ..nma.network import SMALL_VALUES, TAU2_METHODS, network_prepared
from ..nma.prepare import arm_level_columns, contrast_input, prepare_rows
from ..nma.tables import wald
from .choices import ARM_COLUMNS
from .config import ModelSettings

__all__ = ["choose_reference"]


@dataclass(frozen=True, slots=True)
class _Rows:
    """The records of one comparative layer as the analysis reads them: label lists and the
    effect / se columns (each extracted once, ``to_numpy()`` of the column's own dtype), the
    columns :func:`netstrata.network` would be given and the contrasts' measure; ``frame``
    gives the records as a DataFrame for the fallback paths (``network`` with its checks)."""

    study: list
    treat1: list
    treat2: list
    effect: np.ndarray
    se: np.ndarray
    network_columns: list[str]
    measure: str | None
    frame: Callable[[], pd.DataFrame]


def _rows_of(rows: pd.DataFrame) -> _Rows:
    return _Rows(rows["study"].tolist(), rows["treat1"].tolist(), rows["treat2"].tolist(),
                 rows["effect"].to_numpy(), rows["se"].to_numpy(), _network_columns(rows),
                 contrast_input(rows, None, "network")[1], lambda: rows)


@dataclass(frozen=True, slots=True)
class _League:
    """What the comparisons of a network read (one model): its treatments, the league estimates,
    SEs and confidence limits (n × n), the prediction limits or None, and its number of sub-networks."""

    treatments: tuple[str, ...]
    te: np.ndarray
    se: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    pi: tuple[np.ndarray, np.ndarray] | None
    parts: int


def _league(net, model: str, prediction: bool = True) -> _League:
    """The :class:`_League` of a NetworkResult; ``prediction=False`` (a specification curve):
    no prediction intervals."""
    te, se = net.league_arrays(model)
    lo, hi, _, _ = wald(te, se, net.level)      # as NetworkResult.league_ci
    pi = None
    if prediction and model == "random":
        _, pi_lo, pi_hi = (x.to_numpy() for x in net.prediction())
        pi = (pi_lo, pi_hi)
    return _League(tuple(net.treatments), te, se, lo, hi, pi, len(net.parts))


def _network_columns(rows: pd.DataFrame) -> list[str]:
    """The contrast columns plus the arm-level ones when every row has them (netmeta then models
    the multi-arm covariance in REML, as from arm-level data)."""
    arm = [c for c in ARM_COLUMNS if c in rows.columns and rows[c].notna().all()]
    return ["study", "treat1", "treat2", "effect", "se"] + arm


def _curve_network(rows: _Rows, settings: ModelSettings, small_values: str, reference):
    """``network(...)`` of a layer's records without the DataFrame checks (the records were
    built and checked by :mod:`~netstrata.synthesis.records`): the same NetworkResult; None when
    :func:`~netstrata.nma.prepare.prepare_rows` finds a row :func:`netstrata.network` would drop
    or reject (the caller then runs ``network`` for its warning or message)."""
    blocks: list = []
    prep = prepare_rows(rows.study, rows.treat1, rows.treat2, np.asarray(rows.effect, dtype=float),
                        np.asarray(rows.se, dtype=float), covariance=arm_level_columns(rows.network_columns),
                        blocks=blocks)
    if prep is None:
        return None
    measure = rows.measure
    small = check_option(SMALL_VALUES.get(small_values, small_values), name="small_values",
                         allowed=("desirable", "undesirable"), caller="network")
    return network_prepared(prep, method=check_option(settings.network, name="method", allowed=tuple(TAU2_METHODS),
                                                      caller="network"),
                            reference=reference, small_values=small, level=check_level(settings.level, caller="network"),
                            measure=measure, blocks=tuple(blocks))


def _cached_league(rows: _Rows, settings: ModelSettings, small_values: str, reference, networks) -> _League | None:
    """The curve's :class:`_League` of ``_curve_network(rows, ...)`` through ``networks`` (an
    object with ``lookup(key)`` and ``store(key, value)``), keyed by the exact input of the fit
    (labels, the bits of the effects and SEs, columns, measure, reference and settings): layers
    that give a network the same rows (e.g. randomised and comparative evidence when every study
    is randomised) share one fit. The warnings of the fit are raised again on every use, so the
    layer's notes are those of its own fit. None when :func:`_curve_network` gives None."""
    key = (tuple(rows.study), tuple(rows.treat1), tuple(rows.treat2), np.asarray(rows.effect, dtype=float).tobytes(),
           np.asarray(rows.se, dtype=float).tobytes(), tuple(rows.network_columns), rows.measure, reference,
           small_values, settings.network, settings.level, settings.model)
    hit = networks.lookup(key)
    if hit is None:
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                net = _curve_network(rows, settings, small_values, reference)
        finally:
            for w in caught:            # to the caller's warnings_noted, in order
                warnings.warn(w.message)
        hit = networks.store(key, (None if net is None else _league(net, settings.model, prediction=False),
                                   tuple(w.message for w in caught)))
    else:
        for message in hit[1]:
            warnings.warn(message)
    return hit[0]


def choose_reference(rows: pd.DataFrame, roles: dict, preferred: tuple[str, ...] = ()) -> str | None:
    """The network's reference treatment: the first of the plan's ``preferred`` nodes present;
    else the control node (sham, usual care...) in the most studies (ties: alphabetical); else
    None (netmeta's default, the first treatment)."""
    return _reference(rows["treat1"].tolist(), rows["treat2"].tolist(), rows["study"].tolist(), roles, preferred)


def _reference(t1: list, t2: list, study: list, roles: dict, preferred: tuple[str, ...]) -> str | None:
    """:func:`choose_reference` of label lists."""
    present = set(t1) | set(t2)
    for node in preferred:
        if node in present:
            return node
    studies: dict[str, set] = {}
    for a, b, s in zip(t1, t2, study):
        for t in (a, b):
            if roles.get(t) == "control":
                studies.setdefault(t, set()).add(s)
    counts = {t: len(s) for t, s in studies.items()}
    return min(counts, key=lambda t: (-counts[t], t)) if counts else None
