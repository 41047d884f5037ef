"""Report sections outside the strata for :func:`netstrata.present.build.build_context`, from the
results dictionary (``results.json`` form): certainty (with the start level and its reason,
overrides with their reasons, the per-study risk-of-bias table), transitivity, technical fidelity
(the multiverse: :mod:`.multiverse`).

Nothing is recomputed; labels come from the run's glossary.
"""
from __future__ import annotations

import pandas as pd

from .._format import fmt_num
from ..labels import Labels
from ..tables import Table

__all__ = ["layer_certainty", "rob_table", "transitivity_tables", "fidelity_tables",
           "certainty_cells", "PRISMA_NOTES"]

#: Where the report addresses PRISMA-NMA items beyond the section pointers of the checklist file.
PRISMA_NOTES = {
    "S4": "network graph and geometry in each stratum",
    "21": "within-study bias column of the certainty tables (CINeMA)",
    "S5": "node splitting and heterogeneity tables in each stratum",
}


def certainty_cells(label: str) -> tuple[str, str]:
    """A rating label "Low (provisional: within-study bias not assessed)" as the badge text
    "Low (provisional)" and the reason "within-study bias not assessed"."""
    label = str(label or "")
    head, sep, rest = label.partition(" (provisional: ")
    if not sep:
        return label, ""
    return f"{head} (provisional)", rest.rstrip(")")


def layer_certainty(cert: dict | None, layer: str) -> str:
    """The ratings of a layer, counted: e.g. 'Very low x2, Low x1 (2 provisional)'."""
    if not cert or not cert.get("ratings"):
        return ("not rated: single-arm rates are not comparative evidence" if layer == "single_arm" else
                "no rating stored in the results")
    counts: dict[str, int] = {}
    for r in cert["ratings"]:
        counts[r["rating"]] = counts.get(r["rating"], 0) + 1
    text = ", ".join(f"{k} x{v}" for k, v in counts.items())
    prov = sum(bool(r.get("provisional")) for r in cert["ratings"])
    return text + (f" ({prov} provisional)" if prov else "")


def rob_table(data: dict, L: Labels) -> Table:
    """Per-study risk of bias, one column per domain (traffic light), from the run's
    ``risk_of_bias`` (rob.csv as appraised); a clear statement when the project supplied none."""
    rob = data.get("risk_of_bias") or {}
    rows = []
    for a in rob.get("assessments") or ():
        if str(a.get("tool", "")).startswith("JBI"):
            continue
        row = {"study": a.get("study"), "result": L.outcome(a["result"]) if a.get("result") else "every result",
               "tool": a.get("tool", "")}
        row |= {k: a.get(k) or "" for k in sorted(a) if len(k) == 2 and k[0] == "D" and k[1].isdigit()}
        row |= {"rob": a.get("overall", ""), "why": a.get("detail", ""), "source": a.get("source", "")}
        rows.append(row)
    if not rows:
        return Table(pd.DataFrame({"Risk of bias": ["not assessed: the project has no risk-of-bias table (rob.csv)"]}),
                     title="Risk of bias per study",
                     notes=("Within-study bias cannot be judged, so every certainty rating is provisional.",))
    frame = pd.DataFrame(rows).fillna("")
    badges = {c: "light" for c in frame.columns if c not in ("study", "result", "tool", "why", "source")}
    legend = tuple(f"{tool}: " + "; ".join(f"{d} {name}" for d, name in names.items())
                   for tool, names in sorted((rob.get("domains") or {}).items()) if names)
    return Table(frame, title="Risk of bias per study (traffic light)", badges=badges,
                 notes=("+ (green) low; \u2212 (yellow) some concerns (ROBINS-I: moderate); \u00d7 (red) high "
                        "(ROBINS-I: serious); ! (dark red) critical; ? (grey) no information. An empty domain: only "
                        "an overall judgement was given (CINeMA needs no more).", *legend))


def transitivity_tables(trans: dict | None, L: Labels) -> tuple[Table, ...]:
    """Per stratum (and outcome): modifier balance over the network and the flagged comparisons."""
    out = []
    for name, t in sorted((trans or {}).items()):
        if not isinstance(t, dict):
            continue
        where = L.stratum(name) if name in L.g.get("strata", {}) else L.outcome(name)
        net = pd.DataFrame(t.get("network") or [])
        if len(net):
            keep = [c for c in ("modifier", "kind", "measure", "value", "threshold", "flag") if c in net]
            frame = net[keep].copy()
            if "measure" in frame:
                frame["measure"] = [_MEASURES.get(m, m) for m in frame["measure"]]
            if "modifier" in frame:
                frame["modifier"] = [L.variable(m) for m in frame["modifier"]]
            out.append(Table(frame, title=f"Transitivity: {where} (effect modifiers across comparisons)", digits=2,
                             notes=(_thresholds(t),)))
        imb = pd.DataFrame(t.get("imbalance") or [])
        if len(imb) and "flag" in imb:
            flagged = imb[imb["flag"].astype(bool)].copy()
            keep = [c for c in ("comparison", "modifier", "measure", "imbalance", "threshold", "n") if c in imb]
            flagged = flagged[keep].reset_index(drop=True)
            if "measure" in flagged:
                flagged["measure"] = [_MEASURES.get(m, m) for m in flagged["measure"]]
            if "modifier" in flagged:
                flagged["modifier"] = [L.variable(m) for m in flagged["modifier"]]
            if "comparison" in flagged:
                flagged["comparison"] = [_comparison(c, L) for c in flagged["comparison"]]
            out.append(Table(flagged, title=f"Flagged imbalances: {where}",
                             notes=(f"{len(flagged)} of {len(imb)} comparison x modifier checks flagged.",)))
    return tuple(out)


_MEASURES = {"cramers_v": "Cramér's V", "tvd": "total variation distance", "smd": "standardised mean difference"}


def _comparison(text: str, L: Labels) -> str:
    treatments = list(L.g.get("treatments", {}))
    for a in treatments:
        if text.startswith(a + ":") and text[len(a) + 1:] in treatments:
            return L.comparison(a, text[len(a) + 1:])
    return text


def _thresholds(t: dict) -> str:
    pairs = sorted((t.get("thresholds") or {}).items())
    return (f"Flag thresholds: {', '.join(f'{_MEASURES.get(k, k)} {fmt_num(v)}' for k, v in pairs)} "
            f"({t.get('threshold_source')}); "
            "value: imbalance of the modifier across the comparisons.")


def fidelity_tables(fid: dict | None, L: Labels) -> tuple[Table, ...]:
    """Technical-fidelity tier per arm with its failing and unreported critical items (labels)."""
    arms = pd.DataFrame((fid or {}).get("arms") or [])
    if not len(arms):
        return ()
    scored = arms[arms["tier"] != "NA"] if "tier" in arms else arms
    frame = pd.DataFrame({
        "Study": scored["study"], "Arm": scored["arm"],
        "Procedure": [L.treatment(f) if f else "" for f in scored.get("family", [""] * len(scored))],
        "Region": [L.value("region", r) for r in scored.get("region", [""] * len(scored))],
        "Checklist": [L.codes(c, "checklists") for c in scored.get("checklist", [""] * len(scored))],
        "Tier": scored.get("tier"), "Score": scored.get("score"),
        "Critical items not met": [L.codes(c) for c in scored.get("critical_failed", [""] * len(scored))],
        "Critical items not reported": [L.codes(c) for c in scored.get("critical_not_reported", [""] * len(scored))],
    }).reset_index(drop=True)
    counts = scored["tier"].value_counts().sort_index().to_dict() if "tier" in scored else {}
    notes = (f"Tiers of appraised arms: {', '.join(f'{k} {v}' for k, v in counts.items())}; "
             f"{len(arms) - len(scored)} control or unappraised arms not shown.",
             "T1: every critical item reported and met; T2: a critical item not met; TU: critical items "
             "insufficiently reported. Which items are critical is a panel decision (the plan's [appraisal.fidelity]).")
    return (Table(frame, title="Technical fidelity per arm", notes=notes, digits={"Score": 2}),)
