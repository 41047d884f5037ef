"""The base of every figure: scikit-learn style Display objects with deterministic output.

A Display holds numbers only; ``plot(ax=None)`` draws them (matplotlib is imported inside the
method, so importing netstrata never imports matplotlib). ``to_svg()`` and ``to_png_base64()``
render off-screen on a fresh :class:`matplotlib.figure.Figure` (no pyplot state, Agg canvas) with a
fixed size, DPI and style, ``svg.hashsalt`` set and metadata dates stripped, so the same numbers
give the same bytes.
"""
from __future__ import annotations

import base64
import io
import re
from contextlib import contextmanager
from pathlib import Path

from ..errors import ParameterError

__all__ = ["Display", "STYLE", "DPI", "WIDTH", "PALETTE", "RENDERED_TEXT_LIMIT"]

DPI = 100
WIDTH = 8.0            # inches; every figure of the report has this width
RENDERED_TEXT_LIMIT = 60  # labels longer than this are shortened with an ellipsis

# A colour-blind safe palette (Okabe & Ito 2008) for categories (regions, tiers, ...).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

STYLE = {
    "svg.hashsalt": "netstrata",      # stable ids for clip paths etc.
    "svg.fonttype": "none",           # text stays text (searchable, escaped by matplotlib's writer)
    "text.parse_math": False,         # a '$' in a study label is a dollar sign, not mathtext
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.bbox": None,             # no tight bbox: the canvas size is fixed by the Display
    "path.simplify": False,
}

_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_PNG_METADATA = {"Software": None}
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
_SAVE_FORMATS = {"svg": _SVG_METADATA, "png": _PNG_METADATA, "pdf": _PDF_METADATA}


@contextmanager
def style():
    """The fixed rc style every Display draws with."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def short(label, limit: int = RENDERED_TEXT_LIMIT) -> str:
    """``label`` as text, shortened to ``limit`` characters with an ellipsis."""
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class Display:
    """Base class: subclasses implement ``_size()`` (inches) and ``_draw(fig, ax)``.

    Attributes set by :meth:`plot`: ``figure_`` and ``ax_`` (the main axes).
    """

    #: rendered bytes by format, kept by :func:`netstrata.present.render.prerender`
    _rendered: dict[str, bytes] | None = None

    def __init__(self):
        self.figure_ = None
        self.ax_ = None

    # -- to implement -------------------------------------------------------------------
    def _size(self) -> tuple[float, float]:
        raise NotImplementedError

    def _draw(self, fig, ax) -> None:
        raise NotImplementedError

    def _margins(self) -> dict:
        """``subplots_adjust`` arguments applied when the Display creates its own figure."""
        return {}

    # -- public ---------------------------------------------------------------------------
    def plot(self, ax=None):
        """Draw on ``ax`` (a new figure of the Display's fixed size when None); returns self."""
        with style():
            if ax is None:
                import matplotlib.pyplot as plt

                fig = plt.figure(figsize=self._size(), dpi=DPI)
                fig.subplots_adjust(**self._margins())
                ax = fig.add_subplot()
            self._draw(ax.figure, ax)
        self.figure_, self.ax_ = ax.figure, ax
        return self

    def _render(self, fmt: str, metadata: dict) -> bytes:
        if self._rendered is not None and fmt in self._rendered:
            return self._rendered[fmt]
        from matplotlib.figure import Figure

        with style():
            fig = Figure(figsize=self._size(), dpi=DPI)
            fig.subplots_adjust(**self._margins())
            ax = fig.add_subplot()
            self._draw(fig, ax)
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata)
        return buf.getvalue()

    def to_svg(self) -> str:
        """The figure as an ``<svg>`` element (no XML prolog), ready to inline in HTML."""
        text = self._render("svg", _SVG_METADATA).decode("utf-8")
        return text[text.index("<svg"):].strip()

    def to_png(self) -> bytes:
        return self._render("png", _PNG_METADATA)

    def to_png_base64(self) -> str:
        """The PNG bytes, base64-encoded (for ``<img src="data:image/png;base64,...">``)."""
        return base64.b64encode(self.to_png()).decode("ascii")

    def _repr_svg_(self) -> str:
        """Jupyter shows a Display as its SVG."""
        return self.to_svg()

    def save(self, path, *, format: str | None = None) -> Path:
        """Write the figure to ``path``: SVG, PNG or PDF by the file's suffix (or ``format``).

        The same numbers give the same bytes (fixed size, style and metadata). Returns the path.
        """
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt not in _SAVE_FORMATS:
            raise ParameterError(f"Display.save writes {sorted(_SAVE_FORMATS)} files (by suffix or format=); "
                                 f"got {str(path)!r} (format {fmt!r}).")
        data = self.to_svg().encode("utf-8") if fmt == "svg" else self._render(fmt, _SAVE_FORMATS[fmt])
        path.write_bytes(data)
        return path


def svg_size(svg: str) -> tuple[float, float]:
    """(width, height) in pt of an svg produced by :meth:`Display.to_svg`."""
    m = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return (float(m.group(1)), float(m.group(2))) if m else (float("nan"), float("nan"))
