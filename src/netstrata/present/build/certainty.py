"""The certainty section of the report: one table per stratum and evidence layer, in the run's
framework (CINeMA's six domains, or GRADE for NMA's seven), and the minimally contextualised
conclusions of each network when the results hold them.

Each table shows, per comparison: the estimate, the one prediction interval (the interval the
heterogeneity domain judged), the start level (and, in the notes, why and the rule's source),
every domain judgement (cells the panel set are marked "(panel)"), the rating (marked
"(provisional)", "(capped)" or "(panel)") and numbered footnotes: the reason of every downgrade,
every panel override with its reason, every cap (which rule, why, its source, whether it lowered
the rating), GRADE for NMA's steps and why a rating is provisional. All of it is read from the
ratings of ``results.json``; nothing is re-rated.
"""
from __future__ import annotations

import pandas as pd

from ...certainty.judgement import RATINGS
from ..certainty_text import (
    FRAMEWORK_NAMES,
    domain_label,
    domains_of,
    framework_of,
    rating_footnotes,
    rating_pi,
    start_notes,
    stratum_record,
    uncapped_rating,
)
from ..citations import Citation
from ..labels import Labels
from ..tables import Table

__all__ = ["certainty_tables", "categories_table", "rating_cell", "FRAMEWORK_NOTES"]

_EVIDENCE = {"direct": "direct", "indirect": "indirect only", "mixed": "direct and indirect"}

#: What each framework's columns mean (one sentence per framework, with its sources).
FRAMEWORK_NOTES = {
    "cinema": ("CINeMA (Nikolakopoulou 2020): six domains judged for each network estimate; the rating starts at "
               "the start level and goes down one level per 'some concerns' and two per 'major concerns' "
               "(netstrata's default mapping; CINeMA leaves this step to the reviewers)."),
    "grade_nma": ("GRADE for NMA (Puhan 2014; Brignardello-Petersen 2018): risk of bias, inconsistency, "
                  "indirectness and publication bias rate the direct estimate (for a comparison without direct "
                  "evidence: the lowest-rated direct comparison on its indirect path), intransitivity rates the "
                  "indirect estimate, incoherence and imprecision the network estimate; the footnotes give the "
                  "steps."),
}


_PI_NOTES = {
    "cinema": ("Prediction interval: the interval the heterogeneity domain judged, the same as in the forest plots and "
               "the summary of findings (definition under Methods); \u2013 where the network has fewer than two "
               "degrees of freedom."),
    "grade_nma": ("Prediction interval: the network estimate's, the same as in the forest plots and the summary of "
                  "findings (definition under Methods); \u2013 where the network has fewer than two degrees of "
                  "freedom. GRADE for NMA judges inconsistency on each direct estimate instead."),
}


def _layer_of(key: str, data: dict) -> tuple[str, str]:
    """(stratum name, layer) of a certainty key "NAME" (primary layer) or "NAME [layer]"."""
    if key.endswith("]") and " [" in key:
        name, _, layer = key[:-1].rpartition(" [")
        return name, layer
    return key, stratum_record(data, key).get("primary_layer") or "randomised"


def rating_cell(r: dict) -> str:
    """The overall rating with its qualifiers: "Low (capped)", "Very low (provisional)", "(panel)"."""
    marks = []
    if r.get("provisional"):
        marks.append("provisional")
    before = uncapped_rating(r)
    if before and any(c.get("rating") in RATINGS and RATINGS.index(c["rating"]) > RATINGS.index(before)
                      for c in r.get("caps") or ()):
        marks.append("capped")
    if r.get("override_reason"):
        marks.append("panel")
    return r["rating"] + (f" ({', '.join(marks)})" if marks else "")


def _judgement_cell(d: dict | None) -> str:
    if not d:
        return ""
    return d.get("judgement", "") + (" (panel)" if d.get("override_reason") else "")


def _title(name: str, layer: str, key: str, data: dict, L: Labels) -> str:
    lumped = next((s for s in data.get("lumped", ()) if s["name"] == name), None)
    title = (f"Lumped (all strata pooled; node level: {L.level(data.get('node_level'))}): "
             f"{L.outcome(lumped.get('outcome'))}" if lumped else L.stratum(name))
    return title + (f" \u00b7 {L.layer(layer)}" if key.endswith("]") else "")


def _table(key: str, cert: dict, data: dict, L: Labels) -> Table:
    name, layer = _layer_of(key, data)
    fw = framework_of(cert)
    domains = domains_of(cert)
    rows, foot = [], []
    for r in cert["ratings"]:
        dom = {d["domain"]: d for d in r.get("domains", ())}
        comp = L.comparison(r["treatment1"], r["treatment2"])
        pil, pih = rating_pi(r)
        marks = []
        for n in rating_footnotes(r, L):
            foot.append(f"{comp}: {n}")
            marks.append(str(len(foot)))
        rows.append({"comparison": comp, "evidence": _EVIDENCE.get(r.get("evidence"), r.get("evidence")),
                     "effect": r["effect"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "pi_low": pil, "pi_high": pih,
                     "Start": (r.get("start") or {}).get("level") or r.get("start_level") or "",
                     **{domain_label(d): _judgement_cell(dom.get(d)) for d in domains},
                     "rating": rating_cell(r), "Footnotes": ", ".join(marks)})
    notes = [*start_notes(cert["ratings"]), FRAMEWORK_NOTES[fw], _PI_NOTES[fw],
             *(f"[{i + 1}] {t}" for i, t in enumerate(foot))]
    measure = (cert.get("zone") or {}).get("measure") or (cert.get("settings") or {}).get("measure")
    badges = {domain_label(d): "concern" for d in domains} | {"rating": "rating"}
    return Table(pd.DataFrame(rows), title=f"Certainty ({FRAMEWORK_NAMES[fw]}): {_title(name, layer, key, data, L)}",
                 measure=measure, notes=tuple(notes), badges=badges, css="certainty")


_GROUP_ORDER = {"high or moderate": 0, "low or very low": 1}


def categories_table(key: str, cert: dict, data: dict, L: Labels) -> Table | None:
    """The minimally contextualised conclusions of one network (Brignardello-Petersen 2020):
    every intervention versus the reference, by certainty group and category; None when the
    results hold none."""
    cats = [c for c in cert.get("categories") or () if c.get("intervention") is not None]
    if not cats:
        return None
    name, layer = _layer_of(key, data)
    settings = cert.get("settings") or {}
    ref = L.treatment(settings.get("reference")) if settings.get("reference") else "the reference"
    cats = sorted(cats, key=lambda c: (_GROUP_ORDER.get(c.get("group"), 9), -int(c.get("level") or 0),
                                       c.get("category", ""), L.treatment(c["intervention"])))
    frame = pd.DataFrame([{"Intervention": L.treatment(c["intervention"]), "effect": c["effect"],
                           "ci_low": c["ci_low"], "ci_high": c["ci_high"], "rating": c.get("certainty"),
                           "Certainty group": c.get("group"), "Category": c.get("category"),
                           "Statement": L.relabel(str(c.get("statement", ""))).replace("the reference", ref)}
                          for c in cats])
    measure = (cert.get("zone") or {}).get("measure") or settings.get("measure")
    notes = (f"Each intervention versus {ref} (network estimates), grouped by certainty (high or moderate; low or "
             "very low); within a group, interventions whose CI against the reference excludes the null are placed "
             "in levels by whether they beat each other (Brignardello-Petersen 2020, BMJ 2020;371:m3900, "
             "doi:10.1136/bmj.m3900). The threshold is the null effect; the summary of findings classes effects "
             "against the minimal important difference instead.",)
    return Table(frame, title=f"Minimally contextualised conclusions: {_title(name, layer, key, data, L)} "
                              f"(versus {ref})", measure=measure, notes=notes, badges={"rating": "rating"})


def certainty_tables(data: dict, L: Labels) -> tuple[Table, ...]:
    """The certainty table of every rated stratum and layer (strata in run order, then the lumped
    analyses), each followed by its network's minimally contextualised conclusions when stored."""
    order = {s["name"]: i for i, s in enumerate((*data.get("strata", ()), *data.get("lumped", ())))}
    certs = data.get("certainty") or {}
    out = []
    for key in sorted(certs, key=lambda k: (order.get(_layer_of(k, data)[0], 1e9), k)):
        cert = certs[key]
        if not cert or not cert.get("ratings"):
            continue
        out.append(_table(key, cert, data, L))
        cats = categories_table(key, cert, data, L)
        if cats is not None:
            out.append(cats)
    return tuple(out)


_METHOD_CITATIONS = {
    "start": (("Start level by design (GRADE 3)", "Balshem H, et al. J Clin Epidemiol 2011;64:401-406",
               "10.1016/j.jclinepi.2010.07.015"),
              ("Start level with ROBINS-I (GRADE 18)", "Schünemann HJ, et al. J Clin Epidemiol 2019;111:105-114",
               "10.1016/j.jclinepi.2018.01.012")),
    "lumping": (("Indirectness of population (GRADE 8)", "Guyatt GH, et al. J Clin Epidemiol 2011;64:1303-1310",
                 "10.1016/j.jclinepi.2011.04.014"),),
    "pi": (("Prediction intervals (definition)", "Higgins JPT, Thompson SG, Spiegelhalter DJ. J R Stat Soc A "
            "2009;172:137-159", "10.1111/j.1467-985X.2008.00552.x"),),
    "grade_nma": (("GRADE for network meta-analysis", "Puhan MA, et al. BMJ 2014;349:g5630", "10.1136/bmj.g5630"),
                  ("Advances in GRADE for network meta-analysis", "Brignardello-Petersen R, et al. J Clin Epidemiol "
                   "2018;93:36-44", "10.1016/j.jclinepi.2017.10.005")),
    "categories": (("Conclusions from a network meta-analysis (minimally contextualised framework)",
                    "Brignardello-Petersen R, et al. BMJ 2020;371:m3900", "10.1136/bmj.m3900"),),
}


def certainty_methods(data: dict) -> tuple[str, tuple]:
    """(paragraph, citations) of how certainty was rated in this run: the framework, the start
    level by design, the one prediction interval (its definition as the run stored it),
    intransitivity, the lumping cap, panel overrides and, when present, the minimally
    contextualised conclusions. Empty when the run rated nothing."""
    certs = [c for c in (data.get("certainty") or {}).values() if c and c.get("ratings")]
    if not certs:
        return "", ()
    frameworks = sorted({framework_of(c) for c in certs})
    names = " and ".join(FRAMEWORK_NAMES[f] for f in frameworks)
    pi = next(((c.get("settings") or {}).get("prediction_interval") for c in certs
               if (c.get("settings") or {}).get("prediction_interval")), "")
    text = [f"Certainty was rated with {names} for every comparison of every evidence layer of every stratum, "
            "single-study strata included, and of the lumped analyses.",
            "Ratings start by design (GRADE): randomised trials at High; non-randomised studies at Low, or at High "
            "when every study was judged with ROBINS-I, whose serious and critical judgements then rate down; "
            "single-arm outcome rates are not rated as comparative evidence."]
    if pi:
        text.append(f"One prediction interval per comparison is shown in the forest plots, the summary of findings "
                    f"and the certainty tables{', and judged by the heterogeneity domain' if 'cinema' in frameworks else ''}: "
                    f"the {pi}.")
    flags = ("a comparison's evidence mixes clinical strata, or exists only indirectly through studies that differ in "
             "a declared effect modifier beyond the plan's threshold")
    if "cinema" in frameworks:
        text.append(f"CINeMA: indirectness is rated major concerns where {flags} (CINeMA's intransitivity); the flag "
                    "is named in the footnotes.")
    if "grade_nma" in frameworks:
        text.append(f"GRADE for NMA: the intransitivity domain rates an indirect estimate down where {flags}; the "
                    "footnotes give the flag and the steps from the direct and indirect to the network estimate.")
    text += [
             "A lumped analysis is never rated above the stratified analyses of the same comparison (netstrata's "
             "rule, from GRADE's indirectness of population); each such cap is listed with the strata that set it.",
             "A guideline panel may set any domain or rating with a recorded reason (certainty-overrides.csv); the "
             "report shows the panel's judgement, the rules' judgement and the reason."]
    keys = ["start", "pi", "lumping"]
    if "grade_nma" in frameworks:
        keys.append("grade_nma")
    if any(c.get("categories") for c in certs):
        text.append("Interventions are also placed in the categories of GRADE's minimally contextualised framework "
                    "(versus the network's reference, threshold the null effect).")
        keys.append("categories")
    cites = tuple(Citation(*c) for k in keys for c in _METHOD_CITATIONS[k])
    return " ".join(text), cites
