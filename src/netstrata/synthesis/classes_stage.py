"""Class-effect models and threshold analysis of every stratum's primary network (issue 16).

The plan asks for them in ``[models]``::

    [models]
    classes = "family"       # class models: treatments nested in the node map's coarser level
    threshold = true         # threshold analysis, study level, best-treatment decision
    # or: threshold = { level = "contrast", decision = "mid", model = "common" }

``classes`` names a node level of the domain pack coarser than the plan's ``[nodes] level``: each
treatment node of a stratum's network belongs to the class node its arms fall in at that level
(e.g. techniques within a procedure family).  ``threshold``: ``level`` "study" or "contrast",
``decision`` "best" or "mid" (the outcome's MID from the plan, converted to the analysis scale;
every outcome then needs one), ``model`` "common" or "random" (default: ``[models] model``).

Results are plain dictionaries keyed by stratum name (deterministic JSON in results.json);
a stratum where an analysis is not defined gets a note instead of an entry.
"""
from __future__ import annotations

import pandas as pd

from ..errors import ANALYSIS_ERRORS, DataError, closest
from ..nma.classes import class_network
from ..nma.threshold import threshold
from .choices import node_translation
from .classes_plan import MODEL_KEYS, ThresholdPlan, parse_model_keys, plan_problem
from .conclusions import threshold as mid_on_scale
from .stage import warnings_noted

__all__ = ["ThresholdPlan", "parse_model_keys", "check_plan", "class_models", "thresholds", "extra_frames",
           "MODEL_KEYS"]

def check_plan(settings, plan, pack, file: str = "netstrata.toml") -> None:
    """Checks that need the plan and the pack: ``classes`` is a node level; a decision by MID
    has a MID for every outcome.  Raises DataError listing every problem."""
    problems = []
    level = getattr(settings, "classes", None)
    levels = tuple(getattr(pack, "level_names", ()) or ())
    if level is not None and levels and level not in levels:
        best = closest(level, levels)
        problems.append(plan_problem(file, "models.classes", "unknown node level", level, "one of " + ", ".join(levels),
                                 f"did you mean {best!r}?" if best else None))
    tp = getattr(settings, "threshold", None)
    if tp is not None and tp.decision == "mid":
        for o in plan.outcomes:
            if o.mid is None:
                problems.append(plan_problem(file, "models.threshold.decision", "a decision by MID needs a MID for "
                                         f"every outcome; outcome {o.id!r} has none", "mid",
                                         f"mid = ... in [outcomes.{o.id}], or decision = \"best\""))
    if problems:
        raise DataError(problems)


def _networks(strata):
    for res in strata:
        lay = res.primary
        net = getattr(lay, "network", None) if lay is not None else None
        yield res, net


def _class_of(review, node_level: str, class_level: str) -> tuple[dict, set]:
    """Node -> class node (nodes whose arms fall in one class), and the ambiguous nodes."""
    nodes, classes = review.node_map(node_level), review.node_map(class_level)
    mapping = node_translation(classes, nodes)
    return mapping, {n.name for n in nodes.nodes} - set(mapping)


def class_models(review, strata, settings, node_level: str, notes: list) -> dict | None:
    """Exchangeable class model and the three-model comparison of every stratum's network."""
    level = getattr(settings, "classes", None)
    if level is None:
        return None
    mapping, ambiguous = _class_of(review, node_level, level)
    out = {}
    for res, net in _networks(strata):
        if net is None or not net.is_connected or net.n < 3:
            notes.append(f"class models: {res.name}: no connected network of three or more treatments")
            continue
        missing = [t for t in net.treatments if t not in mapping]
        if missing:
            notes.append(f"class models: {res.name}: node(s) {', '.join(missing)} span several "
                         f"{level!r} classes; not analysed")
            continue
        classes = {t: mapping[t] for t in net.treatments}
        if len(set(classes.values())) == len(classes):
            notes.append(f"class models: {res.name}: every {level!r} class has one treatment here; the class "
                         "models coincide with the network")
            continue
        try:
            with warnings_noted(notes, f"class models: {res.name}"):
                fit = class_network(net, classes, reference=net.reference, small_values=net.small_values)
                cmp = fit.compare(settings.model)
        except ANALYSIS_ERRORS as exc:
            notes.append(f"class models: {res.name}: {type(exc).__name__}: {exc}")
            continue
        ce = fit.class_estimates(settings.model).reset_index()
        out[res.name] = {"class_level": level, "node_level": node_level, "classes": classes,
                         "reference": fit.reference, "method": fit.method, "effects": settings.model,
                         "model": fit.model, "tau2": fit.fits[settings.model].tau2,
                         "class_effects": ce.to_dict("records"), "comparison": cmp.to_dict(),
                         "notes": list(fit.notes)}
    if ambiguous:
        notes.append(f"class models: node(s) {', '.join(sorted(ambiguous))} have arms in several {level!r} classes")
    return out or None


def thresholds(review, strata, settings, notes: list) -> dict | None:
    """Threshold analysis (Phillippo 2018) of every stratum's network, with the plan's known
    trials flagged."""
    tp = getattr(settings, "threshold", None)
    if tp is None:
        return None
    known = {k.study for k in review.plan.known_trials}
    model = tp.model or settings.model
    out = {}
    for res, net in _networks(strata):
        if net is None or not net.is_connected:
            notes.append(f"threshold: {res.name}: no connected network")
            continue
        spec = review.plan.outcome(res.stratum.outcome)
        mid = mid_on_scale(spec.mid, spec.measure) if tp.decision == "mid" else None
        try:
            with warnings_noted(notes, f"threshold: {res.name}"):
                th = threshold(net, level=tp.level, model=model, decision=tp.decision, mid=mid)
        except ANALYSIS_ERRORS as exc:
            notes.append(f"threshold: {res.name}: {type(exc).__name__}: {exc}")
            continue
        entry = th.to_dict()
        for row in entry["thresholds"]:
            studies = str(row.get("study") or row.get("studies") or "").split("; ")
            row["known_trial"] = bool(known & set(studies))
        entry.update(measure=spec.measure, small_values=spec.small_values,
                     known_trials=sorted(known & set(net.studies)))
        out[res.name] = entry
    return out or None


def extra_frames(class_entries, threshold_entries) -> dict[str, pd.DataFrame]:
    """CSV tables: ``class_models`` (the comparison of each stratum) and ``thresholds``."""
    out = {}
    if class_entries:
        out["class_models"] = pd.DataFrame([{"stratum": k, **row} for k, v in sorted(class_entries.items())
                                            for row in v["comparison"]["models"]])
    if threshold_entries:
        out["thresholds"] = pd.DataFrame([{"stratum": k, **row} for k, v in sorted(threshold_entries.items())
                                          for row in v["thresholds"]])
    return out
