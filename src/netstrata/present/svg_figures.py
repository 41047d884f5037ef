"""The report's other figures as hand-written SVG (see :mod:`netstrata.present.svg`): network
graph, specification curve, rank plot and contribution bars coloured by risk of bias.

Same conventions as the matplotlib Displays of this package (circular layout clockwise from the
top as netmeta's ``netgraph``; specification curves as Simonsohn 2020; rank intervals as Salanti
2011), drawn without matplotlib so a report of dozens of figures renders in milliseconds.

References
----------
Simonsohn U, Simmons JP, Nelson LD. Specification curve analysis. Nat Hum Behav 2020;4:1208-14.
doi:10.1038/s41562-020-0912-z
Salanti G, Ades AE, Ioannidis JPA. Graphical methods and numerical summaries for presenting
results from multiple-treatment meta-analysis. J Clin Epidemiol 2011;64:163-71.
doi:10.1016/j.jclinepi.2010.03.016
Nikolakopoulou A et al. CINeMA: an approach for assessing confidence in the results of a network
meta-analysis. PLoS Med 2020;17:e1003082. doi:10.1371/journal.pmed.1003082
"""
from __future__ import annotations

import math

import numpy as np

from ._format import fmt_num, measure_scale
from .contribution import ROB_COLOURS
from .network_plot import circular_layout
from .svg import Svg, char_width, circle_markup, clip_text, fmt, line_style
from .svg_forest import axis_ticks

__all__ = ["network_svg", "curve_svg", "rank_svg", "contribution_svg", "CONCLUSION_COLOURS", "ROB_COLOURS"]

#: one classification everywhere (against the MID): benefit / harm / inconclusive
CONCLUSION_COLOURS = {"benefit": "#0072B2", "harm": "#D55E00", "inconclusive": "#9a9a9a",
                      "not_estimable": "#d0d0d0"}
_ACCENT, _MUTED = "#1f4e79", "#59636e"


def network_svg(treatments, edges, *, labels=None, sizes=None, title: str = "") -> str:
    """Treatments on a circle; ``edges`` (a, b, k): line width by the number of studies."""
    labels = labels or {}
    n = len(treatments)
    w, h = 720.0, 380.0
    cx, cy = w / 2, h / 2 + 4
    pos = {t: (cx + 175 * x, cy - 125 * y) for t, (x, y) in zip(treatments, circular_layout(max(n, 1)))}
    svg = Svg(w, h, title=title)
    kmax = max([k for _, _, k in edges] + [1])
    for a, b, k in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        svg.line(x1, y1, x2, y2, stroke="#8c8c8c", sw=1.5 + 5.5 * k / kmax)
        svg.text((x1 + x2) / 2, (y1 + y2) / 2 - 4, str(k), size=10.5, anchor="middle", fill=_MUTED)
    smax = max([v for v in (sizes or {}).values() if v] + [1])
    for t in treatments:
        x, y = pos[t]
        rad = 7 + 9 * math.sqrt((sizes or {}).get(t, smax) / smax)
        svg.circle(x, y, rad, fill=_ACCENT, stroke="#ffffff", sw=1.5)
        dy = -rad - 6 if y <= cy else rad + 15
        room = 2 * min(x, w - x) - 8
        svg.text(x, y + dy, clip_text(labels.get(t, t), 11, min(room, 300)), size=11, anchor="middle", user=True,
                 title=labels.get(t, t))
    svg.text(8, h - 8, "Node size: studies; edge width and number: studies comparing the two directly.", size=10,
             fill=_MUTED)
    return svg.markup()


def curve_svg(points, *, measure=None, zone=None, choices=(), title: str = "") -> str:
    """Specification curve. ``points``: dicts with ``estimate``, ``ci_low``, ``ci_high``
    (analysis scale), ``conclusion`` (MID classification), ``primary`` (bool) and the choice
    values; sorted by estimate. ``choices``: (name, label, [(value, value label), ...])."""
    scale = measure_scale(measure)
    pts = sorted(points, key=lambda p: (p["estimate"] if _ok(p["estimate"]) else math.inf, p.get("spec", 0)))
    n = max(len(pts), 1)
    levels = [(c, v, vl) for c, _, vals in choices for v, vl in vals]
    left, plot_w, top, plot_h = 200.0, 560.0, 34.0, 170.0
    ind_h = 13.0 * len(levels)
    svg = Svg(left + plot_w + 16, top + plot_h + 30 + ind_h + 34, title=title)
    vals = [v for p in pts for v in (p["ci_low"], p["ci_high"]) if _ok(v)] + [0.0] + list(zone or ())
    lo, hi = min(vals), max(vals)
    pad = 0.06 * ((hi - lo) or 1.0)
    lo, hi = lo - pad, hi + pad
    sy = (lambda v: top + plot_h - (v - lo) / (hi - lo) * plot_h)
    sx = (lambda i: left + (i + 0.5) / n * plot_w)
    if title:
        svg.text(8, 16, clip_text(title, 12.5, left + plot_w), size=12.5, weight="bold", user=True)
    if zone is not None:
        a, b = max(zone[0], lo), min(zone[1], hi)
        svg.rect(left, sy(b), plot_w, sy(a) - sy(b), fill="#dcefd6")
    svg.line(left, sy(0), left + plot_w, sy(0), stroke="#8c8c8c")
    for pos, text in axis_ticks(scale, lo, hi):
        if lo <= pos <= hi:
            svg.line(left - 4, sy(pos), left, sy(pos), stroke="#555")
            svg.text(left - 7, sy(pos) + 4, text, size=10, anchor="end")
    svg.text(left - 40, top - 8, scale.label if scale.code else "Effect", size=10, anchor="end", fill=_MUTED)
    fills = [CONCLUSION_COLOURS.get(p.get("conclusion"), "#9a9a9a") for p in pts]
    xs = [fmt(sx(i)) for i in range(len(pts))]          # each point's x, formatted once
    # CI lines and choice marks: one path per colour (per choice row); a curve of 1,000
    # specifications draws 8,000 marks, about 60 bytes each as separate elements
    lines: dict[str, list[str]] = {}
    for i, p in enumerate(pts):
        if _ok(p["ci_low"]) and _ok(p["ci_high"]):
            lines.setdefault(fills[i], []).append(f"M{xs[i]} {fmt(sy(p['ci_low']))}V{fmt(sy(p['ci_high']))}")
    for col, segs in lines.items():
        svg.parts.append(f'<path d="{"".join(segs)}" fill="none" {line_style(col, 1.2, None, 0.8)}/>')
    r_primary, r_other = fmt(4.2), fmt(2.8)
    for i, p in enumerate(pts):
        if _ok(p["estimate"]):
            if p.get("primary"):
                svg.parts.append(circle_markup(xs[i], fmt(sy(p["estimate"])), r_primary, "#000000"))
            else:
                svg.parts.append(circle_markup(xs[i], fmt(sy(p["estimate"])), r_other, fills[i]))
    y_ind = top + plot_h + 22
    where: dict = {}            # choice -> value -> positions (ascending), one pass per choice
    for j, (c, v, vl) in enumerate(levels):
        y = y_ind + 13 * j
        svg.text(left - 7, y + 4, clip_text(vl, 9.5, left - 14), size=9.5, anchor="end", user=True)
        if c not in where:
            where[c] = {}
            for i, p in enumerate(pts):
                where[c].setdefault(str(p.get(c)), []).append(i)
        _mark_row(svg, xs, fills, fmt(y - 2.2), where[c].get(v, ()))
    legend_y = y_ind + ind_h + 16
    lx = 8.0
    for key, text in (("benefit", "benefit beyond the MID"), ("harm", "harm beyond the MID"),
                      ("inconclusive", "inconclusive (CI touches the MID zone)")):
        svg.rect(lx, legend_y - 8, 9, 9, fill=CONCLUSION_COLOURS[key])
        svg.text(lx + 13, legend_y, text, size=10)
        lx += 13 + 6.2 * len(text) + 14
    svg.circle(lx + 4, legend_y - 3.5, 4.2, fill="#000000")
    svg.text(lx + 13, legend_y, "primary analysis", size=10)
    return svg.markup()


def _mark_row(svg: Svg, xs, fills, y: str, which) -> None:
    """One row of 4.4 x 4.4 square marks centred on the points' x (``xs``) at the positions
    ``which``, drawn from the top ``y``: one path per colour, each mark a vertical stroke 4.4 wide
    and 4.4 long (butt caps: exactly the square)."""
    by: dict[str, list[str]] = {}
    for i in which:
        by.setdefault(fills[i], []).append(f"M{xs[i]} {y}v4.4")
    for col, segs in by.items():
        svg.parts.append(f'<path d="{"".join(segs)}" fill="none" stroke="{col}" stroke-width="4.4"/>')


def rank_svg(rows, *, labels=None, title: str = "") -> str:
    """Median rank (dot) and rank interval (bar) per treatment, best first; P-score and SUCRA."""
    labels = labels or {}
    rows = sorted(rows, key=lambda r: (-(r.get("p_score") or 0), r.get("median_rank") or 0))
    n = len(rows)
    left, plot_w, top, rh = 230.0, 300.0, 40.0, 22.0
    svg = Svg(left + plot_w + 170, top + rh * n + 40, title=title)
    sx = (lambda rank: left + (rank - 0.5) / max(n, 1) * plot_w)
    svg.text(8, 16, clip_text(title, 12.5, 680), size=12.5, weight="bold", user=True) if title else None
    svg.text(left + plot_w + 20, top - 10, "P-score", size=11, weight="bold")
    svg.text(left + plot_w + 90, top - 10, "SUCRA", size=11, weight="bold")
    for i in range(1, n + 1):
        svg.line(sx(i), top - 4, sx(i), top + rh * n, stroke="#eeeeee")
        svg.text(sx(i), top + rh * n + 14, str(i), size=10, anchor="middle")
    for j, r in enumerate(rows):
        y = top + rh * j + rh / 2
        t = r["treatment"]
        svg.text(left - 8, y + 4, clip_text(labels.get(t, t), 11, left - 14), size=11, anchor="end", user=True)
        lo, hi, med = r.get("rank_ci_low"), r.get("rank_ci_high"), r.get("median_rank")
        if _ok(lo) and _ok(hi):
            svg.line(sx(lo), y, sx(hi), y, stroke=_ACCENT, sw=3, opacity=0.55)
        if _ok(med):
            svg.circle(sx(med), y, 4.5, fill=_ACCENT)
        svg.text(left + plot_w + 20, y + 4, _pct(r.get("p_score")), size=11)
        svg.text(left + plot_w + 90, y + 4, _pct(r.get("sucra")), size=11)
    svg.text(left, top + rh * n + 30, "Rank (1 = best); dot: median rank; bar: 95% rank interval (resampling)",
             size=10, fill=_MUTED)
    return svg.markup()


def contribution_svg(bars, *, title: str = "") -> str:
    """Horizontal stacked bars: per comparison, the share of each risk-of-bias level in the
    contributions to its network estimate (percent written in segments wide enough to hold it).
    ``bars``: (comparison label, {level: share})."""
    longest = max((len(str(label)) for label, _ in bars), default=10)
    left = min(max(char_width(11) * longest + 22, 200.0), 420.0)
    plot_w, top, rh = 380.0, 46.0, 22.0
    width = left + plot_w + 20
    svg = Svg(width, top + rh * len(bars) + 36, title=title)
    if title:
        svg.text(8, 16, clip_text(title, 12.5, width - 16), size=12.5, weight="bold", user=True)
    x = left
    for level, col in ROB_COLOURS.items():
        svg.rect(x, 26, 10, 10, fill=col)
        svg.text(x + 14, 35, level, size=10)
        x += 14 + 6.2 * len(level) + 14
    for j, (label, shares) in enumerate(bars):
        y = top + rh * j
        svg.text(left - 8, y + rh / 2 + 4, clip_text(label, 11, left - 14), size=11, anchor="end", user=True,
                 title=label if clip_text(label, 11, left - 14) != label else None)
        x = left
        for level, col in ROB_COLOURS.items():
            wdt = plot_w * float(shares.get(level, 0.0))
            if wdt > 0:
                svg.rect(x, y + 3, wdt, rh - 6, fill=col, stroke="#ffffff", sw=0.5)
                if wdt >= 34:
                    svg.text(x + wdt / 2, y + rh / 2 + 3.5, f"{100 * float(shares[level]):.0f}%", size=9.5,
                             anchor="middle", fill="#ffffff" if level == "high" else "#1f2328")
                x += wdt
    y = top + rh * len(bars)
    for p in (0, 25, 50, 75, 100):
        svg.line(left + plot_w * p / 100, y, left + plot_w * p / 100, y + 4, stroke="#555")
        svg.text(left + plot_w * p / 100, y + 16, f"{p}%", size=10, anchor="middle")
    svg.text(left, y + 30, "Share of the contribution to the network estimate", size=10, fill=_MUTED)
    return svg.markup()


def _ok(x) -> bool:
    return x is not None and isinstance(x, (int, float, np.floating)) and math.isfinite(x)


def _pct(x) -> str:
    return fmt_num(100 * float(x), 0) + "%" if _ok(x) else "\u2013"
