"""What a run records for its readers beyond the estimates: labels (glossary), outcome facts
(direction, MID, the plan's baseline risks), the known-trials omission check, the panel, the
stratified-versus-lumped contrasts, and the counts every output reads (:func:`run_counts`).

One source for every count: the CLI summary, the HTML report and ``results.json`` all read
:func:`run_counts` of the same result, so they cannot disagree.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import ParameterError, closest
from .contrast_strata import contrast_strata
from .labels import glossary

if TYPE_CHECKING:
    from .result import ProjectExtras

__all__ = ["report_facts", "outcome_facts", "primary_level", "run_counts", "known_trials"]


def primary_level(sens, pack, level: str):
    """``sens`` (a SensitivityPlan) with ``level`` first among the node-level alternatives, so the
    multiverse's primary specification is the run's level (``--level``)."""
    if level not in pack.level_names:
        hint = closest(level, pack.level_names)
        raise ParameterError(f"The node level must be one of {{{', '.join(repr(n) for n in pack.level_names)}}}. "
                             f"Got {level!r} instead." + (f" Did you mean {hint!r}?" if hint else ""))
    dims = []
    for name, alts in sens.dimensions:
        if name == "node_level":
            alts = (level, *(a for a in alts if a != level))
        dims.append((name, tuple(alts)))
    return replace(sens, dimensions=tuple(dims))


def outcome_facts(plan) -> dict[str, dict]:
    """Per outcome: label, kind, measure, direction, MID and the baseline risk of ``[report]
    baseline_risk`` (control-group risk for absolute effects per 1000; binary outcomes)."""
    from .config import parse_report  # the check validate makes: one source
    risks = parse_report(plan.sections.get("report"), plan, file=plan.source or "netstrata.toml").risks()
    return {o.id: {"label": o.label, "kind": o.kind, "measure": o.measure, "small_values": o.small_values,
                   "mid": o.mid, "baseline_risk": float(risks[o.id]) if o.id in risks else None}
            for o in plan.outcomes}


def known_trials(review) -> list[dict]:
    """The plan's known trials (omission check): status (included / excluded / not found),
    register reasons and the note, one dict per trial."""
    frame = review.known_trials
    if frame is None or not len(frame):
        return []
    cols = [c for c in ("study", "citation", "status", "reasons", "note") if c in frame.columns]
    return [{c: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)) for c, v in r.items()}
            for r in frame[cols].to_dict("records")]


def report_facts(review, split, lumped, settings, *, node_level, fidelity=None, panel=None) -> ProjectExtras:
    """The ProjectResult fields of this module (keyword arguments of ProjectResult)."""
    strata = (*split, *lumped)
    return {"glossary": glossary(review, node_level, strata, fidelity),
            "outcomes": outcome_facts(review.plan), "known_trials": tuple(known_trials(review)),
            "panel": panel,
            "contrasts": contrast_strata(review, split, lumped, settings, node_level=node_level, fidelity=fidelity)}


def run_counts(result) -> dict:
    """Every count a reader sees, from one result (ProjectResult): strata, lumped analyses,
    records, register rows, multiverse specifications and how many conclusions hold."""
    rc = dict(result.record_counts)
    reg = result.register
    study_level = sum(1 for r in reg.rows if r.arm is None and r.outcome is None)
    out = {"strata": len(result.strata), "lumped": len(result.lumped),
           "strata_with_network": sum(1 for s in result.strata if s.primary is not None and s.primary.status == "network"),
           "strata_single_study": sum(1 for s in result.strata if s.primary is not None
                                      and s.primary.status == "single_study"),
           "strata_single_arm": sum(1 for s in result.strata if s.primary is not None and s.primary.layer == "single_arm"),
           "studies": len({st for s in result.strata for st in s.studies} or {st for s in result.lumped for st in s.studies}),
           "records": rc.get("records", 0), "records_analysed": rc.get("analysed", 0),
           "records_excluded": rc.get("excluded", 0), "records_unaccounted": rc.get("unaccounted", 0),
           "register_rows": len(reg), "register_study_rows": study_level,
           "contrasts": len(getattr(result, "contrasts", ()) or ()),
           "contrasts_multi_stratum": sum(1 for c in (getattr(result, "contrasts", ()) or ()) if c.n_strata > 1)}
    mv = result.multiverse
    if mv is not None:
        rob = mv.robustness
        holds = rob["holds"].astype(float)
        out |= {"specifications": len(mv.specifications), "specification_combinations": mv.n_combinations,
                "multiverse_comparisons": len(rob), "multiverse_robust": int((holds >= 1.0).sum()),
                "multiverse_fragile": int((holds < 1.0).sum()),
                "multiverse_not_estimable": int(holds.isna().sum()),
                "multiverse_classification": "against the MID (benefit / harm / inconclusive)"}
    return out
