"""Readable labels for every code a run produces (the glossary of ``results.json``).

People read labels, machines read codes: the report, the CLI summary and figures show the domain
pack's labels (treatment nodes, stratum values, outcomes, checklists and their items, node levels,
exclusion reasons); codes appear only in the report's glossary appendix and in machine outputs.
Everything here is looked up in the pack and the plan (nothing is invented); a code without a
label in the pack is shown with underscores as spaces.

:func:`glossary` returns plain dictionaries ``code -> {"label", "short"}`` (``short`` drops a
trailing parenthesis, e.g. "Sham procedure (subtype not specified)" -> "Sham procedure"), so
``results.json`` carries them and a report built from it reads exactly what ``run`` read.
"""
from __future__ import annotations

import re

from ..data.spec import DESIGNS
from .choices import LAYERS, SYNTHESIS_REASONS

__all__ = ["glossary", "short_label", "node_label", "humanise", "NR_LABEL"]

NR_LABEL = "not reported"
_PAREN = re.compile(r"\s*\([^()]*\)\s*$")
_SEP_IN, _SEP_OUT, _JOIN = "|", "+", ":"


def humanise(code) -> str:
    """A code without a pack label, readable: ``joint_RFA`` -> ``joint RFA``."""
    return str(code).replace("_", " ").strip()


def short_label(label: str) -> str:
    """``label`` without a trailing parenthesis (kept when it is the whole label)."""
    text = _PAREN.sub("", str(label)).strip()
    return text or str(label)


def _code_label(pack, vocabulary: str | None, code: str) -> str:
    if code in ("NR", "-", ""):
        return NR_LABEL
    if code == "unclear":
        return "unclear"
    voc = pack.vocabularies.get(vocabulary) if vocabulary else None
    c = voc.get(code) if voc is not None else None
    return c.label if c is not None else humanise(code)


def _vocabulary_of(pack, field: str) -> str | None:
    table, _, column = field.rpartition(".")
    for b in pack.columns_of(table or "arms"):
        if b.column == column:
            return b.vocabulary
    return None


def node_label(pack, level, name: str, *, short: bool = False) -> str:
    """The label of node ``name`` at ``level`` (a NodeLevel or NodeCustomMap of the pack).

    A level node is ``field1:field2:...`` with ``+`` joining several codes of one field; each
    part is labelled from the field's vocabulary ("not reported" parts are left out). Control
    nodes are comparator codes; custom-map nodes are the map's names (humanised).
    """
    lab = (lambda s: short_label(s)) if short else (lambda s: s)
    comp = _code_label(pack, "comparator_type", name) if "comparator_type" in pack.vocabularies else None
    if comp is not None and pack.vocabularies["comparator_type"].get(name) is not None:
        return lab(comp)
    fields = tuple(getattr(level, "fields", ()) or (getattr(level, "field", "family"),))
    parts = name.split(_JOIN)
    if len(parts) != len(fields):
        fields = fields[:1] * len(parts)
    out = []
    for field, part in zip(fields, parts):
        codes = [c for c in part.split(_SEP_OUT) if c]
        labels = [lab(_code_label(pack, _vocabulary_of(pack, field), c)) for c in codes]
        labels = [x for x in labels if x != NR_LABEL]
        if labels:
            out.append(" + ".join(labels))
    return ", ".join(out) or humanise(name)


def _level_labels(pack, lv, nodes) -> dict[str, dict]:
    """Labels of the nodes of one level; two nodes with one label get their code appended."""
    out = {n.name: {"label": node_label(pack, lv, n.name), "short": node_label(pack, lv, n.name, short=True)}
           for n in nodes}
    seen: dict[str, int] = {}
    for e in out.values():
        seen[e["short"]] = seen.get(e["short"], 0) + 1
    for code, e in out.items():
        if seen[e["short"]] > 1:
            out[code] = {"label": f"{e['label']} [{code}]", "short": f"{e['short']} [{code}]"}
    return out


def _entry(label: str) -> dict:
    return {"label": str(label), "short": short_label(label)}


def _stratum_label(values, outcome_short: str, value_labels: dict) -> str:
    parts = [value_labels.get(var, {}).get(val, {}).get("short", humanise(val)) for var, val in values]
    return " \u00b7 ".join([*parts, outcome_short]) if parts else f"All strata pooled \u00b7 {outcome_short}"


def glossary(review, node_level: str | None, strata=(), fidelity=None) -> dict:
    """Labels of the codes of one run.

    Parameters
    ----------
    review : netstrata.data.Review
    node_level : str
        The run's primary node level (treatment nodes are labelled at this level, and at every
        other level of the pack so that multiverse rows read too).
    strata : iterable of StratumResult
        The strata of the run (split and lumped).
    fidelity : FidelityResult, optional
        Checklist and item labels.

    Returns
    -------
    dict
        ``{"treatments", "strata", "outcomes", "variables", "values", "levels", "checklists",
        "items", "reasons", "layers", "designs"}``, each ``code -> {"label", "short"}``
        (``variables`` and ``values``: the stratification variables and, per variable, its codes).
    """

    pack = review.pack
    treatments: dict[str, dict] = {}
    levels = {}
    for name in sorted(pack.level_names, key=lambda n: n != node_level):   # the run's level first
        lv = pack.level(name)
        levels[name] = _entry(lv.label)
        for code, entry in _level_labels(pack, lv, review.node_map(name).nodes).items():
            treatments.setdefault(code, entry)
    outcomes = {o.id: _entry(o.label) for o in review.plan.outcomes}
    variables: dict[str, dict] = {}
    values: dict[str, dict[str, dict]] = {}
    for var in review.plan.strata:
        voc = _vocabulary_of(pack, f"studies.{var}") or _vocabulary_of(pack, f"arms.{var}")
        vlabel = pack.vocabularies[voc].label if voc in pack.vocabularies else humanise(var)
        variables[var] = _entry(vlabel)
        values[var] = {}
    out_strata = {}
    for res in strata:
        for var, val in res.stratum.values:
            voc = _vocabulary_of(pack, f"studies.{var}") or _vocabulary_of(pack, f"arms.{var}")
            values.setdefault(var, {})[val] = _entry(" + ".join(_code_label(pack, voc, v) for v in val.split("+")))
        text = _stratum_label(res.stratum.values, outcomes.get(res.stratum.outcome, _entry(res.stratum.outcome))["short"],
                              values)
        where = " \u00b7 ".join(values[var][val]["short"] for var, val in res.stratum.values) or "All strata pooled"
        out_strata[res.name] = {"label": text, "short": text, "values": where}
    checklists: dict[str, dict] = {}
    items: dict[str, dict] = {}
    for cid, cl in dict(getattr(getattr(fidelity, "checklists", None), "checklists", None) or {}).items():
        checklists[cid] = _entry(cl.label)
        for it in cl.items:
            items.setdefault(it.field, _entry(it.label))
    reasons = {code: _entry(label) for code, label in sorted((review.register.reasons or {}).items())}
    reasons.update({code: _entry(label) for code, label in SYNTHESIS_REASONS.items()})
    return {"treatments": dict(sorted(treatments.items())), "strata": out_strata, "outcomes": outcomes,
            "variables": variables, "values": values, "levels": levels, "checklists": checklists,
            "items": dict(sorted(items.items())), "reasons": reasons,
            "layers": {k: _entry(v) for k, v in LAYERS.items()},
            "designs": {code: _entry(d.label) for code, d in DESIGNS.items()}}
