"""The lead of the results: stratified versus lumped, per comparison (``stratified_vs_lumped`` of
results.json, computed by :mod:`netstrata.synthesis.contrast_strata`). One forest per comparison:
a header and a coloured diamond per stratum, each study row labelled with its region, technique and
fidelity tier, the lumped diamond and the lumped network estimate, diamonds per technique and
fidelity tier when the studies differ in them, and the test for subgroup differences.

Beside each stratum's diamond and the lumped network estimate: the certainty of that estimate as
rated (the stratum's and the lumped network's rating of the comparison, "(capped)" where the
"lumped not above stratified" cap lowered it), and under the lumped network estimate the one
prediction interval its heterogeneity domain judged (the same interval as in the summary of
findings and the certainty table).
"""
from __future__ import annotations

import math

from .._figure import PALETTE
from .._format import fmt_estimate, fmt_num, fmt_p, measure_scale
from ..certainty_text import certainty_key, framework_name, rating_for, rating_pi
from ..context import Block, Figure, slug
from ..labels import Labels
from ..svg import iso
from ..svg_forest import favours_captions, forest_svg
from .certainty import rating_cell

__all__ = ["contrast_blocks", "test_sentence"]

_BY = {"technique": "technique", "fidelity": "technical-fidelity tier"}


def test_sentence(test: dict, what: str = "strata") -> str:
    """"Test for subgroup differences between strata: Q = 2.68, df = 1, p = 0.102; I² = 63%"."""
    q, df = test.get("q_between"), test.get("df") or 0
    if not df or q is None or not math.isfinite(q):
        return f"One {what[:-1] if what.endswith('s') else what} only: no test for subgroup differences."
    return (f"Test for subgroup differences between {what}: Q = {fmt_num(q)}, df = {df}, "
            f"p = {fmt_p(test.get('pvalue'))}; I\u00b2 = {fmt_num(test.get('i2_between'), 0)}%.")


def _nat(measure, d: dict) -> str:
    e, lo, hi = measure_scale(measure).natural([d["estimate"], d["ci_low"], d["ci_high"]])
    return fmt_estimate(e, lo, hi)


def _diamond_label(d: dict, what: str) -> str:
    if d["k"] == 1:
        return f"{what} (1 study)"
    i2 = d.get("i2")
    return f"{what} (k = {d['k']}" + (f", I\u00b2 {fmt_num(i2, 0)}%)" if i2 is not None else ")")


def _rated(data: dict, stratum: str, c: dict) -> tuple[dict | None, float]:
    """(rating, sign) of the contrast's comparison in ``stratum`` (its evidence layer)."""
    cert = (data.get("certainty") or {}).get(certainty_key(data, stratum, c.get("layer") or "randomised"))
    return rating_for(cert, c["treat1"], c["treat2"])


def _cert(rating: dict | None) -> str:
    return rating_cell(rating) if rating else "not rated"


def _rows(c: dict, L: Labels, colours: dict, z: float, first_var, data: dict) -> list[dict]:
    rows = []
    for d in c["by_stratum"]["diamonds"]:
        col = colours[d["group"]]
        rows.append({"kind": "header", "label": L.where(d["group"]), "colour": col, "user": True})
        for s in (s for s in c["studies"] if s["stratum"] == d["group"]):
            region = L.value(first_var, s["values"].get(first_var)) if first_var else ""
            rows.append({"kind": "study", "label": s["study"], "user": True, "colour": col,
                         "cells": (region, s.get("technique_label") or "not reported", s.get("fidelity") or "\u2013"),
                         "effect": s["effect"], "ci_low": s["effect"] - z * s["se"],
                         "ci_high": s["effect"] + z * s["se"], "weight": s.get("weight")})
        rows.append({"kind": "diamond", "label": _diamond_label(d, "Stratum"), "colour": col,
                     "effect": d["estimate"], "ci_low": d["ci_low"], "ci_high": d["ci_high"],
                     "certainty": _cert(_rated(data, d["group"], c)[0])})
    lump = c["lumped"]
    rows.append({"kind": "header", "label": "All strata pooled (lumped)", "colour": "#000000"})
    rows.append({"kind": "diamond", "label": _diamond_label(lump, "Lumped"), "colour": "#000000",
                 "effect": lump["estimate"], "ci_low": lump["ci_low"], "ci_high": lump["ci_high"]})
    net = c.get("lumped_network")
    if net:
        rating, sign = _rated(data, c.get("lumped_stratum") or "", c)
        rows.append({"kind": "hollow", "label": "Lumped network estimate", "colour": "#000000",
                     "effect": net["estimate"], "ci_low": net["ci_low"], "ci_high": net["ci_high"],
                     "certainty": _cert(rating)})
        pil, pih = rating_pi(rating, sign, net)
        if _finite(pil) and _finite(pih):
            rows.append({"kind": "prediction", "label": "Prediction interval",
                         "effect": net["estimate"], "ci_low": pil, "ci_high": pih})
    for by in ("technique", "fidelity"):
        t = c.get(f"by_{by}")
        if not t:
            continue
        rows.append({"kind": "header", "label": f"By {_BY[by]} (all strata)", "colour": "#59636e"})
        for d in t["diamonds"]:
            name = _group_label(c, by, d["group"])
            rows.append({"kind": "diamond", "label": _diamond_label(d, name), "colour": "#59636e", "user": True,
                         "effect": d["estimate"], "ci_low": d["ci_low"], "ci_high": d["ci_high"]})
    return rows


def _framework(data: dict, c: dict) -> str:
    cert = (data.get("certainty") or {}).get(certainty_key(data, c.get("lumped_stratum") or "", c.get("layer") or ""))
    return framework_name(cert)


def _group_label(c: dict, by: str, code: str) -> str:
    if by == "technique":
        return next((s.get("technique_label") for s in c["studies"] if s.get("technique") == code and
                     s.get("technique_label")), code) or "not reported"
    return f"Tier {code}"


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def _figure(c: dict, L: Labels, zone, z: float, first_var, data: dict) -> Figure:
    strata = [d["group"] for d in c["by_stratum"]["diamonds"]]
    colours = {s: PALETTE[i % (len(PALETTE) - 1)] for i, s in enumerate(strata)}
    a, b = L.treatment(c["treat1"]), L.treatment(c["treat2"])
    cols = ((L.variable(first_var) if first_var else "Stratum", 120.0), ("Technique", 150.0), ("Tier", 40.0))
    foot = [test_sentence(c["by_stratum"])]
    for by in ("technique", "fidelity"):
        if c.get(f"by_{by}"):
            foot.append(test_sentence(c[f"by_{by}"], f"{_BY[by]}s"))
    title = f"{iso(a)} vs {iso(b)}: {L.outcome(c['outcome'])}"
    svg = forest_svg(_rows(c, L, colours, z, first_var, data), measure=c["measure"], zone=zone, columns=cols,
                     label_header="Study", favours=favours_captions(iso(a), iso(b), c.get("small_values")), title=title,
                     footnotes=foot, certainty_header="Certainty")
    return Figure(svg=svg, alt=f"Forest plot, stratified versus lumped: {a} vs {b}")


def _certainty_words(rating: dict | None) -> str:
    """"Very low certainty (provisional)" for the lead sentence."""
    if not rating:
        return "not rated"
    head, sep, rest = rating_cell(rating).partition(" (")
    return f"{head} certainty" + (f" ({rest}" if sep else "")


def _lead(c: dict, L: Labels, data: dict) -> str:
    ds = c["by_stratum"]["diamonds"]
    m = c["measure"]
    parts = "; ".join(f"{L.where(d['group'])} {_nat(m, d)} (k = {d['k']}; "
                      f"{_certainty_words(_rated(data, d['group'], c)[0])})" for d in ds)
    text = f"{measure_scale(m).label} by stratum: {parts}. All strata pooled: {_nat(m, c['lumped'])} (k = {c['lumped']['k']})"
    net = c.get("lumped_network")
    if net:
        text += (f"; lumped network estimate {_nat(m, net)} "
                 f"({_certainty_words(_rated(data, c.get('lumped_stratum') or '', c)[0])})")
    return text + ". " + test_sentence(c["by_stratum"])


def contrast_blocks(data: dict, L: Labels, zones: dict) -> tuple[tuple[Block, ...], tuple[Block, ...]]:
    """(comparisons with two or more strata, comparisons with one) as report blocks.
    ``zones``: outcome -> MID zone (low, high) on the analysis scale, or None."""
    from ..._dist import norm_ppf
    z = float(norm_ppf(0.5 + float((data.get("settings") or {}).get("level") or 0.95) / 2))
    first_var = (data.get("strata_variables") or [None])[0]
    many: list[Block] = []
    one: list[Block] = []
    items = sorted(data.get("stratified_vs_lumped") or (), key=lambda c: (-len(c["by_stratum"]["diamonds"]),
                                                                       c["outcome"], c["treat1"], c["treat2"]))
    for c in items:
        title = f"{L.comparison(c['treat1'], c['treat2'])} \u00b7 {L.outcome(c['outcome'])}"
        notes = (f"Diamonds: random-effects pooled estimates of the direct evidence; hollow diamond: the lumped "
                 f"network estimate (node level: {L.level(c['node_level'])}); red bar: its prediction interval, the "
                 "one its certainty rating judged (as in the summary of findings).",
                 f"Certainty ({_framework(data, c)}): the rating of each stratum's network estimate of this "
                 "comparison and of the lumped network estimate; a lumped rating is never above the strata's "
                 "(\"lumped not above stratified\", marked \"capped\" where it lowered the rating). Footnotes: "
                 "summary of findings and certainty tables.",
                 "Technique: the intervention arm's approach and energy (the next finer node level); tier: its "
                 "technical-fidelity tier (T1 critical items met, T2 a critical item not met, TU not reported).")
        block = Block(title=title, lead=(_lead(c, L, data),), notes=notes,
                      figures=(_figure(c, L, zones.get(c["outcome"]), z, first_var, data),),
                      anchor="contrast-" + slug(f"{c['outcome']}-{c['treat1']}-{c['treat2']}"))
        (many if len(c["by_stratum"]["diamonds"]) > 1 else one).append(block)
    return tuple(many), tuple(one)
