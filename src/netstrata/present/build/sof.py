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

from .._format import fmt_ci, fmt_estimate, fmt_num, measure_scale
from ..certainty_text import rating_footnotes, rating_for, rating_pi, start_text
from ..labels import Labels
from ..tables import Table

__all__ = ["summary_tables", "zone_of", "primary_layer"]


def zone_of(outcome: dict | None):
    """The MID zone (low, high) of an outcome on the analysis scale, or None without a MID."""
    from ...synthesis.conclusions import threshold
    if not outcome or outcome.get("mid") is None:
        return None
    t = threshold(outcome["mid"], outcome["measure"])
    return (-t, t)


def primary_layer(s: dict) -> dict | None:
    """The primary layer of a stratum of the results (``primary_layer`` names it), or None."""
    return next((lay for lay in s.get("layers", ()) if lay.get("layer") == s.get("primary_layer")), None)


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
        rows: list[dict] = []
        foot: list[str] = []     # numbered footnotes, appended to by _row
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
        trials = "no randomised trial" if n == 0 else "one randomised trial"
        parts = []
        if any(lay["layer"] == "nonrandomised" for lay in others):
            parts.append(f"its {self.L.layer('nonrandomised').lower()} evidence is shown here with its own certainty "
                         "(never pooled with the randomised evidence)")
        if any(lay["layer"] == "single_arm" for lay in others):
            parts.append(f"its {self.L.layer('single_arm').lower()} are shown here (not rated: single-arm rates are "
                         "not comparative evidence)")
        return (f"When randomised data are lacking: this stratum has {trials}, so {' and '.join(parts)}.",), "prominent"

    def _measure_note(self, s, out, p0) -> str:
        sc = measure_scale(s.get("measure"))
        mid = out.get("mid")
        text = f"{sc.label or s.get('measure')}"
        if mid is not None:
            text += f"; minimal important difference {fmt_num(mid)}"
        text += "; higher is better" if out.get("small_values") == "undesirable" else "; lower is better"
        if p0 is not None:
            text += f". Absolute effects per 1000 at the plan's baseline risk of {fmt_num(1000 * p0, 0)} per 1000"
        return text + (". Start level: where GRADE starts before rating down (randomised trials High; non-randomised "
                       "studies Low, or High when every study was judged with ROBINS-I).")

    def _row(self, x, ref, comp, lay, cert, out, p0, foot, oid) -> dict:
        from ...certainty.sof import (
            ABSOLUTE_RISK,
            absolute_effect,
            effect_category,
            statement,
        )
        L = self.L
        measure = comp.get("measure") or out.get("measure")
        sc = measure_scale(measure)
        e, lo, hi, sign = _oriented(comp, x, ref)
        rating, rsign = rating_for(cert, x, ref)
        pil, pih = rating_pi(rating, rsign, comp) if rating else rating_pi(None, sign, comp)
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
               "Effect (95% CI)": fmt_estimate(ne, nlo, nhi, ratio=sc.is_ratio),
               "Prediction interval": "\u2013" if not (_ok(pil) and _ok(pih)) else
               fmt_ci(*sc.natural([pil, pih]), ratio=sc.is_ratio),
               "Per 1000 (95% CI)": per}
        if rating:
            mid = zone_of(out)
            size = e / mid[1] if mid else 0.0
            cat = effect_category(size)
            text = statement(rating["rating"], cat, e, L.treatment(x), _in_sentence(L.outcome(oid)))
            if rating.get("provisional"):
                text += " The rating is provisional (a domain could not be assessed)."
            notes = rating_footnotes(rating, L, provisional=False)
            marks = []
            for n in notes:
                foot.append(f"{L.comparison(x, ref)}: {n}")
                marks.append(str(len(foot)))
            row |= {"Certainty": rating.get("label") or rating["rating"], "Starts at": start_text(rating, lay["layer"]),
                    "What it means": text, "Footnotes": ", ".join(marks)}
        else:
            row |= {"Certainty": "not rated", "Starts at": start_text(None, lay["layer"]),
                    "What it means": "No certainty rating of this comparison is stored in the results.",
                    "Footnotes": ""}
        return row

    def _rates(self, lay: dict) -> list[dict]:
        rows = []
        for r in lay.get("rates") or ():
            rows.append({"Comparison": f"{self.L.treatment(r['treatment'])} (no comparator)",
                         "Evidence": f"{self.L.layer('single_arm')}; {self.L.join(r.get('studies') or ())}",
                         "Effect (95% CI)": "proportion " + fmt_estimate(r["proportion"], r["ci_low"], r["ci_high"]),
                         "Prediction interval": "\u2013", "Per 1000 (95% CI)": "",
                         "Certainty": "not rated", "Starts at": start_text(None, "single_arm"),
                         "What it means": "Not rated: single-arm rates are not comparative evidence (no comparison "
                                          "with a control).",
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
