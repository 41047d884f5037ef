"""The self-contained HTML report: ``render_report(context) -> str`` and ``write_report(context, path)``.

One file: inline CSS, figures inline as SVG (or base64 PNG), no external resources and no
JavaScript. Rendered with Jinja2 with ``autoescape=True``: every string from the context is
escaped (a study called ``<script>alert(1)</script>`` shows as text). Only figure SVG markup,
checked by :class:`~netstrata.present.context.Figure`, is inserted as markup. The output is a
pure function of the context (no clock, no random ids).
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from ..errors import ParameterError
from .context import Figure, Methods, Overview, ReportContext, StratumReport
from .prisma import checklist_items
from .tables import TableView, as_tables, key_value_view, table_view

__all__ = ["render_report", "write_report", "SECTIONS", "ReportContext", "Overview", "StratumReport", "Methods",
           "Figure"]

#: Report sections in page order: (anchor id, heading).
SECTIONS = (
    ("overview", "At a glance"),
    ("stratified-vs-lumped", "Stratified versus lumped"),
    ("summary-of-findings", "Summary of findings"),
    ("strata", "Results by stratum"),
    ("certainty", "Certainty of evidence"),
    ("transitivity", "Transitivity"),
    ("fidelity", "Technical fidelity"),
    ("multiverse", "Multiverse"),
    ("exclusions", "Known trials and exclusion register"),
    ("extraction-qc", "Extraction quality control"),
    ("panel", "Guideline panel"),
    ("how-to-read", "How to read this report"),
    ("methods", "Methods"),
    ("glossary", "Glossary of codes"),
    ("prisma-nma", "PRISMA-NMA checklist"),
)


class FigureView(NamedTuple):
    markup: object
    png: str
    alt: str
    caption: str


class BlockView(NamedTuple):
    title: str
    lead: tuple
    figures: tuple
    tables: tuple
    notes: tuple
    anchor: str
    css: str


class GroupView(NamedTuple):
    title: str
    blocks: tuple


def _block(b, fmt: str) -> BlockView:
    figs = tuple(f for f in (_figure(x, fmt, b.title) for x in b.figures) if f is not None)
    return BlockView(b.title, tuple(b.lead), figs, _views(b.tables), tuple(b.notes), b.anchor, b.css)


class SectionLink(NamedTuple):
    id: str
    title: str
    present: bool


def _figure(fig, fmt: str, alt: str) -> FigureView | None:
    from markupsafe import Markup

    if fig is None:
        return None
    if not isinstance(fig, Figure):
        if not hasattr(fig, "to_svg"):
            raise ParameterError(f"render_report: a figure must be a Figure or a Display; got {type(fig).__name__}.")
        fig = Figure.from_display(fig, alt=getattr(fig, "title", "") or alt, fmt=fmt)
    markup = Markup(fig.svg) if fig.svg else None  # checked by Figure.__post_init__
    return FigureView(markup, fig.png_base64, fig.alt or alt, fig.caption)


def _views(value) -> tuple[TableView, ...]:
    return tuple(table_view(t) for t in as_tables(value))


def _sentence(text: str) -> str:
    """Capitalised, with a final full stop (for reasons written as fragments, e.g. "one study")."""
    text = str(text or "").strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _unique_anchors(strata) -> list[str]:
    """Each stratum's anchor, with -2, -3, ... appended when two strata slug to the same id."""
    seen: dict[str, int] = {}
    out = []
    for st in strata:
        base = st.anchor
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def _stratum(st: StratumReport, anchor: str, fmt: str) -> dict:
    name = st.name
    return {
        "name": name, "anchor": anchor, "description": st.description, "notes": st.notes,
        "has_network": st.has_network, "no_network_reason": _sentence(st.no_network_reason),
        "network": _figure(st.network, fmt, f"Network graph: {name}"),
        "forests": tuple(_figure(f, fmt, f"Forest plot: {name}") for f in st.forests),
        "league": _figure(st.league, fmt, f"League table heat map: {name}"),
        "ranking": _figure(st.ranking, fmt, f"Ranks: {name}"),
        "contribution": _figure(st.contribution, fmt, f"Contributions by risk of bias: {name}"),
        "geometry": _views(st.geometry), "estimates": _views(st.estimates),
        "heterogeneity": _views(st.heterogeneity), "league_table": _views(st.league_table),
        "single_study": _views(st.single_study), "tables": _views(st.tables),
        "blocks": tuple(_block(b, fmt) for b in st.blocks),
    }


def _check_context(context) -> ReportContext:
    if not isinstance(context, ReportContext):
        raise ParameterError(f"The 'context' parameter of render_report must be a ReportContext. "
                             f"Got {type(context).__name__} instead.")
    if not isinstance(context.overview, Overview):
        raise ParameterError("ReportContext.overview must be an Overview.")
    bad = [type(s).__name__ for s in context.strata if not isinstance(s, StratumReport)]
    if bad:
        raise ParameterError(f"ReportContext.strata must hold StratumReport objects; got {bad}.")
    return context


def _page(context: ReportContext, fmt: str) -> dict:
    ov = context.overview
    body = {
        "summary_of_findings": _views(context.summary_of_findings), "certainty": _views(context.certainty),
        "transitivity": _views(context.transitivity), "fidelity": _views(context.fidelity),
        "multiverse": _views(context.multiverse), "exclusions": _views(context.exclusions),
        "extraction_qc": _views(context.extraction_qc),
        "specification_curve": _figure(context.specification_curve, fmt, "Specification curve"),
        "strata": tuple(_stratum(s, a, fmt) for s, a in zip(context.strata, _unique_anchors(context.strata))),
        "methods": context.methods,
        "facts": tuple(context.facts), "contrasts": tuple(_block(b, fmt) for b in context.contrasts),
        "contrasts_more": tuple(_block(b, fmt) for b in context.contrasts_more),
        "curves": tuple(GroupView(g.title, tuple(_block(b, fmt) for b in g.blocks)) for g in context.curves),
        "curves_note": context.curves_note,
        "omissions": _views(context.omissions), "panel": _views(context.panel),
        "glossary": _views(context.glossary), "configuration": _views(context.configuration),
    }
    present = {"overview", "how-to-read", "prisma-nma", "methods"}
    present |= {sid for sid, key in (("stratified-vs-lumped", "contrasts"), ("panel", "panel"),
                                     ("glossary", "glossary")) if body[key]}
    if body["contrasts_more"]:
        present.add("stratified-vs-lumped")
    if body["curves"]:
        present.add("multiverse")
    if body["omissions"]:
        present.add("exclusions")
    present |= {sid for sid, key in (("summary-of-findings", "summary_of_findings"), ("certainty", "certainty"),
                                     ("transitivity", "transitivity"), ("fidelity", "fidelity"),
                                     ("exclusions", "exclusions"), ("extraction-qc", "extraction_qc"),
                                     ("strata", "strata")) if body[key]}
    if body["multiverse"] or body["specification_curve"] is not None:
        present.add("multiverse")
    if context.methods is not None and (context.methods.paragraphs or context.methods.citations):
        present.add("methods")
    titles = dict(SECTIONS)
    return body | {
        "title": context.title, "overview": ov, "version": _version(),
        "plan": key_value_view(dict(ov.plan), "Analysis plan"),
        "software": key_value_view(dict(ov.software), "Software versions"),
        "sections": tuple(SectionLink(i, t, i in present) for i, t in SECTIONS),
        "section_titles": titles,
        "prisma": checklist_items(present, context.prisma_notes),
    }


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("netstrata")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "unknown"


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    folder = resources.files(__package__).joinpath("templates")
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def render_report(context: ReportContext, *, figure_format: str = "svg") -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    context : ReportContext
    figure_format : {"svg", "png"}, default="svg"
        How Display objects in the context are embedded (inline SVG or base64 PNG); already
        rendered :class:`Figure` objects keep their format.

    Returns
    -------
    str

    Examples
    --------
    >>> from netstrata.present import Overview, ReportContext, render_report
    >>> html = render_report(ReportContext(overview=Overview(project="<b>My review</b>", software={})))
    >>> html.startswith("<!DOCTYPE html>"), "&lt;b&gt;My review&lt;/b&gt;" in html, "<script" in html
    (True, True, False)
    """
    from .._validate import check_option

    fmt = check_option(figure_format, name="figure_format", allowed=("svg", "png"), caller="render_report")
    context = _check_context(context)
    return _environment().get_template("report.html.j2").render(**_page(context, fmt))


def write_report(context: ReportContext, path, *, figure_format: str = "svg") -> Path:
    """Render the report and write it to ``path`` (UTF-8, atomically); returns the path."""
    from .._io import atomic_write_text
    path = Path(path)
    atomic_write_text(path, render_report(context, figure_format=figure_format))
    return path
