"""netstrata.present: figures, tables and the self-contained HTML report (layer 6).

Presentation only *reads* results (``summary().to_frame()``, ``to_frame()``, result fields and
methods); it never recomputes statistics, and it is the only place where numbers are rounded.

Figures are scikit-learn style Display objects (numbers in, ``plot(ax=None)`` draws, matplotlib
imported inside; ``to_svg()`` / ``to_png_base64()`` give deterministic bytes):

- :class:`ForestDisplay` (study rows, pooled rows, prediction interval, MID zone),
- :class:`NetworkGraphDisplay` (circular layout, node size, edge width, node colour),
- :class:`LeagueHeatmapDisplay` (treatment × treatment heat map with estimates and CIs),
- :class:`SpecificationCurveDisplay` (multiverse estimates with the choices below),
- :class:`ContributionDisplay` (CINeMA contribution bars coloured by risk of bias),
- :class:`RankDisplay` (median rank and rank interval),
- :class:`LeagueTableDisplay` (netmeta's ``netleague``: network estimates below the diagonal,
  direct estimates above it).

Every Display shows itself as SVG in Jupyter (``_repr_svg_``) and writes SVG, PNG or PDF with
``save(path)``. Importing this package registers the displays that results hand out
(``res.forest()``, ``net.forest()``, ``net.netgraph()``, ``net.league_table()``) in the plugin
registry :mod:`netstrata._displays` (see :mod:`netstrata.present.plugins`).

The report: :func:`render_report` / :func:`write_report` of a :class:`ReportContext`;
:func:`build_context` makes the context of a run (a ProjectResult or its parsed ``results.json``).
"""
from .context import Figure, Methods, Overview, ReportContext, StratumReport, software_versions
from .build import build_context
from .citations import Citation, registry_citations
from .contribution import ContributionDisplay
from .forest import ForestDisplay
from .league import LeagueHeatmapDisplay, league_text
from .league_table import LeagueTableDisplay
from .methods import methods_section
from .network_plot import NetworkGraphDisplay
from .rank import RankDisplay
from .report import render_report, write_report
from .speccurve import SpecificationCurveDisplay
from .tables import Table
from .plugins import register as _register_displays

__all__ = [
    "ForestDisplay", "NetworkGraphDisplay", "LeagueHeatmapDisplay", "SpecificationCurveDisplay",
    "ContributionDisplay", "RankDisplay", "LeagueTableDisplay", "league_text",
    "ReportContext", "Overview", "StratumReport", "Methods", "Figure", "Table", "Citation",
    "registry_citations", "methods_section", "software_versions", "render_report", "write_report",
    "build_context",
]

_register_displays()
