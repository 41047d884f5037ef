"""The summary of findings: every stratum (single-study strata included), the lumped analyses
after them (marked as lumped, with the node level named), and each stratum's non-randomised and
single-arm evidence beside the randomised evidence with its own certainty, called out where the
randomised layer has fewer than two trials ("when RCT data are lacking").

Reads results only: estimates of each layer, stored certainty ratings (start level, domain
judgements, footnotes), the outcome's direction, MID and the plan's baseline risk. Absolute
effects per 1000 and GRADE statements use :mod:`netstrata.certainty.sof` (its rules, not new
arithmetic).
"""
from __future__ import annotations

import math

import pandas as pd

from ._format import fmt_estimate, fmt_num, measure_scale
from .labels import Labels
from .tables import Table

__all__ = ["summary_tables", "start_of", "footnotes_of", "rating_for", "prediction_interval", "DOMAIN_LABELS",
           "zone_of"]

DOMAIN_LABELS = {"within_study_bias": "Within-study bias", "reporting_bias": "Reporting bias",
                 "indirectness": "Indirectness", "imprecision": "Imprecision", "heterogeneity": "Heterogeneity",
                 "incoherence": "Incoherence"}
_START = {"randomised": ("High", "randomised trials start High (GRADE)"),
          "nonrandomised": ("Low", "non-randomised studies start Low (GRADE)"),
          "comparative": ("Low", "randomised and non-randomised studies pooled start Low (GRADE)")}


def zone_of(outcome: dict | None):
    """The MID zone (low, high) of an outcome on the analysis scale, or None without a MID."""
    from ..synthesis.conclusions import threshold
    if not outcome or outcome.get("mid") is None:
        return None
    t = threshold(outcome["mid"], outcome["measure"])
    return (-t, t)


def rating_for(cert: dict | None, a: str, b: str):
    """(rating dict, sign) of comparison a vs b in a stored CertaintyTable (sign -1 if reversed)."""
    for r in (cert or {}).get("ratings", ()):
        if (r["treatment1"], r["treatment2"]) == (a, b):
            return r, 1.0
        if (r["treatment1"], r["treatment2"]) == (b, a):
            return r, -1.0
    return None, 1.0


def start_of(rating: dict | None, layer: str) -> str:
    """"High: randomised trials start High (GRADE)" -- the rating's own start level when stored."""
    if rating and rating.get("start_level"):
        return f"{rating['start_level']}: {rating.get('start_reason') or ''}".rstrip(": ")
    level, why = _START.get(layer, ("not rated", "single-arm rates have no comparative certainty"))
    return f"{level}: {why}"


def footnotes_of(rating: dict | None) -> list[str]:
    """One plain sentence per downgraded or overridden domain (the rating's own footnotes when
    stored; otherwise its domain judgements and notes)."""
    if not rating:
        return []
    if rating.get("footnotes"):
        return [str(f) for f in rating["footnotes"]]
    out = []
    for d in rating.get("domains", ()):
        j = str(d.get("judgement") or "")
        if j in ("some concerns", "major concerns") or d.get("override_reason"):
            text = f"{DOMAIN_LABELS.get(d['domain'], d['domain'])}: {j}"
            if d.get("note"):
                text += f" ({d['note']})"
            if d.get("override_reason"):
                text += f"; overridden: {d['override_reason']}"
            out.append(text + ".")
    if rating.get("cap"):
        out.append(f"Capped: {rating['cap']}.")
    return out


def prediction_interval(rating, sign, comp) -> tuple[float, float]:
    """The one prediction interval of a comparison: the rating's (heterogeneity inputs, netmeta's
    ``predict``) when stored, else the comparison's own; ``sign`` -1 reverses the rating's."""
    for d in (rating or {}).get("domains", ()):
        if d.get("domain") == "heterogeneity":
            inp = d.get("inputs") or {}
            lo, hi = inp.get("pi_low"), inp.get("pi_high")
            if lo is not None and hi is not None:
                return (lo, hi) if sign > 0 else (-hi, -lo)
    lo, hi = comp.get("pi_low"), comp.get("pi_high")
    if lo is None or hi is None:
        return math.nan, math.nan
    return (lo, hi) if sign > 0 else (-hi, -lo)


def _oriented(comp: dict, x: str, ref: str | None):
    if ref is None or (comp["treat1"], comp["treat2"]) == (x, ref):
        return comp["estimate"], comp["ci_low"], comp["ci_high"], 1.0
    return -comp["estimate"], -comp["ci_high"], -comp["ci_low"], -1.0


def _rows_of(layer: dict, ref: str | None) -> list[tuple[str, str, dict]]:
    """(intervention, comparator, comparison) rows of a comparative layer: versus the network's
    reference, or each study result as it is."""
    comps = layer.get("comparisons") or ()
    if ref is None:
        return [(c["treat1"], c["treat2"], c) for c in comps]
    out = []
    for c in comps:
        if ref in (c["treat1"], c["treat2"]):
            x = c["treat2"] if c["treat1"] == ref else c["treat1"]
            out.append((x, ref, c))
    return out


class _Sof:
    def __init__(self, data: dict, L: Labels):
        self.data, self.L = data, L
        self.cert = data.get("certainty") or {}
        self.outcomes = data.get("outcomes") or {}

    def table(self, s: dict, lumped: bool) -> Table | None:
        L, name = self.L, s["name"]
        out = self.outcomes.get(s.get("outcome")) or {}
        p0 = out.get("baseline_risk")
        rows, foot = [], []
        for lay in s.get("layers", ()):
            primary = lay["layer"] == s.get("primary_layer")
            key = name if primary else f"{name} [{lay['layer']}]"
            if lay["layer"] == "single_arm":
                rows += self._rates(lay)
                continue
            net = lay.get("network")
            ref = net.get("reference") if net else None
            for x, comp_ref, comp in _rows_of(lay, ref):
                rows.append(self._row(x, comp_ref, comp, lay, self.cert.get(key), out, p0, foot, s.get("outcome")))
        if not rows:
            return None
        frame = pd.DataFrame(rows)
        if p0 is None:
            frame = frame.drop(columns=["Per 1000 (95% CI)"], errors="ignore")
        title = (f"Lumped (all strata pooled; node level: {L.level(self.data.get('node_level'))}): "
                 f"{L.outcome(s.get('outcome'))}" if lumped else L.stratum(name))
        notes = [self._measure_note(s, out, p0)] + [f"[{i + 1}] {t}" for i, t in enumerate(foot)]
        lead, css = self._lacking(s)
        return Table(frame, title=title, notes=tuple(notes), lead=lead, css=css or ("lumped" if lumped else ""),
                     badges={"Certainty": "rating"})

    def _lacking(self, s: dict) -> tuple[tuple[str, ...], str]:
        rand = next((lay for lay in s.get("layers", ()) if lay["layer"] == "randomised"), None)
        n = len(rand.get("studies") or ()) if rand else 0
        others = [lay for lay in s.get("layers", ()) if lay["layer"] in ("nonrandomised", "single_arm")]
        if n >= 2 or not others:
            return (), ""
        names = ", ".join(self.L.layer(lay["layer"]).lower() for lay in others)
        trials = "no randomised trial" if n == 0 else "one randomised trial"
        return ((f"When randomised data are lacking: this stratum has {trials}, so its {names} evidence is shown "
                 "here with its own certainty (never pooled with the randomised evidence)."),), "prominent"

    def _measure_note(self, s, out, p0) -> str:
        sc = measure_scale(s.get("measure"))
        mid = out.get("mid")
        text = f"{sc.label or s.get('measure')}"
        if mid is not None:
            text += f"; minimal important difference {fmt_num(mid)}"
        text += "; higher is better" if out.get("small_values") == "undesirable" else "; lower is better"
        if p0 is not None:
            text += f". Absolute effects per 1000 at the plan's baseline risk of {fmt_num(1000 * p0, 0)} per 1000"
        return text + ". Start level: where GRADE starts before rating down (randomised High, non-randomised Low)."

    def _row(self, x, ref, comp, lay, cert, out, p0, foot, oid) -> dict:
        from ..certainty.sof import ABSOLUTE_RISK, absolute_effect, effect_category, statement
        L = self.L
        measure = comp.get("measure") or out.get("measure")
        sc = measure_scale(measure)
        e, lo, hi, sign = _oriented(comp, x, ref)
        rating, rsign = rating_for(cert, x, ref)
        pil, pih = prediction_interval(rating, rsign, comp) if rating else prediction_interval(None, sign, comp)
        ne, nlo, nhi = sc.natural([e, lo, hi])
        studies = comp.get("studies") or ()
        k = comp.get("k") or 0
        evidence = (f"{L.layer(lay['layer'])}; {k} {'study' if k == 1 else 'studies'} with direct evidence"
                    if lay.get("network") else f"{L.layer(lay['layer'])}; {L.join(studies)}")
        per = ""
        if p0 is not None and measure in ABSOLUTE_RISK:
            d = absolute_effect(measure, [ne, nlo, nhi], p0)
            per = f"{fmt_num(d[0], 0)} ({fmt_num(d[1], 0)} to {fmt_num(d[2], 0)})"
        row = {"Comparison": L.comparison(x, ref), "Evidence": evidence,
               "Effect (95% CI)": fmt_estimate(ne, nlo, nhi),
               "Prediction interval": "\u2013" if not (_ok(pil) and _ok(pih)) else
               f"{fmt_num(sc.natural([pil])[0])} to {fmt_num(sc.natural([pih])[0])}",
               "Per 1000 (95% CI)": per}
        if rating:
            mid = zone_of(out)
            size = e / mid[1] if mid else 0.0
            cat = effect_category(size)
            text = statement(rating["rating"], cat, e, L.treatment(x), _in_sentence(L.outcome(oid)))
            if rating.get("provisional"):
                text += " The rating is provisional (a domain could not be assessed)."
            notes = footnotes_of(rating)
            marks = []
            for n in notes:
                foot.append(f"{L.comparison(x, ref)}: {n}")
                marks.append(str(len(foot)))
            row |= {"Certainty": rating.get("label") or rating["rating"], "Starts at": start_of(rating, lay["layer"]),
                    "What it means": text, "Footnotes": ", ".join(marks)}
        else:
            why = ("not rated in this run (one study: no certainty rating was produced)" if not lay.get("network")
                   else "not rated in this run")
            row |= {"Certainty": "not rated", "Starts at": start_of(None, lay["layer"]), "What it means": why,
                    "Footnotes": ""}
        return row

    def _rates(self, lay: dict) -> list[dict]:
        rows = []
        for r in lay.get("rates") or ():
            rows.append({"Comparison": f"{self.L.treatment(r['treatment'])} (no comparator)",
                         "Evidence": f"{self.L.layer('single_arm')}; {self.L.join(r.get('studies') or ())}",
                         "Effect (95% CI)": "proportion " + fmt_estimate(r["proportion"], r["ci_low"], r["ci_high"]),
                         "Prediction interval": "\u2013", "Per 1000 (95% CI)": "",
                         "Certainty": "not rated", "Starts at": start_of(None, "single_arm"),
                         "What it means": "Not rated: single-arm rates (no comparison with a control).",
                         "Footnotes": ""})
        return rows


def _in_sentence(label: str) -> str:
    """"Treatment success" -> "treatment success" (acronyms such as "NRS pain" are kept)."""
    return label[:1].lower() + label[1:] if label[:2] != label[:2].upper() else label


def _ok(x) -> bool:
    return x is not None and isinstance(x, float) and math.isfinite(x)


def summary_tables(data: dict, L: Labels) -> tuple[Table, ...]:
    """One table per stratum, then one per lumped analysis (marked as lumped)."""
    sof = _Sof(data, L)
    out = [t for s in data.get("strata", ()) if (t := sof.table(s, False)) is not None]
    out += [t for s in data.get("lumped", ()) if (t := sof.table(s, True)) is not None]
    return tuple(out)
