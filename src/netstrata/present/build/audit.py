"""What the letter asks a review to show about its own conduct, from results.json: the
known-trials omission check, the exclusion register, each extraction disagreement with its
adjudicated value, who decided and whether the estimate changes with the other value, the
guideline panel (and any declared role without a member), the glossary of codes, and the
methods with the configuration and software versions.
"""
from __future__ import annotations

import pandas as pd

from .._format import fmt_num
from ..citations import Citation, registry_citations
from ..context import Methods
from ..labels import Labels
from ..methods import methods_section
from ..tables import Table, key_value_view
from .certainty import certainty_methods

__all__ = ["known_trials_table", "exclusion_table", "qc_tables", "panel_tables", "glossary_table", "methods",
           "configuration_tables"]

_STATUS = {"included": "included in the analyses", "excluded": "in the exclusion register",
           "not_found": "NOT FOUND in the review (possible omission)"}


def known_trials_table(data: dict, L: Labels) -> Table | None:
    rows = data.get("known_trials") or []
    if not rows:
        return None
    frame = pd.DataFrame({"Study": [r.get("study") for r in rows], "Citation": [r.get("citation", "") for r in rows],
                          "Status": [_STATUS.get(r.get("status"), r.get("status")) for r in rows],
                          "Reasons": [L.codes(r.get("reasons"), "reasons") for r in rows],
                          "Why it is on the list": [r.get("note", "") for r in rows]})
    missing = sum(r.get("status") == "not_found" for r in rows)
    return Table(frame, title="Known trials (omission check)",
                 notes=(f"{len(rows)} trials the plan names as known (its list of known trials); {missing} not found "
                        "in the review's data or exclusion register.",))


def exclusion_table(data: dict, L: Labels) -> Table | None:
    frame = pd.DataFrame(data.get("exclusion_register") or [])
    if not len(frame):
        return None
    counts = data.get("counts") or {}
    out = pd.DataFrame({"Study": frame["study"], "Reason": [L.reason(c) for c in frame["reason_code"]]})
    for col, head in (("arm", "Arm"), ("outcome", "Outcome"), ("timepoint_weeks", "Weeks"), ("stage", "Stage"),
                      ("file", "File"), ("row", "Row"), ("message", "Detail")):
        if col in frame:
            vals = frame[col]
            if col == "outcome":
                vals = [L.outcome(v) if v else "" for v in vals]
            elif col == "stage":
                vals = [str(v).replace("_", " ") if v else "" for v in vals]
            elif col == "message":
                vals = [L.relabel(v) if v else "" for v in vals]
            out[head] = vals
    by = frame["reason_code"].value_counts()
    notes = (f"{counts.get('register_rows', len(frame))} register rows ({counts.get('register_study_rows', 0)} for whole "
             f"studies); {counts.get('records_excluded', '')} of {counts.get('records', '')} outcome records are "
             "excluded by a register row.",
             "; ".join(f"{L.reason(k)}: {v}" for k, v in by.items()))
    return Table(out, title="Exclusion register", digits={"Weeks": 1, "Row": 0}, notes=notes)


def _disagreements(data: dict, L: Labels) -> Table | None:
    rows = data.get("disagreements") or []
    if not rows:
        return None
    out = []
    for d in rows:
        where = ", ".join(x for x in (d.get("arm"), L.outcome(d["outcome"]) if d.get("outcome") else "",
                                      f"{d['timepoint']} weeks" if d.get("timepoint") else "") if x)
        field = L.variable(d["column"]) if d["table"] == "studies" else d["column"]
        if not d.get("tested"):
            effect = d.get("detail") or "not tested"
        elif not d.get("changes_estimate"):
            effect = "No: the estimates are the same with the other value."
        else:
            moves = "; ".join(f"{L.stratum(s)}: {L.comparison(a, b)} {fmt_num(e0)} \u2192 {fmt_num(e1)}"
                              for s, a, b, e0, e1 in (d.get("changes") or ())[:3])
            effect = ("Yes, and a conclusion against the MID changes: " if d.get("changes_conclusion") else
                      "Yes, but no conclusion against the MID changes: ") + moves + " (analysis scale)"
        lab = d.get("labels") or {}
        out.append({"Study": d["study"], "Where": where, "Item": field,
                    "Extractor A": lab.get(d["value_a"], d["value_a"]), "Extractor B": lab.get(d["value_b"], d["value_b"]),
                    "Value used": lab.get(d["used"], d["used"]), "Decided by": d["decided_by"],
                    "Decision": d.get("decision_note", ""), "Does the estimate change with the other value?": effect})
    return Table(pd.DataFrame(out), title="Extraction disagreements: what was used, who decided, does it matter",
                 notes=("Each disagreement is tested by re-running the primary analysis with the other extractor's "
                        "value. Decisions come from the project's adjudication log (netstrata adjudicate), when "
                        "there is one.",))


def qc_tables(data: dict, L: Labels) -> tuple[Table, ...]:
    qc = data.get("qc") or {}
    out = []
    de = qc.get("double_extraction")
    dis = _disagreements(data, L)
    if dis is not None:
        out.append(dis)
    elif isinstance(de, dict):
        out.append(Table(pd.DataFrame({"result": ["no disagreements"]}), title="Double extraction"))
    if isinstance(de, dict):
        out[-1] = Table(out[-1].frame, title=out[-1].title, notes=out[-1].notes + (
            f"Extractions '{de.get('label_a')}' and '{de.get('label_b')}': {de.get('n_cells')} cells compared.",))
    pl = qc.get("plausibility")
    if isinstance(pl, dict):
        found = pd.DataFrame(pl.get("findings") or [])
        out.append(Table(found if len(found) else pd.DataFrame({"result": ["no implausible values found"]}),
                         title="Plausibility checks", notes=(f"{len(found)} findings.",)))
    return tuple(out)


def panel_tables(data: dict) -> tuple[Table, ...]:
    p = data.get("panel")
    if not p:
        return ()
    labels = p.get("role_labels") or {}
    frame = pd.DataFrame([{"Member": m["name"], "Role": m.get("role_label") or labels.get(m["role"], m["role"]),
                           "Specialty": m.get("specialty", ""), "Declared conflicts of interest": m["conflicts"]}
                          for m in p.get("members") or ()],
                         columns=["Member", "Role", "Specialty", "Declared conflicts of interest"])
    counts = ", ".join(f"{labels.get(r, r)}: {n}" for r, n in (p.get("counts") or {}).items())
    lead = tuple(f"No member has the declared role '{labels.get(r, r)}'." for r in p.get("missing_roles") or ())
    return (Table(frame, title="Guideline panel composition", lead=lead, css="prominent" if lead else "",
                  notes=(f"Members by role: {counts}.",
                         "Roles the panel should include (plan): " + ", ".join(labels.get(r, r) for r in p.get("roles")
                                                                               or ()) + ".")),)


def glossary_table(L: Labels) -> Table | None:
    rows = L.glossary_rows()
    if not rows:
        return None
    return Table(pd.DataFrame(rows).rename(columns={"kind": "Kind", "code": "Code", "label": "Label"}),
                 title="Codes and labels")


_EXTRA_CITATIONS = (
    Citation("Certainty of network estimates (CINeMA)", "Nikolakopoulou A, et al. PLoS Med 2020;17:e1003082",
             "10.1371/journal.pmed.1003082"),
    Citation("Summary-of-findings statements", "Santesso N, et al. J Clin Epidemiol 2020;119:126-135",
             "10.1016/j.jclinepi.2019.10.014"),
    Citation("Conclusions from a network meta-analysis (partially contextualised framework)",
             "Brignardello-Petersen R, et al. BMJ 2020;371:m3907", "10.1136/bmj.m3907"),
    Citation("Prediction intervals", "IntHout J, et al. BMJ Open 2016;6:e010247", "10.1136/bmjopen-2015-010247"),
    Citation("Specification curve (multiverse)", "Simonsohn U, et al. Nat Hum Behav 2020;4:1208-1214",
             "10.1038/s41562-020-0912-z"),
    Citation("Subgroup differences (stratified versus lumped)", "Borenstein M, Higgins JPT. Prev Sci 2013;14:134-143",
             "10.1007/s11121-013-0377-7"),
)


def methods(data: dict, L: Labels) -> Methods:

    strata = [*data.get("strata", ()), *data.get("lumped", ())]
    st = data.get("settings") or {}
    measures = list(dict.fromkeys(s.get("measure") for s in strata if s.get("measure")))
    certs = data.get("certainty") or {}
    cset = next((c.get("settings") or {} for c in certs.values() if c), {})
    mids = sorted({f"{(c.get('zone') or {}).get('measure')} {fmt_num((c.get('zone') or {}).get('mid'))}"
                   for c in certs.values() if c})
    variables = ", ".join(L.variable(v) for v in data.get("strata_variables") or ()) or "none"
    extra = (f"Studies were grouped into clinical strata by {variables} and outcome, and treatments were defined at "
             f"the node level '{L.level(data.get('node_level'))}'; each stratum was analysed on its own, and an "
             "unstratified (lumped) analysis per outcome is shown for comparison. For every comparison the same "
             "study results were pooled per stratum and all together, with Cochran's Q between strata and I\u00b2 "
             "between strata (test for subgroup differences).",
             f"Effect measures used: {', '.join(measures)}.",
             "Summary-of-findings statements follow GRADE's informative statements; effect sizes are classed in "
             "units of the minimal important difference.")
    m = methods_section(measure=measures[0] if measures else None, tau2=st.get("pairwise"),
                        network_tau2=st.get("network"), model=st.get("model", "random"), ci=st.get("ci"),
                        contribution=cset.get("contribution_method"), mid="; ".join(mids) if mids else None,
                        extra=extra, framework=cset.get("framework", "cinema"),
                        imprecision="null" if cset.get("imprecision_threshold") == "null" else "zone")
    cites = registry_citations(measures=measures, tau2=[st["pairwise"]] if st.get("pairwise") else (),
                               network_tau2=[st["network"]] if st.get("network") else (),
                               contribution=[cset["contribution_method"]] if cset.get("contribution_method") else ())
    rated, rated_cites = certainty_methods(data)
    cites += tuple(c for c in rated_cites if c.doi not in {x.doi for x in cites})
    seen = {c.doi for c in cites}
    return Methods(paragraphs=m.paragraphs + ((rated,) if rated else ()),
                   citations=cites + tuple(c for c in _EXTRA_CITATIONS if c.doi not in seen))


def configuration_tables(data: dict, L: Labels) -> tuple[Table, ...]:
    """Analysis settings, the outcomes of the plan and the run's notes (Methods)."""
    st = data.get("settings") or {}
    rows = [("Node level", L.level(data.get("node_level"))),
            ("Stratification variables", ", ".join(L.variable(v) for v in data.get("strata_variables") or ()) or "none"),
            ("Pairwise model (tau\u00b2)", st.get("pairwise")), ("Network model (tau\u00b2)", st.get("network")),
            ("Model reported", st.get("model")), ("Confidence intervals", st.get("ci")),
            ("Single-arm proportions", st.get("proportion")), ("Confidence level", st.get("level")),
            ("Seed", data.get("seed")), ("netstrata version", data.get("netstrata_version"))]
    out = [Table(pd.DataFrame(rows, columns=["Setting", "Value"]).astype(str), title="Analysis settings")]
    outs = data.get("outcomes") or {}
    if outs:
        out.append(Table(pd.DataFrame([{"Outcome": L.outcome(k, full=True), "Measure": v.get("measure"),
                                        "Better when": "higher" if v.get("small_values") == "undesirable" else "lower",
                                        "MID": "\u2013" if v.get("mid") is None else fmt_num(v["mid"]),
                                        "Baseline risk": "\u2013" if v.get("baseline_risk") is None
                                        else fmt_num(v["baseline_risk"], 3)} for k, v in outs.items()]),
                         title="Outcomes of the plan"))
    return tuple(out)


def software_view(software: dict):
    return key_value_view(dict(software), "Software versions")
