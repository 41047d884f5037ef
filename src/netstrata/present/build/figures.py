"""Figures and tables of one stratum for :func:`netstrata.present.build.build_context`, from the
results dictionary (``results.json`` form): network graph, forest plots per direct comparison and
of every network estimate, league table, ranks, node splitting, contribution matrix and the
contribution bars coloured by risk of bias. All figures are hand-written SVG (fast, labelled,
bidirectional text isolated).

Display arithmetic only: a study row's CI is its Wald interval ``effect ± z·se`` (as metafor's
``forest.rma`` draws it), weights are the network's study weights in percent of the comparison,
contrasts are oriented (sign flip) to read "treat1 vs treat2".
"""
from __future__ import annotations

import math

import pandas as pd
from ..._dist import norm_ppf

from .._format import fmt_estimate, fmt_num, measure_scale
from ..certainty_text import rating_for, rating_pi
from ..context import Block, Figure
from ..contribution import ROB_LEVELS, rob_category
from ..labels import Labels
from ..svg import Svg, clip_text, iso
from ..svg_figures import contribution_svg, network_svg, rank_svg
from ..svg_forest import favours_captions, forest_svg
from ..tables import Table

__all__ = ["study_contrasts", "network_figure", "pair_forests", "estimates_forest", "league_table", "rank_block", "split_table",
           "contribution_blocks", "rob_bars", "split_pair"]


def study_contrasts(comps: list[dict]) -> pd.DataFrame:
    """``study, treat1, treat2`` rows of every directly compared pair (from the comparisons' study lists)."""
    rows = [{"study": st, "treat1": c["treat1"], "treat2": c["treat2"]} for c in comps for st in c.get("studies") or ()]
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2"])


def network_figure(comps: list[dict], net: dict, L: Labels, title: str) -> Figure:
    trts = list(net.get("treatments") or ())
    edges = [(c["treat1"], c["treat2"], c["k"]) for c in comps if (c.get("k") or 0) > 0]
    sizes = {t: len({s for c in comps if t in (c["treat1"], c["treat2"]) for s in c.get("studies") or ()})
             for t in trts}
    labels = {t: L.treatment(t) for t in trts}
    return Figure(svg=network_svg(trts, edges, labels=labels, sizes=sizes, title=title),
                  alt=f"Network graph: {title}")


def _study_rows(net: dict | None, a: str, b: str, z: float) -> list[dict]:
    rows = []
    for r in (net or {}).get("study_rows", ()):
        if {r["treat1"], r["treat2"]} != {a, b}:
            continue
        sign = 1.0 if r["treat1"] == a else -1.0
        e, se = sign * float(r["effect"]), float(r["se"])
        rows.append({"kind": "study", "label": str(r["study"]), "user": True, "effect": e, "ci_low": e - z * se,
                     "ci_high": e + z * se, "weight": r.get("w_random")})
    tot = sum(x["weight"] or 0 for x in rows)
    for x in rows:
        x["weight"] = 100 * x["weight"] / tot if tot and x["weight"] is not None else None
    return rows


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def pair_forests(comps, net, measure, zone, small_values, L: Labels, z: float, cert=None) -> list[Figure]:
    """One forest per directly compared pair: study rows, the direct pooled estimate, the network
    estimates (common and random effects) and the prediction interval (the rating's, when the
    certainty results carry one: one interval in the forest, the SoF and the certainty table)."""
    out = []
    common = {(c["treat1"], c["treat2"]): c for c in (net or {}).get("common", ())}
    for c in comps:
        if not (c.get("k") or 0) > 0:
            continue
        a, b = c["treat1"], c["treat2"]
        rows = _study_rows(net, a, b, z)
        if c.get("source") != "network":
            rows = [{"kind": "study", "label": L.join(c.get("studies") or ()), "user": True, "effect": c["estimate"],
                     "ci_low": c["ci_low"], "ci_high": c["ci_high"], "weight": 100.0}]
        elif c["k"] > 1 and _finite(c.get("direct_estimate")):
            rows.append({"kind": "diamond", "label": f"Direct evidence (k = {c['k']})", "colour": "#59636e",
                         "effect": c["direct_estimate"], "ci_low": c["direct_ci_low"], "ci_high": c["direct_ci_high"]})
        com = common.get((a, b))
        if com is not None:
            rows.append({"kind": "hollow", "label": "Network, common effect", "colour": "#1f4e79",
                         "effect": com["estimate"], "ci_low": com["ci_low"], "ci_high": com["ci_high"]})
        if c.get("source") == "network":
            rows.append({"kind": "diamond", "label": "Network, random effects", "colour": "#1f4e79",
                         "effect": c["estimate"], "ci_low": c["ci_low"], "ci_high": c["ci_high"]})
        rating, sign = rating_for(cert, a, b)
        pil, pih = rating_pi(rating, sign, c)
        if _finite(pil) and _finite(pih):
            rows.append({"kind": "prediction", "label": "Prediction interval", "effect": c["estimate"],
                         "ci_low": pil, "ci_high": pih})
        ta, tb = L.treatment(a), L.treatment(b)
        svg = forest_svg(rows, measure=measure, zone=zone, favours=favours_captions(iso(ta), iso(tb), small_values),
                         title=f"{iso(ta)} vs {iso(tb)}", label_width=260)
        out.append(Figure(svg=svg, alt=f"Forest plot: {ta} vs {tb}"))
    return out


def estimates_forest(comps, measure, zone, L: Labels) -> Figure | None:
    """Every network estimate (pairs of treatments), with the prediction interval when available."""
    if len(comps) < 2:
        return None
    rows = [{"kind": "diamond" if (c.get("k") or 0) > 0 else "hollow", "colour": "#1f4e79", "user": True,
             "label": L.comparison(c["treat1"], c["treat2"]), "effect": c["estimate"], "ci_low": c["ci_low"],
             "ci_high": c["ci_high"]} for c in comps]
    svg = forest_svg(rows, measure=measure, zone=zone, title="Every network estimate (filled: with direct evidence)",
                     label_header="Comparison", label_width=330, show_weight=False)
    return Figure(svg=svg, alt="Forest plot of every network estimate")


def league_table(comps, net, measure, L: Labels) -> Table:
    """Row treatment versus column treatment (network estimates, natural scale)."""
    trts = list(net.get("treatments") or ())
    sc = measure_scale(measure)
    cell = {}
    for c in comps:
        a, b = c["treat1"], c["treat2"]
        e, lo, hi = sc.natural([c["estimate"], c["ci_low"], c["ci_high"]])
        cell[(a, b)] = fmt_estimate(e, lo, hi)
        e, lo, hi = sc.natural([-c["estimate"], -c["ci_high"], -c["ci_low"]])
        cell[(b, a)] = fmt_estimate(e, lo, hi)
    names = [L.treatment(t) for t in trts]
    frame = pd.DataFrame([[L.treatment(r)] + [(L.treatment(r) if r == c else cell.get((r, c), "\u2013"))
                                              for c in trts] for r in trts], columns=["Row versus column", *names])
    return Table(frame, title="League table (row versus column, random effects)",
                 notes=(f"{sc.label or measure} of the row treatment versus the column treatment (95% CI).",))


def rank_block(net: dict, L: Labels, title: str) -> Block | None:
    ranks = net.get("ranks")
    if not ranks:
        return None
    labels = {r["treatment"]: L.treatment(r["treatment"]) for r in ranks}
    fig = Figure(svg=rank_svg(ranks, labels=labels, title=title), alt=f"Ranks: {title}")
    return Block(title="Ranking (P-scores, SUCRA and rank intervals)", figures=(fig,),
                 notes=("Rankings summarise the network estimates and their uncertainty; they do not replace them. "
                        "Rank intervals come from resampling the network estimates (netmeta rankogram).",))


def split_pair(comparison: str, treatments) -> tuple[str, str] | None:
    """netmeta's 'B:A' comparison name as (B, A), even when node names contain ':'."""
    for a in treatments:
        for b in treatments:
            if a != b and f"{a}:{b}" == comparison:
                return a, b
    return None


def split_table(net: dict, measure, L: Labels) -> Table | None:
    """Node splitting (direct, indirect, difference) where the network has loops."""
    if not net.get("has_loops"):
        return None
    sc = measure_scale(measure)
    rows = []
    for r in net.get("node_split") or ():
        pair = split_pair(r["comparison"], net.get("treatments") or ())
        name = L.comparison(*pair) if pair else r["comparison"]
        est = (lambda p: fmt_estimate(*sc.natural([r.get(f"{p}_effect"), r.get(f"{p}_ci_low"), r.get(f"{p}_ci_high")]))
               if _finite(r.get(f"{p}_effect")) else "\u2013")
        rows.append({"Comparison": name, "Direct": est("direct"), "Indirect": est("indirect"),
                     "Network": est("network"), "Direct share": fmt_num(r.get("prop")),
                     "p (difference)": fmt_num(r.get("difference_pvalue"), 3) if _finite(r.get("difference_pvalue"))
                     else "\u2013", "Status": r.get("status"), "Why not": r.get("evidence") or ""})
    return Table(pd.DataFrame(rows), title="Node splitting (direct versus indirect evidence)",
                 notes=("Back-calculation (netmeta netsplit); comparisons without both direct and indirect evidence "
                        "are not assessable.",))


_ROB_WORST = {"low": 0, "some concerns": 1, "high": 2}


def _rob_of(data: dict, study: str, outcome: str | None = None) -> str:
    """A study's risk-of-bias level from the run's ``risk_of_bias`` assessments: the one of the
    outcome's result, else the result-free one, else the worst (as the certainty inputs pick)."""
    rob = data.get("risk_of_bias") or {}
    rows = [a for a in (rob.get("assessments") or () if isinstance(rob, dict) else ())
            if a.get("study") == study and not str(a.get("tool", "")).startswith("JBI")]
    pick = ([a for a in rows if outcome and a.get("result") == outcome] or [a for a in rows if not a.get("result")]
            or rows)
    levels = [rob_category(a.get("overall")) for a in pick]
    known = [lv for lv in levels if lv in _ROB_WORST]
    return max(known, key=_ROB_WORST.__getitem__) if known else "not assessed"


#: Comparisons up to which the contribution matrix is drawn whole; beyond that (a lumped network of
#: a large review: 276 comparisons x 97 studies, a 7,700 x 5,600 px figure of 27,000 cells) it shows
#: the comparisons with the network's reference, the summary of findings' rows.
MATRIX_ROWS_UP_TO = 40


def _matrix_rows(contrib: dict, net: dict) -> tuple[dict, tuple[str, ...]]:
    """(the matrix to draw, its note): the whole matrix up to :data:`MATRIX_ROWS_UP_TO` rows, else
    the rows of comparisons with the reference and the studies that contribute to them."""
    comps, ref = contrib["comparisons"], net.get("reference")
    treatments = net.get("treatments") or ()
    if len(comps) <= MATRIX_ROWS_UP_TO or ref is None:
        return contrib, ()
    rows = [i for i, c in enumerate(comps) if ref in (split_pair(c, treatments) or ())]
    if not rows:
        return contrib, ()
    m = contrib["matrix"]
    cols = [j for j in range(len(contrib["studies"])) if any(float(m[i][j] or 0.0) > 0 for i in rows)]
    shown = {"comparisons": [comps[i] for i in rows], "studies": [contrib["studies"][j] for j in cols],
             "matrix": [[m[i][j] for j in cols] for i in rows]}
    return shown, (f"The matrix shows the {len(rows)} comparisons with the reference (the rows of the summary of "
                   f"findings) of the network's {len(comps)}, and the {len(cols)} studies that contribute to them; "
                   "every comparison's row is in results.json (this network's contributions).",)


def _matrix_svg(contrib: dict, L: Labels, net: dict, title: str) -> Figure:
    comps, studies, m = contrib["comparisons"], contrib["studies"], contrib["matrix"]
    left, cw, rh, top = 300.0, 74.0, 20.0, 86.0
    svg = Svg(left + cw * len(studies) + 16, top + rh * len(comps) + 30, title=title)
    svg.text(8, 16, clip_text(title, 12.5, left + cw * len(studies)), size=12.5, weight="bold", user=True)
    for j, s in enumerate(studies):
        x = left + cw * j + cw / 2
        svg.raw(f'<g transform="translate({x:.1f},{top - 8:.1f}) rotate(-35)">')
        svg.text(0, 0, clip_text(s, 10, 110), size=10, user=True, title=s)
        svg.raw("</g>")
    for i, comp in enumerate(comps):
        y = top + rh * i
        pair = split_pair(comp, net.get("treatments") or ())
        svg.text(left - 8, y + 14, clip_text(L.comparison(*pair) if pair else comp, 10.5, left - 14), size=10.5,
                 anchor="end", user=True)
        for j, v in enumerate(m[i]):
            share = float(v or 0.0)
            svg.rect(left + cw * j + 1, y + 1, cw - 2, rh - 2, fill="#1f4e79", opacity=round(0.05 + 0.9 * share, 3))
            svg.text(left + cw * j + cw / 2, y + 14, f"{100 * share:.0f}%", size=10, anchor="middle",
                     fill="#ffffff" if share > 0.5 else "#1f2328")
    svg.text(8, top + rh * len(comps) + 20, "Share of each study in each network estimate (netmeta netcontrib, "
             "shortest path, random effects).", size=10, fill="#59636e")
    return Figure(svg=svg.markup(), alt=f"Contribution matrix: {title}")


def rob_bars(data: dict, net: dict, cert: dict | None, L: Labels,
             outcome: str | None = None) -> list[tuple[str, dict[str, float]]]:
    """Per comparison of the network's contribution matrix: (label, share of each risk-of-bias
    level). CINeMA: the within-study-bias inputs of the comparison's rating (``studies``: study ->
    [contribution share, level 1/2/3 or None]), the shares and levels the domain judged. GRADE for
    NMA (which rates risk of bias on the direct estimate) or no stored rating: the contribution
    matrix row with each study's level from the run's risk-of-bias table."""
    contrib = net.get("contributions") or {}
    rated = {frozenset((r["treatment1"], r["treatment2"])): r for r in (cert or {}).get("ratings", ())}
    bars = []
    for i, comp in enumerate(contrib.get("comparisons") or ()):
        pair = split_pair(comp, net.get("treatments") or ())
        if pair is None:
            continue
        shares = {lv: 0.0 for lv in ROB_LEVELS}
        r = rated.get(frozenset(pair))
        wsb = next((d for d in (r or {}).get("domains", ()) if d.get("domain") == "within_study_bias"), None)
        studies = ((wsb or {}).get("inputs") or {}).get("studies")
        if studies:
            for share, level in studies.values():
                shares[rob_category(level)] += float(share)
        else:
            for st, v in zip(contrib["studies"], contrib["matrix"][i]):
                shares[_rob_of(data, st, outcome)] += float(v or 0.0)
        tot = sum(shares.values()) or 1.0
        bars.append((L.comparison(*pair), {k: v / tot for k, v in shares.items()}))
    return bars


def contribution_blocks(data: dict, net: dict, cert: dict | None, L: Labels, title: str,
                        outcome: str | None = None) -> list[Block]:
    """The contribution matrix drawn, and per comparison the contribution bar coloured by risk of
    bias (:func:`rob_bars`)."""
    contrib = net.get("contributions")
    if not contrib or not contrib.get("studies"):
        return []
    shown, shown_note = _matrix_rows(contrib, net)
    out = [Block(title="Contribution matrix", figures=(_matrix_svg(shown, L, net, title),), notes=shown_note)]
    bars = rob_bars(data, net, cert, L, outcome)
    if bars:
        fig = Figure(svg=contribution_svg(bars, title=f"Contributions by risk of bias: {title}"),
                     alt=f"Contribution bars coloured by risk of bias: {title}")
        note = ("Grey: risk of bias not assessed (no risk-of-bias table in the project)." if all(
            b[1].get("not assessed", 0) > 0.999 for b in bars) else "CINeMA: within-study bias weighs each study's "
            "risk of bias by its contribution to the network estimate (the shares and levels its rating used).")
        out.append(Block(title="Contribution of studies by risk of bias", figures=(fig,), notes=(note,)))
    return out


def z_value(level) -> float:
    return float(norm_ppf(0.5 + float(level or 0.95) / 2))
