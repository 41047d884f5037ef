"""Report sections outside the strata for :func:`netstrata.present.build.build_context`, from the
results dictionary (``results.json`` form): summary of findings, certainty, transitivity,
technical fidelity, multiverse, exclusion register, extraction QC, methods.

Nothing is recomputed: the summary of findings is the certainty layer's
:func:`~netstrata.certainty.sof.summary_of_findings` applied to the stored ratings.
"""
from __future__ import annotations

import warnings
from types import SimpleNamespace

import pandas as pd

from ._format import fmt_estimate, fmt_num, measure_scale
from .context import Citation, Methods
from .tables import Table

__all__ = ["summary_of_findings", "certainty_tables", "transitivity_tables", "fidelity_tables", "multiverse",
           "exclusion_table", "qc_tables", "methods", "PRISMA_NOTES"]

#: Where the report addresses PRISMA-NMA items beyond the section pointers of the checklist file.
PRISMA_NOTES = {
    "S4": "network graph and geometry table in each stratum",
    "21": "within-study bias column of the certainty tables (CINeMA)",
    "S5": "league tables, heterogeneity tables and the transitivity flags",
}


# ----------------------------------------------------------------- summary of findings
def _certainty_table(cert: dict):
    """The stored CINeMA ratings in the shape :func:`summary_of_findings` reads."""
    z = cert["zone"]
    zone = SimpleNamespace(measure=z["measure"], log_scale=bool(z["log_scale"]), low=z["low"], high=z["high"])
    ratings = tuple(SimpleNamespace(**{**r, "not_assessed": tuple(r.get("not_assessed") or ())})
                    for r in cert.get("ratings", ()))
    return SimpleNamespace(zone=zone, ratings=ratings)


def _sof_frame(sof, label: str) -> pd.DataFrame:
    f = sof.to_frame()
    ratio = measure_scale(sof.measure).is_ratio
    out = pd.DataFrame({"Intervention": f["intervention"], "Comparator": f["comparator"]})
    out[f"{label} (95% CI)"] = [fmt_estimate(e, lo, hi) for e, lo, hi in zip(f["effect"], f["ci_low"], f["ci_high"])]
    if "per_1000" in f.columns:
        out["Per 1000 (95% CI)"] = [f"{fmt_num(d, 0)} ({fmt_num(lo, 0)} to {fmt_num(hi, 0)})" for d, lo, hi in
                                    zip(f["per_1000"], f["per_1000_ci_low"], f["per_1000_ci_high"])]
    out["MID units" + (" (log ratio / log MID)" if ratio else "")] = f["mid_units"].to_numpy(float)
    out["Effect size"] = f["category"]
    from .build import certainty_cells
    cells = [certainty_cells(x) for x in f["certainty_label"]]
    out["certainty"] = [c for c, _ in cells]
    out["provisional because"] = [w for _, w in cells]
    out["What it means (GRADE)"] = f["statement"]
    return out


def summary_of_findings(strata: list, certainty: dict, baseline: dict, labels: dict, notes: list):
    """One summary-of-findings table per rated stratum: every treatment versus the reference."""
    from ..certainty.sof import summary_of_findings as sof_rows

    out = []
    for s in strata:
        cert = certainty.get(s["name"])
        lay = next((x for x in s.get("layers", ()) if x.get("layer") == s.get("primary_layer")), None)
        net = (lay or {}).get("network")
        if not cert or not net:
            continue
        outcome = s.get("outcome") or ""
        p0 = baseline.get(outcome)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sof = sof_rows(_certainty_table(cert), reference=net["reference"], outcome=labels.get(outcome, outcome),
                               stratum=s["name"], baseline_risk=p0)
        except Exception as exc:  # noqa: BLE001 - a table that cannot be built is noted, not fatal
            notes.append(f"{s['name']}: summary of findings: {type(exc).__name__}: {exc}")
            continue
        if not len(sof.frame):
            continue
        label = measure_scale(sof.measure).label or sof.measure
        z = cert["zone"]
        mid = z.get("natural_high") if z.get("log_scale") else z.get("mid")
        tnotes = (f"{label} of each intervention versus {sof.reference}; MID {fmt_num(mid)}"
                  + (" (ratio)." if z.get("log_scale") else "."),
                  f"Effect size categories (small, moderate, large) at {sof.thresholds} {sof.threshold_scale}.",
                  "Absolute effects per 1000: " + (f"baseline risk {p0:g} from the plan." if p0 is not None else
                                                   "not shown (the plan gives no baseline risk for this outcome)."),
                  "Statements: GRADE informative statements (Santesso 2020, doi:10.1016/j.jclinepi.2019.10.014).")
        out.append(Table(_sof_frame(sof, label), title=s["name"], notes=tnotes, digits={"MID units": 2}))
    return tuple(out) or None


# ----------------------------------------------------------------- certainty
_DOMAIN_ORDER = ("within_study_bias", "reporting_bias", "indirectness", "imprecision", "heterogeneity",
                 "incoherence")


def certainty_tables(certainty: dict | None):
    """CINeMA domain judgements and the overall rating of every comparison, per stratum."""
    from .build import certainty_cells

    out = []
    for name, cert in sorted((certainty or {}).items()):
        if not cert or not cert.get("ratings"):
            continue
        rows = []
        for r in cert["ratings"]:
            dom = {d["domain"]: d["judgement"] for d in r.get("domains", ())}
            rows.append({"comparison": f"{r['treatment1']} vs {r['treatment2']}", "evidence": r.get("evidence"),
                         "effect": r["effect"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                         **{d: dom.get(d, "") for d in _DOMAIN_ORDER},
                         **dict(zip(("rating", "provisional because"), certainty_cells(r.get("label") or r.get("rating"))))})
        measure = (cert.get("zone") or {}).get("measure")
        out.append(Table(pd.DataFrame(rows), title=f"Certainty (CINeMA): {name}", measure=measure,
                         notes=("(provisional): a domain could not be assessed, so the rating is an upper bound.",)))
    return tuple(out) or None


# ----------------------------------------------------------------- evidence layers (issue 9)
_OBSERVATIONAL_NOTE = {"nonrandomised": "observational evidence: GRADE starts at Low",
                       "single_arm": "outcome rates, no comparison: not rated by CINeMA"}


def _layer_certainty(cert: dict | None, layer: str) -> str:
    """The ratings of a layer, counted: e.g. 'Very low x2, Low x1 (2 provisional)'."""
    if not cert or not cert.get("ratings"):
        return _OBSERVATIONAL_NOTE.get(layer, "not rated")
    counts: dict[str, int] = {}
    for r in cert["ratings"]:
        counts[r["rating"]] = counts.get(r["rating"], 0) + 1
    text = ", ".join(f"{k} x{v}" for k, v in counts.items())
    prov = sum(bool(r.get("provisional")) for r in cert["ratings"])
    return text + (f" ({prov} provisional)" if prov else "")


def evidence_layers_table(s: dict, certainty: dict) -> Table | None:
    """Every evidence layer of a stratum side by side: status, studies, estimates and certainty;
    the primary layer is the one the summary of findings reads (never a silent pooling)."""
    layers = s.get("layers") or ()
    if not layers:
        return None
    rows = []
    for lay in layers:
        primary = lay.get("layer") == s.get("primary_layer")
        key = s["name"] if primary else f"{s['name']} [{lay.get('layer')}]"
        rows.append({"layer": lay.get("label") or lay.get("layer"), "primary": "yes" if primary else "",
                     "status": lay.get("status"), "studies": len(lay.get("studies") or ()),
                     "comparisons": len(lay.get("comparisons") or ()), "rates": len(lay.get("rates") or ()),
                     "certainty": _layer_certainty(certainty.get(key), lay.get("layer"))})
    declared = ", ".join(s.get("declared_layers") or ())
    notes = ((f"Layers declared in the plan: {declared}.",) if declared else ()) + (
        "Randomised, non-randomised and single-arm evidence are analysed separately and never pooled "
        "silently; a combined estimate appears only beside the randomised-only one.",)
    return Table(pd.DataFrame(rows), title="Evidence layers (side by side)", notes=notes)


# ----------------------------------------------------------------- transitivity
def transitivity_tables(trans: dict | None):
    """Per key (stratum or outcome): modifier balance over the network and the flagged comparisons."""
    out = []
    for name, t in sorted((trans or {}).items()):
        if not isinstance(t, dict):
            continue
        net = pd.DataFrame(t.get("network") or [])
        if len(net):
            keep = [c for c in ("modifier", "kind", "measure", "value", "threshold", "flag", "comparisons") if c in net]
            out.append(Table(net[keep], title=f"Transitivity: {name} (effect modifiers across comparisons)",
                             digits=2, notes=(_thresholds(t),)))
        imb = pd.DataFrame(t.get("imbalance") or [])
        if len(imb) and "flag" in imb:
            flagged = imb[imb["flag"].astype(bool)]
            keep = [c for c in ("comparison", "modifier", "measure", "imbalance", "threshold", "n") if c in imb]
            out.append(Table(flagged[keep].reset_index(drop=True), title=f"Flagged imbalances: {name}",
                             notes=(f"{len(flagged)} of {len(imb)} comparison x modifier checks flagged.",)))
    return tuple(out) or None


def _thresholds(t: dict) -> str:
    pairs = sorted((t.get("thresholds") or {}).items())
    return (f"Flag thresholds: {', '.join(f'{k} {fmt_num(v)}' for k, v in pairs)} ({t.get('threshold_source')}); "
            "value: imbalance of the modifier across the comparisons.")


# ----------------------------------------------------------------- fidelity
def fidelity_tables(fid: dict | None):
    """Technical-fidelity tier per arm with its failing and unreported critical items."""
    arms = pd.DataFrame((fid or {}).get("arms") or [])
    if not len(arms):
        return None
    keep = [c for c in ("study", "arm", "family", "region", "checklist", "tier", "score", "critical_failed",
                        "critical_not_reported", "n_met", "n_not_met", "n_not_reported") if c in arms]
    scored = arms[arms.get("tier", "NA") != "NA"] if "tier" in arms else arms
    counts = scored["tier"].value_counts().sort_index().to_dict() if "tier" in scored else {}
    notes = (f"Tiers of appraised arms: {', '.join(f'{k} {v}' for k, v in counts.items())}; "
             f"{len(arms) - len(scored)} control or unappraised arms (NA) not shown.",
             "T1: every critical item reported and met; T2: a critical item not met; TU: critical items "
             "insufficiently reported.")
    return (Table(scored[keep].reset_index(drop=True), title="Technical fidelity per arm", notes=notes),)


# ----------------------------------------------------------------- multiverse
def multiverse(mv: dict | None, notes: list):
    """Robustness table and the specification curve of the comparison with most specifications."""
    if not mv:
        return None, None
    tables = []
    rob = pd.DataFrame(mv.get("robustness") or [])
    curve = pd.DataFrame(mv.get("curve") or [])
    if len(rob):
        tables.append(_robustness(rob, curve, mv))
    specs = pd.DataFrame(mv.get("specifications") or [])
    if not len(curve) or "specification" not in specs:
        return tuple(tables) or None, None
    from .speccurve import SpecificationCurveDisplay

    comp = curve.groupby("comparison")["specification"].nunique().sort_values(ascending=False, kind="stable").index[0]
    rows = curve[curve["comparison"] == comp].rename(columns={"estimate": "effect"})
    choices = [c for c in (mv.get("dimensions") or {}) if c in specs.columns]
    frame = rows[["effect", "ci_low", "ci_high"]].astype(float).reset_index(drop=True)
    lookup = specs.set_index("specification")
    for c in choices:
        frame[c] = lookup.loc[rows["specification"], c].astype(str).to_numpy()
    if "primary" in lookup.columns:
        frame["primary"] = lookup.loc[rows["specification"], "primary"].astype(bool).to_numpy()
    measure = rows["measure"].iat[0] if "measure" in rows else None
    try:
        fig = SpecificationCurveDisplay(frame, choices=choices, measure=measure, title=str(comp))
    except Exception as exc:  # noqa: BLE001
        notes.append(f"specification curve: {type(exc).__name__}: {exc}")
        fig = None
    return tuple(tables) or None, fig


def _robustness(rob: pd.DataFrame, curve: pd.DataFrame, mv: dict) -> Table:
    """Comparisons whose primary conclusion does not hold in every specification (estimate range
    on the natural scale of each comparison's measure)."""
    measure = dict(zip(curve["comparison"], curve["measure"])) if {"comparison", "measure"} <= set(curve) else {}
    ranges = []
    for comp, lo, hi in zip(rob["comparison"], rob["estimate_min"], rob["estimate_max"]):
        m = measure.get(comp)
        a, b = measure_scale(m).natural([lo, hi]) if m else (lo, hi)
        ranges.append(f"{fmt_num(a)} to {fmt_num(b)}" + (f" ({m})" if m else ""))
    frame = pd.DataFrame({"comparison": rob["comparison"], "primary conclusion": rob["primary"],
                          "estimable": [f"{a} of {b}" for a, b in zip(rob["n_estimable"], rob["n_specifications"])],
                          "benefit": rob["share_benefit"], "harm": rob["share_harm"],
                          "inconclusive": rob["share_inconclusive"], "holds": rob["holds"],
                          "estimate range": ranges})
    fragile = frame[frame["holds"].astype(float) < 1].reset_index(drop=True)
    notes = (f"{mv.get('n_combinations')} specifications: combinations of the analysis choices "
             f"{', '.join(mv.get('dimensions') or {})}; shares are fractions of the estimable specifications.",
             f"{len(frame) - len(fragile)} of {len(frame)} comparisons keep their primary conclusion in every "
             f"specification; the {len(fragile)} others are listed.")
    return Table(fragile, title="Conclusions that change with the analysis choices", notes=notes)


# ----------------------------------------------------------------- register, QC
def exclusion_table(rows):
    frame = pd.DataFrame(rows or [])
    if not len(frame):
        return None
    keep = [c for c in ("study", "arm", "outcome", "timepoint_weeks", "reason_code", "reason", "stage", "file",
                        "row", "message") if c in frame]
    counts = frame["reason_code"].value_counts().to_dict() if "reason_code" in frame else {}
    return Table(frame[keep], title="Exclusion register", digits={"timepoint_weeks": 1},
                 notes=("; ".join(f"{k}: {v}" for k, v in counts.items()),))


def qc_tables(qc: dict | None):
    """Double-extraction disagreements and plausibility findings (as the pipeline computed them)."""
    if not qc:
        return None
    out = []
    de = qc.get("double_extraction")
    if isinstance(de, dict):
        dis = pd.DataFrame(de.get("disagreements") or [])
        keep = [c for c in ("study", "table", "column", "arm", "outcome", "timepoint", "value_a", "value_b", "kind",
                            "location") if c in dis]
        note = (f"Extractions '{de.get('label_a')}' and '{de.get('label_b')}': {de.get('n_cells')} cells compared; "
                f"{len(dis)} disagreements (numeric tolerance rtol {de.get('rtol')}, atol {de.get('atol')}).")
        out.append(Table(dis[keep] if len(dis) else pd.DataFrame({"result": ["no disagreements"]}),
                         title="Double extraction: disagreements", notes=(note,)))
    pl = qc.get("plausibility")
    if isinstance(pl, dict):
        found = pd.DataFrame(pl.get("findings") or [])
        out.append(Table(found if len(found) else pd.DataFrame({"result": ["no implausible values found"]}),
                         title="Plausibility checks", notes=(f"{len(found)} findings.",)))
    return tuple(out) or None


# ----------------------------------------------------------------- methods
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
)


def methods(data: dict, strata: list) -> Methods:
    from .citations import registry_citations
    from .methods import methods_section

    st = data.get("settings") or {}
    measures = list(dict.fromkeys(s.get("measure") for s in strata if s.get("measure")))
    certs = data.get("certainty") or {}
    cset = next((c.get("settings") or {} for c in certs.values() if c), {})
    mids = sorted({f"{(c.get('zone') or {}).get('measure')} {fmt_num((c.get('zone') or {}).get('mid'))}"
                   for c in certs.values() if c})
    extra = (f"Studies were grouped into clinical strata by {', '.join(data.get('strata_variables') or ()) or 'none'} "
             f"and outcome, and treatments were defined at the '{data.get('node_level')}' node level; each stratum "
             "was analysed on its own, and an unstratified (lumped) analysis per outcome is shown for comparison.",
             f"Effect measures used: {', '.join(measures)}.",
             "Summary-of-findings statements follow GRADE's informative statements; effect sizes are classed in "
             "units of the minimal important difference.")
    m = methods_section(measure=measures[0] if measures else None, tau2=st.get("pairwise"),
                        network_tau2=st.get("network"), model=st.get("model", "random"), ci=st.get("ci"),
                        contribution=cset.get("contribution_method"), mid="; ".join(mids) if mids else None,
                        extra=extra)
    cites = registry_citations(measures=measures, tau2=[st["pairwise"]] if st.get("pairwise") else (),
                               network_tau2=[st["network"]] if st.get("network") else (),
                               contribution=[cset["contribution_method"]] if cset.get("contribution_method") else ())
    seen = {c.doi for c in cites}
    return Methods(paragraphs=m.paragraphs, citations=cites + tuple(c for c in _EXTRA_CITATIONS if c.doi not in seen))
