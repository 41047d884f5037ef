"""The displays this package provides to results through :mod:`netstrata._displays`.

Results in lower layers (``PairwiseResult.forest()``, ``NetworkResult.forest()``, ``.netgraph()``,
``.league_table()``) ask the registry for a display by name; importing ``netstrata.present``
registers these factories. Each fills in what the result already knows (its measure, its study
labels) unless the caller passes it.
"""
from __future__ import annotations

from .._displays import DisplayFactory, register_display
from .forest import ForestDisplay
from .league_table import LeagueTableDisplay
from .network_plot import NetworkGraphDisplay

__all__ = ["DISPLAYS", "register"]


def _forest(result, **kwargs) -> ForestDisplay:
    kwargs.setdefault("measure", getattr(result, "measure", None))
    kwargs.setdefault("studies", getattr(result, "study", None))
    return ForestDisplay.from_result(result, **kwargs)


def _network_forest(fit, **kwargs) -> ForestDisplay:
    kwargs.setdefault("measure", fit.measure)
    return ForestDisplay.from_network(fit, **kwargs)


def _netgraph(fit, **kwargs) -> NetworkGraphDisplay:
    return NetworkGraphDisplay.from_result(fit, **kwargs)


def _league_table(league, **kwargs) -> LeagueTableDisplay:
    return LeagueTableDisplay(league, **kwargs)


#: name -> factory, as registered (see :mod:`netstrata._displays` for the calling convention)
DISPLAYS: dict[str, DisplayFactory] = {
    "forest": _forest, "network_forest": _network_forest, "netgraph": _netgraph, "league_table": _league_table}


def register() -> None:
    """Register :data:`DISPLAYS`, keeping any factory a plugin registered first."""
    for name, factory in DISPLAYS.items():
        register_display(name, factory, replace=False)
