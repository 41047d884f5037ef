"""What ``effect_sizes`` was given: netstrata's argument names, metafor's, and column names of ``data``.

metafor's ``escalc(measure, ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i, m1i, m2i, sd1i, sd2i,
xi, mi, ri, ti, sdi, r2i, ni, yi, vi, sei, data, slab, ...)`` names map onto netstrata's as the
table :data:`METAFOR_NAMES` says. Three of them are not one-to-one:

* ``bi`` / ``di`` (non-events of group 1 / 2) give ``n_1 = ai + bi`` / ``n_2 = ci + di``;
* ``mi`` (non-events of a single group) gives ``n = xi + mi``;
* when both are given, they must agree (metafor: "One or more 'n1i' values are not equal to
  'ai + bi'"); a missing value of one is filled from the other, as metafor's ``replmiss``.

With ``data`` (a DataFrame) every value that is a string names a column of ``data``
(``effect_sizes("RR", ai="tpos", bi="tneg", ci="cpos", di="cneg", data=dat)``), as in R; any
other value is used as it is.

Already computed effects enter as ``effect``/``variance``/``se`` (metafor ``yi``/``vi``/``sei``):
they are passed through with the measure attached, as ``escalc(measure, yi=, vi=)`` does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError, closest
from ._numeric import as_numeric

__all__ = ["METAFOR_NAMES", "NETSTRATA_INPUTS", "GIVEN_EFFECTS", "Resolved", "resolve_inputs"]

CALLER = "effect_sizes"

#: The data arguments of ``effect_sizes`` in netstrata's own names.
NETSTRATA_INPUTS = ("events_1", "n_1", "events_2", "n_2", "mean_1", "sd_1", "mean_2", "sd_2",
                    "events", "n", "r", "time_1", "time_2")

#: Effects computed elsewhere, passed through (netstrata name -> metafor name).
GIVEN_EFFECTS = {"effect": "yi", "variance": "vi", "se": "sei"}

#: metafor ``escalc`` argument -> netstrata argument (None: needs arithmetic, see the module docs).
METAFOR_NAMES: dict[str, str | None] = {
    "ai": "events_1", "ci": "events_2", "n1i": "n_1", "n2i": "n_2", "bi": None, "di": None,
    "m1i": "mean_1", "m2i": "mean_2", "sd1i": "sd_1", "sd2i": "sd_2",
    "x1i": "events_1", "x2i": "events_2", "t1i": "time_1", "t2i": "time_2",
    "xi": "events", "ni": "n", "mi": None, "ri": "r",
    "yi": "effect", "vi": "variance", "sei": "se", "slab": "study",
}

#: metafor arguments of measures netstrata does not have (single-group rates and means, R²).
_UNSUPPORTED = {
    "ti": "person-time of a single group (metafor's IR, IRLN, IRS, IRFT)",
    "sdi": "the standard deviation of a single group (metafor's MN, SMN, CVLN, ...)",
    "r2i": "R-squared values (metafor's R2, ZR2)",
}

#: non-events -> (events argument, total argument) they complete
_COMPLEMENTS = {"bi": ("ai", "n_1"), "di": ("ci", "n_2"), "mi": ("xi", "n")}


@dataclass(frozen=True)
class Resolved:
    """The inputs in netstrata's names (arrays or as given), study labels and passed-through effects."""

    inputs: dict
    study: object = None
    effect: object = None
    variance: object = None
    se: object = None

    @property
    def given_effects(self) -> bool:
        return self.effect is not None or self.variance is not None or self.se is not None


def _column(data, value, name: str):
    """``data[value]`` when ``value`` is a column name, else ``value``; clear errors otherwise."""
    if not isinstance(value, str):
        return value
    if data is None:
        raise ParameterError(f"The '{name}' parameter of {CALLER} is the string {value!r}: a column name "
                             "needs data= (a DataFrame); otherwise pass the values themselves.")
    if value not in data.columns:
        cols = [str(c) for c in data.columns]
        hint = closest(value, cols)
        tail = f" Did you mean {hint!r}?" if hint else ""
        raise ParameterError(f"The '{name}' parameter of {CALLER} names the column {value!r}, which data does "
                             f"not have; its columns are {cols}.{tail}")
    return data[value]


def _check_names(columns: dict) -> None:
    for name in columns:
        if name in _UNSUPPORTED:
            raise ParameterError(f"{CALLER}: metafor's '{name}' ({_UNSUPPORTED[name]}) is not supported; "
                                 f"netstrata's measures are listed in netstrata.effects.MEASURES.")
        if name not in METAFOR_NAMES and name not in GIVEN_EFFECTS and name != "study":
            allowed = [*NETSTRATA_INPUTS, *GIVEN_EFFECTS, "study", *METAFOR_NAMES]
            hint = closest(name, allowed)
            tail = f" Did you mean {hint!r}?" if hint else ""
            raise ParameterError(f"{CALLER} got an unexpected argument {name!r}; it takes netstrata's names "
                                 f"({', '.join(NETSTRATA_INPUTS)}) or metafor's "
                                 f"({', '.join(METAFOR_NAMES)}).{tail}")


def _set(out: dict, target: str, value, source: str, sources: dict) -> None:
    if value is None:
        return
    if out.get(target) is not None:
        raise ParameterError(f"{CALLER} got '{target}' twice: as '{sources[target]}' and as '{source}'. "
                             "Give each input once.")
    out[target] = value
    sources[target] = source


def _complete(events, total, non_events, names: tuple[str, str, str]):
    """``total`` from ``events + non_events`` (metafor's n1i = ai + bi), checked against a given total."""
    ev = as_numeric(events, name=names[0])
    ne = as_numeric(non_events, name=names[2])
    if ev.shape != ne.shape:
        raise ParameterError(f"The arguments of {CALLER} must have the same length; got "
                             f"{names[0]}={ev.size}, {names[2]}={ne.size}.")
    summed = ev + ne
    if total is None:
        return summed
    tot = as_numeric(total, name=names[1])
    if tot.shape != summed.shape:
        raise ParameterError(f"The arguments of {CALLER} must have the same length; got "
                             f"{names[1]}={tot.size}, {names[2]}={ne.size}.")
    clash = np.isfinite(tot) & np.isfinite(summed) & (tot != summed)
    if clash.any():
        i = int(np.flatnonzero(clash)[0])
        raise ParameterError(f"{CALLER}: '{names[1]}' must equal '{names[0]}' + '{names[2]}'; position {i} has "
                             f"{names[1]}={tot[i]!r} but {names[0]} + {names[2]} = {summed[i]!r}.")
    return np.where(np.isnan(tot), summed, tot)


def resolve_inputs(data, own: dict, columns: dict) -> Resolved:
    """Map netstrata- and metafor-named arguments (values or column names of ``data``) to netstrata's.

    ``own`` holds the keyword arguments of ``effect_sizes`` in netstrata's names (None when not
    given); ``columns`` the other keyword arguments (metafor names, ``study``, ``effect``...).
    """
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ParameterError(f"The 'data' parameter of {CALLER} must be a pandas DataFrame. "
                             f"Got {type(data).__name__} instead.")
    _check_names(columns)
    out: dict = {}
    sources: dict = {}
    for name, value in own.items():
        _set(out, name, _column(data, value, name), name, sources)
    for name, value in columns.items():
        target = METAFOR_NAMES.get(name, name)
        if target is not None:
            _set(out, target, _column(data, value, name), name, sources)
    for name, (events_name, total) in _COMPLEMENTS.items():
        if columns.get(name) is None:
            continue
        events = out.get(METAFOR_NAMES[events_name])
        if events is None:
            raise ParameterError(f"{CALLER}: '{name}' (non-events) needs '{events_name}' (events) as well.")
        value = _complete(events, out.get(total), _column(data, columns[name], name),
                          (events_name, sources.get(total, total), name))
        out[total] = value
        sources[total] = name
    given = {k: out.pop(k, None) for k in (*GIVEN_EFFECTS, "study")}
    inputs = {k: out.get(k) for k in NETSTRATA_INPUTS}
    return Resolved(inputs, given["study"], given["effect"], given["variance"], given["se"])
