"""Certainty of every comparative evidence layer of every stratum (the run's rating stage).

For each stratum (split and lumped) and each comparative layer (randomised, non-randomised,
comparative) with a network or a single study:

1. the layer's own inputs: risk of bias of its studies (``rob.csv``), indirectness derived from
   its studies, intransitivity flags (:mod:`~netstrata.synthesis.intransitivity`);
2. the start level of its design (:func:`netstrata.certainty.start.start_level`: ROBINS-I
   judged non-randomised studies start High, other non-randomised evidence Low);
3. the plan's framework (``[certainty] framework``: CINeMA or GRADE for NMA) and the panel's
   overrides (``certainty-overrides.csv``);
4. lumped analyses capped at the stratified ratings of the same comparison, outcome and layer
   (:mod:`netstrata.certainty.lumping`).

Single-arm rate layers are never rated as comparative evidence. Ratings are keyed like
:func:`certainty_key`: the stratum name for its primary layer, ``"NAME [layer]"`` for the others.
"""
from __future__ import annotations

import warnings

import pandas as pd

from ..certainty.lumping import cap_lumped
from ..certainty.network import (
    FRAMEWORK_DOMAINS,
    CertaintyTable,
    network_evidence,
    rate_network,
    single_study_evidence,
)
from ..certainty.start import start_level
from ..errors import StatisticalWarning
from .certainty_inputs import (
    certainty_overrides,
    check_override_comparisons,
    check_overrides_used,
    risk_of_bias_table,
    rob_levels,
    stratum_indirectness,
)
from .certainty_plan import parse_certainty
from .intransitivity import (
    layer_flags,
    node_labeler,
    node_namer,
    stratum_label,
    study_comparisons,
)

__all__ = ["rate_project", "certainty_key", "RATED_LAYERS"]

RATED_LAYERS = ("randomised", "nonrandomised", "comparative")


def certainty_key(res, lay) -> str:
    """Key of a layer's ratings: the stratum name for its primary layer (what the summary of
    findings reads), ``"NAME [layer]"`` for the other comparative layers."""
    return res.name if lay is res.primary else f"{res.name} [{lay.layer}]"


def _evidence(lay, model: str, level: float):
    if lay.status == "network":
        return network_evidence(lay.network, model)
    study = lay.studies[0]
    return single_study_evidence(study, [(c.treat1, c.treat2, c.estimate, c.se) for c in lay.comparisons],
                                 level=level)


def _rows(lay):
    if lay.network is not None:
        return lay.network.rows
    return pd.DataFrame({"study": [lay.studies[0]] * len(lay.comparisons),
                         "treat1": [c.treat1 for c in lay.comparisons], "treat2": [c.treat2 for c in lay.comparisons]})


def _start(review, lay, rob):
    """Start level of the layer: the tools of its non-randomised studies decide (GRADE 18)."""
    design = dict(zip(review.studies["study"].astype(str), review.studies["design"].astype(str)))
    nrs = [s for s in map(str, lay.studies) if design.get(s) != "RCT"]
    return start_level(lay.layer, [rob.tools.get(s, "") for s in nrs])


def _rate_layer(review, res, lay, settings, cert, ctx, notes):
    spec = review.plan.outcome(res.stratum.outcome)
    key = certainty_key(res, lay)
    ev = _evidence(lay, settings.model, settings.level)
    rob = rob_levels(ctx["rob_table"], spec.id, lay.studies, key, notes)
    ind = stratum_indirectness(review, res, lay, ctx["fidelity"], (ctx["transitivity"] or {}).get(res.name),
                               label=node_namer(review, ctx["node_level"]))
    flags = layer_flags(review, ev, study_comparisons(review, _rows(lay)), spec.id, ctx["node_level"])
    domains, ratings = ctx["overrides"].for_layer(res.name, lay.layer)
    check_override_comparisons(ctx["overrides"], res.name, lay.layer, [c.comparison for c in ev.comparisons])
    start = _start(review, lay, rob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)   # "not assessed" is recorded in the ratings
        table = rate_network(ev, measure=spec.measure, mid=spec.mid, model=settings.model, rob=rob.levels,
                             indirectness=ind, start=start, intransitivity=flags, overrides=domains,
                             rating_overrides=ratings, rob_critical=rob.critical, **cert.rate_options())
    reference = lay.network.reference if lay.network is not None else lay.comparisons[0].treat2
    label = node_labeler(review, ctx["node_level"])
    labels = {t: label(t) for t in lay.treatments}
    return table.with_categories(reference, spec.small_values, labels=labels)


def rate_project(review, split, lumped, settings, notes: list, *, fidelity=None, transitivity=None,
                 node_level: str | None = None) -> dict:
    """Certainty tables of every rated layer, keyed as :func:`certainty_key` (see the module
    notes). Bad rob.csv, [certainty] or overrides raise DataError; a layer whose outcome has no
    MID is not rated (noted)."""
    cert = parse_certainty(review.plan.sections.get("certainty"))
    ctx = {"rob_table": risk_of_bias_table(review), "fidelity": fidelity, "transitivity": transitivity,
           "node_level": node_level,
           "overrides": certainty_overrides(review, FRAMEWORK_DOMAINS[cert.framework])}
    if ctx["rob_table"] is None:
        notes.append("certainty: the project has no rob.csv: within-study bias is not assessed and every "
                     "rating is provisional")
    out: dict[str, CertaintyTable] = {}
    rated: dict[tuple[str, str], CertaintyTable] = {}
    by_outcome: dict[tuple[str, str], dict[str, CertaintyTable]] = {}
    for res in (*split, *lumped):
        spec = review.plan.outcome(res.stratum.outcome)
        for lay in res.layers:
            if lay.layer not in RATED_LAYERS or lay.status not in ("network", "single_study"):
                continue
            if spec.mid is None:
                if lay is res.primary:
                    notes.append(f"certainty: {res.name}: outcome {spec.id!r} has no MID in the plan "
                                 "(imprecision and heterogeneity need one); not rated")
                continue
            table = _rate_layer(review, res, lay, settings, cert, ctx, notes)
            if res.stratum.lumped:
                table = cap_lumped(table, by_outcome.get((spec.id, lay.layer), {}))
            else:
                by_outcome.setdefault((spec.id, lay.layer), {})[stratum_label(review, res.stratum.values)] = table
            out[certainty_key(res, lay)] = rated[(res.name, lay.layer)] = table
    check_overrides_used(ctx["overrides"], rated)
    return out
