"""How a stored certainty rating reads in the report: one set of helpers for the summary of
findings, the certainty tables and the forests, so they say the same thing.

Everything is read from the ratings of ``results.json`` (issue 12): the start level with its
reason and source, the domain judgements (framework-specific: CINeMA's six or GRADE for NMA's
seven), the footnotes written by :mod:`netstrata.certainty.rating`, the caps (e.g. "lumped not
above stratified") with their rule, reason and source, the panel's overrides, the steps of GRADE
for NMA, and the one prediction interval the heterogeneity domain judged. Nothing is re-rated;
the only derived value is the rating *before* the caps (start level lowered by the downgrades, as
:func:`netstrata.certainty.judgement.rating_after` does), to say whether a cap changed anything.
"""
from __future__ import annotations

import math
from typing import TypeGuard

from ..certainty.judgement import DOMAIN_LABELS, RATINGS, rating_after
from ..certainty.network import FRAMEWORK_DOMAINS
from .labels import Labels
from .svg import iso

__all__ = ["FRAMEWORK_NAMES", "framework_of", "framework_name", "domains_of", "domain_label", "rating_for",
           "rating_pi", "start_text", "start_notes", "cap_texts", "rating_footnotes", "certainty_key",
           "uncapped_rating", "stratum_record"]

FRAMEWORK_NAMES = {"cinema": "CINeMA", "grade_nma": "GRADE for NMA"}


def framework_of(cert: dict | None) -> str:
    """The rating framework of a stored certainty table ("cinema" or "grade_nma")."""
    cert = cert or {}
    fw = (cert.get("settings") or {}).get("framework")
    if not fw:
        fw = next((r.get("framework") for r in cert.get("ratings") or () if r.get("framework")), "cinema")
    return fw if fw in FRAMEWORK_DOMAINS else "cinema"


def framework_name(cert: dict | None) -> str:
    return FRAMEWORK_NAMES[framework_of(cert)]


def domains_of(cert: dict | None) -> tuple[str, ...]:
    """The domains of the table's framework, in the framework's order."""
    return tuple(FRAMEWORK_DOMAINS[framework_of(cert)])


def domain_label(code: str) -> str:
    text = DOMAIN_LABELS.get(code, str(code).replace("_", " "))
    return text[:1].upper() + text[1:]


def rating_for(cert: dict | None, a: str, b: str) -> tuple[dict | None, float]:
    """(rating, sign) of comparison a vs b in a stored certainty table (sign -1 if stored as b vs a)."""
    for r in (cert or {}).get("ratings", ()):
        if (r["treatment1"], r["treatment2"]) == (a, b):
            return r, 1.0
        if (r["treatment1"], r["treatment2"]) == (b, a):
            return r, -1.0
    return None, 1.0


def _finite(x: object) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and math.isfinite(x)


def rating_pi(rating: dict | None, sign: float = 1.0, comp: dict | None = None) -> tuple[float, float]:
    """The one prediction interval of a comparison (analysis scale, oriented by ``sign``): the
    rating's ``prediction_interval`` (the interval its heterogeneity domain judged), else the
    heterogeneity inputs of an older results file, else the comparison's ``pi_low``/``pi_high``;
    (nan, nan) when there is none (fewer than two degrees of freedom)."""
    lo = hi = None
    if rating:
        pi = rating.get("prediction_interval")
        if isinstance(pi, dict):
            lo, hi = pi.get("low"), pi.get("high")
        else:
            dom = next((d for d in rating.get("domains", ()) if d.get("domain") == "heterogeneity"), None)
            inp = (dom or {}).get("inputs") or {}
            lo, hi = inp.get("pi_low"), inp.get("pi_high")
            if lo is None and comp is not None:
                lo, hi = comp.get("pi_low"), comp.get("pi_high")
    elif comp is not None:
        lo, hi = comp.get("pi_low"), comp.get("pi_high")
    if not (_finite(lo) and _finite(hi)):
        return math.nan, math.nan
    return (lo, hi) if sign > 0 else (-hi, -lo)


def start_text(rating: dict | None, layer: str = "randomised") -> str:
    """"High: randomised trials start at High" (the rating's stored start level and reason)."""
    start = (rating or {}).get("start") or {}
    level = start.get("level") or (rating or {}).get("start_level")
    reason = start.get("reason") or (rating or {}).get("start_reason")
    if level:
        return f"{level}: {reason}" if reason else str(level)
    if layer == "single_arm":
        return "not rated: single-arm rates are not comparative evidence"
    return "not stored in the results"


def start_notes(ratings) -> list[str]:
    """One sentence per distinct start level of a table: level, why and the rule's source."""
    seen: dict[tuple[str, str, str], None] = {}    # insertion-ordered set
    for r in ratings:
        s = r.get("start") or {}
        key = (s.get("level") or r.get("start_level"), s.get("reason") or r.get("start_reason"), s.get("source", ""))
        if key[0]:
            seen.setdefault(key, None)
    return [f"Start level {lv}: {why}" + (f" (source: {src})" if src else "") + "." for lv, why, src in seen]


def uncapped_rating(rating: dict) -> str | None:
    """The rating the rules gave before any cap: the start level lowered by the downgrades."""
    start = (rating.get("start") or {}).get("level") or rating.get("start_level")
    if start not in RATINGS:
        return None
    return rating_after(start, int(rating.get("downgrades") or 0))


def cap_texts(rating: dict, L: Labels) -> list[str]:
    """One sentence per cap: which cap, why, its source, and whether it lowered the rating."""
    out = []
    before = uncapped_rating(rating)
    for c in rating.get("caps") or ():
        cap = c.get("rating")
        text = f"Capped at {cap} (rule: {c.get('rule')}): {L.relabel(c.get('reason', ''))}"
        if c.get("source"):
            text += f" (source: {c['source']})"
        if before in RATINGS and cap in RATINGS:
            text += (f"; the rules gave {before}, so the cap lowered the rating to {cap}."
                     if RATINGS.index(cap) > RATINGS.index(before) else
                     f"; the rules gave {before}, not above the cap, so it did not change the rating.")
        else:
            text += "."
        out.append(text)
    return out


def rating_footnotes(rating: dict | None, L: Labels, *, provisional: bool = True) -> list[str]:
    """The rating's footnotes as a reader sees them: the stored sentences (downgrades, panel
    overrides, GRADE-for-NMA steps) with labels for codes, then the caps, then an overall-rating
    override the footnotes do not already state, then (``provisional=True``) why the rating is
    provisional."""
    if not rating:
        return []
    notes = [_isolate_reasons(L.relabel(f), rating) for f in rating.get("footnotes") or ()]
    if not rating.get("footnotes"):                  # results written before issue 12
        notes += [L.relabel(f"{domain_label(d['domain'])}: {d['judgement']}" + (f" ({d['note']})" if d.get("note")
                                                                                 else "") + ".")
                  for d in rating.get("domains", ()) if d.get("judgement") in ("some concerns", "major concerns")]
    notes += cap_texts(rating, L)
    reason = rating.get("override_reason")
    if reason and not any(reason in n for n in notes):
        notes.append(f"Rating set to {rating['rating']} by the panel (rules gave {rating.get('rating_algorithm')}): "
                     f"{iso(reason)}.")
    missing = rating.get("not_assessed") or ()
    if missing and provisional:
        names = [DOMAIN_LABELS.get(d, d) for d in missing]
        notes.append(f"Provisional: {', '.join(names)} could not be assessed; a domain that cannot be assessed "
                     "does not rate down, so the rating is an upper bound.")
    return notes


def _isolate_reasons(text: str, rating: dict) -> str:
    """The panel's reasons (user text) inside a footnote isolated for bidirectional display, so a
    right-to-left character in a reason cannot reorder the rest of the sentence."""
    reasons = {d.get("override_reason") for d in rating.get("domains", ())} | {rating.get("override_reason")}
    for reason in sorted((r for r in reasons if r), key=len, reverse=True):
        text = text.replace(reason, iso(reason))
    return text


def certainty_key(data: dict, stratum: str, layer: str) -> str:
    """The ``certainty`` key of a stratum's layer: the stratum name for its primary layer,
    "NAME [layer]" for the others."""
    s = stratum_record(data, stratum)
    return stratum if s.get("primary_layer", layer) == layer else f"{stratum} [{layer}]"


def stratum_record(data: dict, name: str) -> dict:
    """The record of stratum (or lumped analysis) ``name`` in the results, or {} when absent."""
    return next((s for s in (*data.get("strata", ()), *data.get("lumped", ())) if s["name"] == name), {})
