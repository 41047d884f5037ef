"""Split prepared records into strata and analyse each (plus the lumped analysis per outcome)."""
from __future__ import annotations

import pandas as pd

from .analyse import StratumResult, analyse_stratum
from .config import ModelSettings
from .records import Prepared
from .strata import Stratum, stratum_values

__all__ = ["assign_strata", "analyse_strata"]


def assign_strata(review, frame: pd.DataFrame, variables) -> list[Stratum]:
    """The stratum of every row of ``frame`` (columns study, outcome)."""
    cache: dict = {}
    out = []
    for s, o in zip(frame["study"], frame["outcome"]):
        if (s, o) not in cache:
            cache[(s, o)] = Stratum(o, stratum_values(variables, review, s, o))
        out.append(cache[(s, o)])
    return out


def analyse_strata(review, prepared: Prepared, settings: ModelSettings, variables,
                   *, lumped: bool = True, layer_spec=None) -> tuple[tuple[StratumResult, ...], tuple[StratumResult, ...]]:
    """(split strata results, lumped results); strata sorted by outcome (plan order) then name.
    ``layer_spec``: combine randomised and non-randomised layers (see :func:`analyse_stratum`)."""
    con, rates = prepared.contrasts, prepared.rates
    con_s = assign_strata(review, con, variables) if len(con) else []
    rate_s = assign_strata(review, rates, variables) if len(rates) else []
    order = {o: i for i, o in enumerate(review.plan.outcome_ids)}
    strata = sorted(set(con_s) | set(rate_s), key=lambda s: (order[s.outcome], s.values))
    con = con.assign(_stratum=con_s) if len(con) else con.assign(_stratum=None)
    rates = rates.assign(_stratum=rate_s) if len(rates) else rates.assign(_stratum=None)
    split = tuple(analyse_stratum(st, con[con["_stratum"] == st], rates[rates["_stratum"] == st],
                                  review.plan.outcome(st.outcome), settings, prepared.roles, layer_spec=layer_spec)
                  for st in strata) if variables else ()
    whole = ()
    if lumped or not variables:
        outs = [o for o in review.plan.outcome_ids
                if (con["outcome"] == o).any() or (rates["outcome"] == o).any()]
        whole = tuple(analyse_stratum(Stratum(o), con[con["outcome"] == o], rates[rates["outcome"] == o],
                                      review.plan.outcome(o), settings, prepared.roles, layer_spec=layer_spec)
                      for o in outs)
    return split, whole
