"""Forest plots as hand-written SVG: labelled study rows (squares sized by weight), pooled
diamonds per subgroup, hollow diamonds for network estimates, prediction-interval bars, the MID
zone shaded, a measure-aware axis (log scale for ratios, labelled as ratios) and "favours"
captions taken from the outcome's direction.

Rows are dictionaries (analysis scale): ``kind`` one of :data:`ROW_KINDS`, ``label``,
``cells`` (texts of the extra columns), ``effect``, ``ci_low``, ``ci_high``, ``weight``
(percent), ``colour``, ``user`` (label is user data, isolated for bidirectional text) and
``certainty`` (a rating such as "Very low (capped)", drawn in a last column with GRADE's
symbols when the plot has a ``certainty_header``).

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
from .svg import Svg, char_width, clip_text

__all__ = ["forest_svg", "ROW_KINDS", "favours_captions", "axis_ticks"]

ROW_KINDS = ("header", "study", "diamond", "hollow", "prediction", "note", "spacer")
_ROW, _TOP, _SIZE = 19.0, 46.0, 11.5
_ZONE, _INK, _MUTED, _PI = "#dcefd6", "#1f2328", "#59636e", "#c0504d"
_CERT_WIDTH = 190.0
#: GRADE levels in the colours of the report's certainty badges (darker where the badge is light)
_CERT_COLOURS = {"High": "#116329", "Moderate": "#2f7d3b", "Low": "#9a5b00", "Very low": "#c9302c"}


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


#: a prediction interval may widen the axis to this multiple of the span of everything else;
#: beyond it the bar is clipped at the axis and ends in an arrow (as metafor's forest with alim)
_PI_STRETCH = 1.6


def _values(rows, kinds=None) -> list[float]:
    return [v for r in rows if kinds is None or r.get("kind", "study") in kinds
            for v in (r.get("ci_low"), r.get("ci_high"), r.get("effect")) if v is not None and math.isfinite(v)]


def _limits(rows, zone) -> tuple[float, float]:
    """Axis limits (analysis scale): every row, the MID zone and the null; a prediction interval
    only as far as :data:`_PI_STRETCH` times the span of the rest (the bar is clipped beyond)."""
    vals = _values([r for r in rows if r.get("kind") != "prediction"]) + [0.0]
    if zone is not None:
        vals += list(zone)
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    pis = _values(rows, ("prediction",))
    if pis:
        room = (_PI_STRETCH - 1) * span / 2
        lo, hi = min(lo, max(min(pis), lo - room)), max(hi, min(max(pis), hi + room))
    pad = 0.06 * ((hi - lo) or 1.0)
    return lo - pad, hi + pad


def _estimate_width(scale, level: float) -> float:
    """Width of the estimate column: its bold header or an estimate "−0.71 (−1.35 to −0.06)"."""
    header = f"{scale.label if scale.code else 'Estimate'} ({100 * level:g}% CI)"
    return max(150.0, 1.08 * char_width(_SIZE) * len(header) + 8)


def forest_svg(rows, *, measure=None, zone=None, columns=(), label_header="Study", label_width=210.0,
               favours: tuple[str, str] | None = None, title: str = "", footnotes=(), plot_width=250.0,
               show_weight: bool = True, level: float = 0.95, certainty_header: str | None = None) -> str:
    """The SVG markup of a forest plot (see the module docstring)."""
    scale = measure_scale(measure)
    cols = tuple(columns)
    x_plot = 8 + label_width + sum(w for _, w in cols) + 10
    x_text = x_plot + plot_width + 12
    x_weight = x_text + _estimate_width(scale, level) + 46
    x_cert = (x_weight + 12) if show_weight else (x_text + _estimate_width(scale, level))
    width = (x_weight + 4 if show_weight else x_cert) + (_CERT_WIDTH if certainty_header else 0)
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
    _headers(svg, cols, label_header, label_width, x_text, x_weight if show_weight else None, level, scale)
    if certainty_header:
        svg.text(x_cert, _TOP - 14, certainty_header, size=_SIZE, weight="bold")
    wmax = max([r.get("weight") or 0 for r in rows if r.get("kind") == "study"] + [1e-9])
    for i, r in enumerate(rows):
        y = _TOP + _ROW * i + _ROW / 2
        _row(svg, r, y, cols, label_width, sx, x_text, x_weight if show_weight else None, wmax, scale, (lo, hi))
        if certainty_header and r.get("certainty"):
            _certainty(svg, r["certainty"], x_cert, y)
    _axis(svg, lo, hi, sx, y1, scale, favours, x_plot, plot_width)
    for j, f in enumerate(foot):
        svg.text(8, y1 + 72 + 15 * j, f, size=10.5, fill=_MUTED, user=False)
    return svg.markup()


def _certainty(svg, rating: str, x: float, y: float) -> None:
    """GRADE's symbols and the rating word, coloured by level (as the report's badges)."""
    level = str(rating).split(" (")[0]
    if level not in _CERT_COLOURS:
        svg.text(x, y + 4, clip_text(rating, 10.5, _CERT_WIDTH), size=10.5, fill=_MUTED)
        return
    i = list(_CERT_COLOURS).index(level)
    svg.text(x, y + 4, "\u2295" * (4 - i) + "\u25cb" * i, size=_SIZE, fill=_CERT_COLOURS[level])
    svg.text(x + 46, y + 4, clip_text(rating, 10.5, _CERT_WIDTH - 46), size=10.5, weight="bold",
             fill=_CERT_COLOURS[level])


def _headers(svg, cols, label_header, label_width, x_text, x_weight, level, scale) -> None:
    y = _TOP - 14
    svg.text(8, y, label_header, size=_SIZE, weight="bold")
    x = 8 + label_width
    for head, w in cols:
        svg.text(x, y, head, size=_SIZE, weight="bold")
        x += w
    svg.text(x_text, y, f"{scale.label if scale.code else 'Estimate'} ({100 * level:g}% CI)", size=_SIZE,
             weight="bold")
    if x_weight is not None:
        svg.text(x_weight, y, "Weight", size=_SIZE, weight="bold", anchor="end")


def _row(svg, r, y, cols, label_width, sx, x_text, x_weight, wmax, scale, axis) -> None:
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
    ratio = scale.is_ratio
    if kind == "prediction":
        a, b = max(lo, axis[0]), min(hi, axis[1])
        svg.rect(sx(a), y - 3, sx(b) - sx(a), 6, fill=_PI, opacity=0.85)
        for end, clipped, step in ((a, lo < axis[0], -1), (b, hi > axis[1], 1)):
            if clipped:                     # the interval goes on beyond the axis
                svg.polygon([(sx(end) + 7 * step, y), (sx(end), y - 5.5), (sx(end), y + 5.5)], fill=_PI)
        svg.text(x_text, y + 4, f"[{fmt_num(nat[1], ratio=ratio)} to {fmt_num(nat[2], ratio=ratio)}]", size=_SIZE,
                 fill=_PI)
        return
    if kind in ("diamond", "hollow"):
        pts = [(sx(lo), y), (sx(e), y - 6.5), (sx(hi), y), (sx(e), y + 6.5)]
        svg.polygon(pts, fill="#ffffff" if kind == "hollow" else colour, stroke=colour, sw=1.6)
    else:
        svg.line(sx(lo), y, sx(hi), y, stroke=colour, sw=1.3)
        w = r.get("weight")
        side = 4 + 8 * math.sqrt((w or 0) / wmax) if w is not None and math.isfinite(w) else 5
        svg.rect(sx(e) - side / 2, y - side / 2, side, side, fill=colour)
    svg.text(x_text, y + 4, fmt_estimate(*nat, ratio=ratio), size=_SIZE, weight="bold" if kind != "study" else "normal")
    w = r.get("weight")
    if x_weight is not None and kind == "study" and w is not None and math.isfinite(w):
        svg.text(x_weight, y + 4, f"{fmt_num(w, 1)}%", size=_SIZE, anchor="end", fill=_MUTED)


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
