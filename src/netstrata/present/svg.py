"""Hand-written SVG for the report's figures: small, fast (no matplotlib), deterministic bytes.

:class:`Svg` collects elements and returns one ``<svg>`` element that scales to its container
(``viewBox`` plus ``width``/``max-width``). Every piece of user text goes through :func:`iso`:
it is wrapped in Unicode FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, so a right-to-left
override inside one study name cannot reverse the text after it (Unicode UAX #9, isolates), and
it is XML-escaped. Coordinates are written with one decimal.
"""
from __future__ import annotations

from html import escape

__all__ = ["Svg", "iso", "strip_isolates", "FONT", "char_width", "clip_text", "rect_parts", "line_style", "line_markup",
           "circle_markup", "fmt"]

FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
FSI, PDI = "\u2068", "\u2069"
#: average advance of a character, in em, for layout (DejaVu Sans is about 0.6 em wide)
_EM = 0.6


def iso(text) -> str:
    """``text`` isolated for bidirectional display (FSI ... PDI); empty text stays empty."""
    text = "" if text is None else str(text)
    return f"{FSI}{text}{PDI}" if text else ""


def strip_isolates(text: str) -> str:
    return str(text).replace(FSI, "").replace(PDI, "")


def char_width(size: float) -> float:
    return _EM * size


def clip_text(text, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels at font ``size``."""
    text = "" if text is None else str(text)
    n = max(int(width / char_width(size)), 3)
    return text if len(text) <= n else text[: n - 1] + "\u2026"


_F: dict = {}     # coordinate -> text; a specification curve repeats its x positions thousands of times


def _one_decimal(x: float) -> str:
    s = f"{float(x):.1f}"
    return "0" if s in ("0.0", "-0.0") else s.removesuffix(".0")


def _f(x: float) -> str:
    try:
        s = _F.get(x)
    except TypeError:            # an unhashable number (a 0-d array)
        return _one_decimal(x)
    if s is None:
        s = _one_decimal(x)
        if len(_F) < 100_000:
            _F[x] = s
    return s


def rect_parts(x, w, h, *, fill="none", stroke="none", sw=1.0, opacity=None, rx=0.0) -> tuple[str, str]:
    """The markup of :meth:`Svg.rect` before and after its y coordinate."""
    op = f' fill-opacity="{opacity}"' if opacity is not None else ""
    r = f' rx="{_f(rx)}"' if rx else ""
    return (f'<rect x="{_f(x)}" y="',
            f'" width="{_f(max(w, 0))}" height="{_f(max(h, 0))}"{r} fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{sw}"{op}/>')


def line_style(stroke="#333", sw=1.0, dash: str | None = None, opacity=None) -> str:
    """The attributes of :meth:`Svg.line` after its coordinates."""
    d = f' stroke-dasharray="{dash}"' if dash else ""
    op = f' stroke-opacity="{opacity}"' if opacity is not None else ""
    return f'stroke="{stroke}" stroke-width="{sw}"{d}{op}'


def line_markup(x1: str, y1: str, x2: str, y2: str, style: str) -> str:
    """:meth:`Svg.line` from formatted coordinates (:func:`fmt`) and :func:`line_style`."""
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {style}/>'


def circle_markup(cx: str, cy: str, r: str, fill="#333", stroke="none", sw=1.0) -> str:
    """:meth:`Svg.circle` from formatted coordinates (:func:`fmt`); no stroke attributes when there
    is no stroke (SVG's default: a specification curve draws thousands of dots)."""
    if stroke == "none":
        return f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{fill}"/>'
    return f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>'


#: a coordinate as the markup writes it (one decimal, no trailing ".0", "0" for +-0)
fmt = _f


class Svg:
    """An SVG canvas of ``width`` x ``height`` user units."""

    def __init__(self, width: float, height: float, *, title: str = "", css_class: str = "fig"):
        self.width, self.height = float(width), float(height)
        self.parts: list[str] = []
        self.title = title
        self.css_class = css_class

    # ----------------------------------------------------------------- primitives
    def rect(self, x, y, w, h, *, fill="none", stroke="none", sw=1.0, opacity=None, rx=0.0) -> None:
        head, tail = rect_parts(x, w, h, fill=fill, stroke=stroke, sw=sw, opacity=opacity, rx=rx)
        self.parts.append(f"{head}{_f(y)}{tail}")

    def line(self, x1, y1, x2, y2, *, stroke="#333", sw=1.0, dash: str | None = None, opacity=None) -> None:
        self.parts.append(line_markup(_f(x1), _f(y1), _f(x2), _f(y2), line_style(stroke, sw, dash, opacity)))

    def polygon(self, points, *, fill="#333", stroke="none", sw=1.0) -> None:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        self.parts.append(f'<polygon points="{pts}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>')

    def circle(self, cx, cy, r, *, fill="#333", stroke="none", sw=1.0) -> None:
        self.parts.append(circle_markup(_f(cx), _f(cy), _f(r), fill, stroke, sw))

    def text(self, x, y, text, *, size=12.0, anchor="start", weight="normal", fill="#1f2328", user=False,
             italic=False, title: str | None = None) -> None:
        """Text at (x, y) (baseline). ``user=True``: the text is user data (isolated)."""
        body = escape(iso(text) if user else str(text), quote=False)
        style = ' font-style="italic"' if italic else ""
        bold = f' font-weight="{weight}"' if weight != "normal" else ""
        tip = f"<title>{escape(iso(title) if user else title, quote=False)}</title>" if title else ""
        self.parts.append(f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" text-anchor="{anchor}" '
                          f'fill="{fill}"{bold}{style}>{tip}{body}</text>')

    def raw(self, markup: str) -> None:
        self.parts.append(markup)

    # ----------------------------------------------------------------- output
    def markup(self) -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{self.css_class}" '
                f'viewBox="0 0 {_f(self.width)} {_f(self.height)}" width="{_f(self.width)}" '
                f'height="{_f(self.height)}" font-family="{FONT}" role="img">')
        title = f"<title>{escape(iso(self.title), quote=False)}</title>" if self.title else ""
        return head + title + "".join(self.parts) + "</svg>"
