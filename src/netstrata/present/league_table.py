"""netmeta's ``netleague`` as a figure and a text table: network estimates below the diagonal
(column versus row), direct estimates above it (row versus column).

The numbers come arranged from :func:`netstrata.nma.netleague.netleague` (``NetworkResult.netleague``);
this module only formats and draws them (rounding happens here, nowhere else).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..effects.registry import get_measure
from ._figure import Display
from ._format import fmt_estimate
from .league import LeagueHeatmapDisplay

__all__ = ["LeagueTableDisplay", "NA_TEXT"]

#: What netleague prints where there is no estimate (``text.NA``).
NA_TEXT = "."


def _drawn_scale(league) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str | None]:
    """Effect, bounds and measure for the heat map: colours on the analysis scale, text as
    ``league`` holds it (natural scale when back-transformed, else analysis scale)."""
    frames = (league.estimate, league.ci_low, league.ci_high)
    if league.backtransf and league.measure is not None and get_measure(league.measure).is_ratio:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (*(np.log(f) for f in frames), league.measure)
    return (*frames, None)


class LeagueTableDisplay(Display):
    """The netleague table of a network (``NetworkResult.league_table()``).

    Parameters
    ----------
    league : netstrata.nma.netleague.NetLeague
        The arranged numbers (``NetworkResult.netleague(model, backtransf=...)``).
    title : str
    digits : int, default=2
        Decimals of the text table (``table``) and the cells of the figure.

    Attributes
    ----------
    table : DataFrame
        Text: treatment names on the diagonal, ``estimate (low to high)`` elsewhere, "." where
        there is no estimate (no direct evidence, or different sub-networks).
    estimate, ci_low, ci_high : DataFrame
        The numbers (full precision) in the same layout.

    Examples
    --------
    >>> import pandas as pd, netstrata
    >>> con = pd.DataFrame({"study": ["s1", "s2", "s3"], "treat1": ["A", "A", "B"],
    ...                     "treat2": ["B", "C", "C"], "effect": [0.5, 0.2, -0.1], "se": [0.2, 0.25, 0.3]})
    >>> lt = netstrata.network(con, measure="OR").league_table(backtransf=True)
    >>> lt.table.loc["B", "A"] == lt.table.loc["A", "B"]   # both A versus B: network below, direct above
    False
    >>> lt.table.iloc[0, 0], lt.to_svg()[:4]
    ('A', '<svg')
    """

    def __init__(self, league, *, title: str = "", digits: int = 2):
        super().__init__()
        effect, low, high, measure = _drawn_scale(league)
        self.heatmap = LeagueHeatmapDisplay(effect, low, high, measure=measure, title=title)
        self.league = league
        self.digits = int(digits)

    @classmethod
    def from_result(cls, fit, *, model: str = "random", backtransf: bool = False, direct: bool = True,
                    seq=None, **kwargs) -> "LeagueTableDisplay":
        """From a :class:`netstrata.nma.NetworkResult` (its ``netleague``)."""
        return cls(fit.netleague(model, backtransf=backtransf, direct=direct, seq=seq), **kwargs)

    @property
    def estimate(self) -> pd.DataFrame:
        return self.league.estimate.copy()

    @property
    def ci_low(self) -> pd.DataFrame:
        return self.league.ci_low.copy()

    @property
    def ci_high(self) -> pd.DataFrame:
        return self.league.ci_high.copy()

    @property
    def table(self) -> pd.DataFrame:
        e, lo, hi = (f.to_numpy(dtype=float) for f in (self.league.estimate, self.league.ci_low,
                                                       self.league.ci_high))
        names = list(self.league.treatments)
        cells = [[names[i] if i == j else (NA_TEXT if not np.isfinite(e[i, j])
                                           else fmt_estimate(e[i, j], lo[i, j], hi[i, j], self.digits))
                  for j in range(len(names))] for i in range(len(names))]
        return pd.DataFrame(cells, index=names, columns=names)

    def to_frame(self) -> pd.DataFrame:
        """The text table (as netmeta prints a netleague)."""
        return self.table

    def _size(self) -> tuple[float, float]:
        return self.heatmap._size()

    def _margins(self) -> dict:
        return self.heatmap._margins()

    def _draw(self, fig, ax) -> None:
        self.heatmap._draw(fig, ax)
        ax.text(0.0, -0.01, self.league.caption, transform=ax.transAxes, ha="left", va="top", fontsize=8,
                color="#555555", wrap=True)
