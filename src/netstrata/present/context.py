"""What the HTML report shows: a frozen :class:`ReportContext` of plain tables, strings and figures.

The pipeline (``netstrata.synthesis``) fills it; every section is optional. Tables are
:class:`~netstrata.present.tables.Table` objects (or anything :meth:`Table.of` accepts: a
DataFrame, a ``Summary``, a result with ``summary()``/``to_frame()``), kept at full precision;
figures are :class:`Figure` objects or Display objects (rendered when the report is built).
Text is plain text: it is always escaped, never interpreted as HTML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import metadata
from typing import Mapping, Sequence, Union

from ..errors import ParameterError
from .citations import Citation
from .tables import Table

__all__ = ["Figure", "Overview", "StratumReport", "Methods", "ReportContext", "Block", "BlockGroup",
           "software_versions", "slug"]

# Inside a tag: a script element, an event-handler attribute or a javascript: link.
_UNSAFE_SVG = re.compile(r"<\s*script|<[^>]*\son[a-z]+\s*=|<[^>]*href\s*=\s*[\"']?\s*javascript:", re.I)
_SCRIPT = re.compile(r"<\s*script", re.I)
_IN_TAG = re.compile(r"\son[a-z]+\s*=|href\s*=\s*[\"']?\s*javascript:", re.I)


# Where a match of _IN_TAG can start: white space before "on", or "href", in any case (no other
# character matches these letters case-insensitively). Each pattern begins with a literal, which
# the regular-expression engine finds by a fast scan; a case-insensitive scan of a large figure
# (or str.lower() of it) is about ten times slower. (pattern, offset of the match's start)
_STARTS = ((re.compile(r"o(?<=\so)[nN]"), 1), (re.compile(r"O(?<=\sO)[nN]"), 1),
           (re.compile(r"h[rR][eE][fF]"), 0), (re.compile(r"H[rR][eE][fF]"), 0))


def _starts(svg: str):
    for pattern, back in _STARTS:
        for m in pattern.finditer(svg):
            yield m.start() - back


def _unsafe_svg(svg: str) -> bool:
    """``_UNSAFE_SVG.search(svg)`` in linear time: the attribute patterns contain no ``>``, so one
    is inside a tag exactly when the last ``<`` before it comes after the last ``>`` (the
    ``<[^>]*`` prefix of the pattern backtracks over every tag of a large figure). _IN_TAG is
    tried only where one of its matches can start (:data:`_STARTS`); its matches contain no
    ``<`` or ``>``, so overlapping matches are inside a tag or not alike."""
    if _SCRIPT.search(svg):
        return True
    return any(_IN_TAG.match(svg, i) and svg.rfind("<", 0, i) > svg.rfind(">", 0, i) for i in _starts(svg))


_PACKAGES = ("netstrata", "numpy", "scipy", "pandas", "matplotlib", "jinja2")


def software_versions(packages: Sequence[str] = _PACKAGES) -> dict[str, str]:
    """Installed versions of netstrata and its numerical dependencies (and Python)."""
    import platform

    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def slug(text: str) -> str:
    """An anchor id made of lowercase ASCII letters, digits and hyphens."""
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return s or "section"


@dataclass(frozen=True, slots=True)
class Figure:
    """A rendered figure: inline SVG markup or a base64 PNG, with alt text and a caption.

    Use :meth:`from_display` to render a Display. SVG markup is inserted into the page as is, so
    it must be an ``<svg>`` element without scripts (checked here).
    """

    svg: str = ""
    png_base64: str = ""
    alt: str = ""
    caption: str = ""

    def __post_init__(self):
        if bool(self.svg) == bool(self.png_base64):
            raise ParameterError("Figure needs exactly one of 'svg' or 'png_base64'.")
        if self.svg:
            head = self.svg.lstrip()[:4].lower()
            if head != "<svg" or _unsafe_svg(self.svg):
                raise ParameterError("The 'svg' parameter of Figure must be an <svg> element without scripts, "
                                     "event handlers or javascript: links (it is inlined in the report).")
        if self.png_base64 and not re.fullmatch(r"[A-Za-z0-9+/=\s]+", self.png_base64):
            raise ParameterError("The 'png_base64' parameter of Figure must be base64 text.")

    @classmethod
    def from_display(cls, display, *, alt: str = "", caption: str = "", fmt: str = "svg") -> "Figure":
        """Render a Display (``fmt`` 'svg' or 'png')."""
        if fmt == "svg":
            return cls(svg=display.to_svg(), alt=alt, caption=caption)
        if fmt == "png":
            return cls(png_base64=display.to_png_base64(), alt=alt, caption=caption)
        raise ParameterError(f"The 'fmt' parameter of Figure.from_display must be one of {{'svg', 'png'}}. "
                             f"Got {fmt!r} instead.")


FigureLike = Union[Figure, object]   # a Figure or a Display (anything with to_svg / to_png_base64)
TableLike = Union[Table, object]     # a Table or anything Table.of accepts


@dataclass(frozen=True, slots=True)
class Overview:
    """Project facts: name, question, analysis plan settings, data fingerprint, software.

    ``generated`` (e.g. a timestamp) is shown only when given, so a report is reproducible.
    """

    project: str
    question: str = ""
    plan: Mapping[str, object] = field(default_factory=dict)
    fingerprint: str = ""
    software: Mapping[str, str] = field(default_factory=software_versions)
    generated: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StratumReport:
    """Results of one clinical stratum.

    When the stratum has no network (``network``, ``league`` and ``league_table`` are all
    None) the report says "No network could be formed" with ``no_network_reason`` and shows
    ``single_study`` / ``forests`` instead.
    """

    name: str
    key: str = ""
    description: str = ""
    measure: str | None = None
    network: FigureLike | None = None
    geometry: TableLike | None = None
    forests: tuple[FigureLike, ...] = ()
    estimates: TableLike | None = None
    heterogeneity: TableLike | None = None
    league: FigureLike | None = None
    league_table: TableLike | None = None
    ranking: FigureLike | None = None
    contribution: FigureLike | None = None
    single_study: TableLike | None = None
    tables: tuple[TableLike, ...] = ()
    no_network_reason: str = ""
    notes: tuple[str, ...] = ()
    blocks: tuple["Block", ...] = ()

    @property
    def anchor(self) -> str:
        return "stratum-" + slug(self.key or self.name)

    @property
    def has_network(self) -> bool:
        return any(x is not None for x in (self.network, self.league, self.league_table))


@dataclass(frozen=True, slots=True)
class Block:
    """A titled piece of a section: lead paragraphs, figures, tables and notes (plain text)."""

    title: str = ""
    lead: tuple[str, ...] = ()
    figures: tuple[FigureLike, ...] = ()
    tables: tuple[TableLike, ...] = ()
    notes: tuple[str, ...] = ()
    anchor: str = ""
    css: str = ""


@dataclass(frozen=True, slots=True)
class BlockGroup:
    """Blocks under one heading (e.g. the specification curves of one stratum)."""

    title: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True, slots=True)
class Methods:
    """Methods text (plain-text paragraphs) and the citations it rests on."""

    paragraphs: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Everything the report shows, section by section; all sections but ``overview`` optional.

    Table sections accept one table-like or a tuple of them. ``prisma_notes`` maps a PRISMA-NMA
    item ("5", "S1", ...) to text saying where it is reported outside this report.
    """

    overview: Overview
    title: str = "Evidence synthesis report"
    strata: tuple[StratumReport, ...] = ()
    transitivity: TableLike | tuple | None = None
    fidelity: TableLike | tuple | None = None
    certainty: TableLike | tuple | None = None
    summary_of_findings: TableLike | tuple | None = None
    multiverse: TableLike | tuple | None = None
    specification_curve: FigureLike | None = None
    exclusions: TableLike | tuple | None = None
    extraction_qc: TableLike | tuple | None = None
    methods: Methods | None = None
    prisma_notes: Mapping[str, str] = field(default_factory=dict)
    #: (value, what it counts) pairs shown first (e.g. ("8", "clinical strata"))
    facts: tuple[tuple[str, str], ...] = ()
    #: stratified versus lumped, per comparison (the lead of the results); one-stratum ones apart
    contrasts: tuple[Block, ...] = ()
    contrasts_more: tuple[Block, ...] = ()
    #: one specification curve per comparison, grouped (e.g. by stratum)
    curves: tuple[BlockGroup, ...] = ()
    #: which curves are drawn when not every comparison's (empty: every comparison's)
    curves_note: str = ""
    #: known-trials omission check (tables shown before the exclusion register)
    omissions: TableLike | tuple | None = None
    panel: TableLike | tuple | None = None
    glossary: TableLike | tuple | None = None
    #: analysis settings and other configuration tables (Methods)
    configuration: TableLike | tuple | None = None
