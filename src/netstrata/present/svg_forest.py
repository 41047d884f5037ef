"""Forest plots as hand-written SVG: labelled study rows (squares sized by weight), pooled
diamonds per subgroup, hollow diamonds for network estimates, prediction-interval bars, the MID
zone shaded, a measure-aware axis (log scale for ratios, labelled as ratios) and "favours"
captions taken from the outcome's direction.

Rows are dictionaries (analysis scale): ``kind`` one of :data:`ROW_KINDS`, ``label``,
``cells`` (texts of the extra columns), ``effect``, ``ci_low``, ``ci_high``, ``weight``
(percent), ``colour``, ``user`` (label is user data, isolated for bidirectional text).

References
----------
Lewis S, Clarke M. Forest plots: trying to see the wood and the trees. BMJ 2001;322:1479-80.
doi:10.1136/bmj.322.7300.1479
"""
from __future__ import annotations

import math

import numpy as np

from ._format import fmt_estimate, fmt_num, measure_scale
from .forest import _nice_ratio_ticks
from .svg import Svg, clip_text

__all__ = ["forest_svg", "ROW_KINDS", "favours_captions", "axis_ticks"]

ROW_KINDS = ("header", "study", "diamond", "hollow", "prediction", "note", "spacer")
_ROW, _TOP, _SIZE = 19.0, 46.0, 11.5
_ZONE, _INK, _MUTED, _PI = "#dcefd6", "#1f2328", "#59636e", "#c0504d"


def favours_captions(treat1: str, treat2: str, small_values: str | None) -> tuple[str, str]:
    """(left, right) captions of an axis of treat1 versus treat2: with small values desirable
    (e.g. pain) effects below the null favour treat1; otherwise (e.g. success) above it."""
    if small_values == "desirable":
        return f"favours {treat1}", f"favours {treat2}"
    return f"favours {treat2}", f"favours {treat1}"


def _linear_ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo or 1.0
    raw = span / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 10) for i in range(int((hi - start) / step + 1e-9) + 1)]


def axis_ticks(scale, lo: float, hi: float) -> list[tuple[float, str]]:
    """(position on the analysis scale, label) of the axis ticks between lo and hi."""
    if scale.is_ratio:
        ticks = _nice_ratio_ticks(math.exp(lo), math.exp(hi)) or [1.0]
        return [(math.log(t), f"{t:g}") for t in ticks]
    return [(t, fmt_num(t, 0 if float(t).is_integer() else 1)) for t in _linear_ticks(lo, hi)]


def _limits(rows, zone) -> tuple[float, float]:
    vals = [v for r in rows for v in (r.get("ci_low"), r.get("ci_high"), r.get("effect"))
            if v is not None and math.isfinite(v)]
    if zone is not None:
        vals += list(zone)
    vals.append(0.0)
    lo, hi = min(vals), max(vals)
    pad = 0.06 * ((hi - lo) or 1.0)
    return lo - pad, hi + pad


def forest_svg(rows, *, measure=None, zone=None, columns=(), label_header="Study", label_width=210.0,
               favours: tuple[str, str] | None = None, title: str = "", footnotes=(), plot_width=250.0,
               show_weight: bool = True, level: float = 0.95) -> str:
    """The SVG markup of a forest plot (see the module docstring)."""
    scale = measure_scale(measure)
    cols = tuple(columns)
    x_plot = 8 + label_width + sum(w for _, w in cols) + 10
    x_text = x_plot + plot_width + 12
    width = x_text + 150 + (52 if show_weight else 0)
    n = len(rows)
    foot = [f for f in footnotes if f]
    height = _TOP + _ROW * n + 72 + 15 * len(foot)
    svg = Svg(width, height, title=title)
    lo, hi = _limits(rows, zone)
    sx = (lambda v: x_plot + (v - lo) / (hi - lo) * plot_width)
    if title:
        svg.text(8, 16, clip_text(title, 13, width - 16), size=13, weight="bold", user=True)
    y0, y1 = _TOP - 4, _TOP + _ROW * n
    if zone is not None:
        a, b = max(zone[0], lo), min(zone[1], hi)
        svg.rect(sx(a), y0, sx(b) - sx(a), y1 - y0, fill=_ZONE)
        svg.text((sx(a) + sx(b)) / 2, y0 - 3, "MID zone", size=9, anchor="middle", fill="#38761d")
    svg.line(sx(0.0), y0, sx(0.0), y1, stroke="#8c8c8c", sw=1)
    _headers(svg, cols, label_header, label_width, x_text, show_weight, level, scale)
    wmax = max([r.get("weight") or 0 for r in rows if r.get("kind") == "study"] + [1e-9])
    for i, r in enumerate(rows):
        _row(svg, r, _TOP + _ROW * i + _ROW / 2, cols, label_width, sx, x_text, show_weight, wmax, scale)
    _axis(svg, lo, hi, sx, y1, scale, favours, x_plot, plot_width)
    for j, f in enumerate(foot):
        svg.text(8, y1 + 72 + 15 * j, f, size=10.5, fill=_MUTED, user=False)
    return svg.markup()


def _headers(svg, cols, label_header, label_width, x_text, show_weight, level, scale) -> None:
    y = _TOP - 14
    svg.text(8, y, label_header, size=_SIZE, weight="bold")
    x = 8 + label_width
    for head, w in cols:
        svg.text(x, y, head, size=_SIZE, weight="bold")
        x += w
    svg.text(x_text, y, f"{scale.label if scale.code else 'Estimate'} ({100 * level:g}% CI)", size=_SIZE,
             weight="bold")
    if show_weight:
        svg.text(x_text + 196, y, "Weight", size=_SIZE, weight="bold", anchor="end")


def _row(svg, r, y, cols, label_width, sx, x_text, show_weight, wmax, scale) -> None:
    kind = r.get("kind", "study")
    colour = r.get("colour") or _INK
    bold = "bold" if kind in ("header", "diamond", "hollow") else "normal"
    indent = 0 if kind in ("header", "diamond", "hollow", "note") else 10
    size = _SIZE + (0.5 if kind == "header" else 0)
    label = clip_text(r.get("label", ""), size, label_width - indent - 4 if kind != "header" else 640)
    svg.text(8 + indent, y + 4, label, size=size, weight=bold, fill=colour if kind == "header" else _INK,
             user=bool(r.get("user")), italic=kind == "note", title=r.get("label") if label != r.get("label") else None)
    if kind in ("header", "note", "spacer"):
        return
    x = 8 + label_width
    for (head, w), cell in zip(cols, r.get("cells", ())):
        svg.text(x, y + 4, clip_text(cell, 10.5, w - 6), size=10.5, fill=_MUTED, user=True)
        x += w
    e, lo, hi = (r.get(k) for k in ("effect", "ci_low", "ci_high"))
    if e is None or not all(math.isfinite(v) for v in (e, lo, hi)):
        svg.text(x_text, y + 4, "not estimable", size=_SIZE, fill=_MUTED)
        return
    nat = scale.natural(np.array([e, lo, hi]))
    if kind == "prediction":
        svg.rect(sx(lo), y - 3, sx(hi) - sx(lo), 6, fill=_PI, opacity=0.85)
        svg.text(x_text, y + 4, f"[{fmt_num(nat[1])} to {fmt_num(nat[2])}]", size=_SIZE, fill=_PI)
        return
    if kind in ("diamond", "hollow"):
        pts = [(sx(lo), y), (sx(e), y - 6.5), (sx(hi), y), (sx(e), y + 6.5)]
        svg.polygon(pts, fill="#ffffff" if kind == "hollow" else colour, stroke=colour, sw=1.6)
    else:
        svg.line(sx(lo), y, sx(hi), y, stroke=colour, sw=1.3)
        w = r.get("weight")
        side = 4 + 8 * math.sqrt((w or 0) / wmax) if w is not None and math.isfinite(w) else 5
        svg.rect(sx(e) - side / 2, y - side / 2, side, side, fill=colour)
    svg.text(x_text, y + 4, fmt_estimate(*nat), size=_SIZE, weight="bold" if kind != "study" else "normal")
    w = r.get("weight")
    if show_weight and kind == "study" and w is not None and math.isfinite(w):
        svg.text(x_text + 196, y + 4, f"{fmt_num(w, 1)}%", size=_SIZE, anchor="end", fill=_MUTED)


def _axis(svg, lo, hi, sx, y1, scale, favours, x_plot, plot_width) -> None:
    svg.line(x_plot, y1 + 2, x_plot + plot_width, y1 + 2, stroke="#555", sw=1)
    for pos, text in axis_ticks(scale, lo, hi):
        if lo <= pos <= hi:
            svg.line(sx(pos), y1 + 2, sx(pos), y1 + 6, stroke="#555")
            svg.text(sx(pos), y1 + 18, text, size=10.5, anchor="middle")
    svg.text(x_plot + plot_width / 2, y1 + 31, scale.axis_label if scale.code else "Effect", size=10.5,
             anchor="middle", fill=_MUTED)
    if favours:          # one caption per line, each beside the line of no effect
        x0 = sx(0.0)
        svg.text(x0 - 4, y1 + 46, f"\u2190 {favours[0]}", size=10.5, anchor="end", fill=_INK)
        svg.text(x0 + 4, y1 + 60, f"{favours[1]} \u2192", size=10.5, fill=_INK)
