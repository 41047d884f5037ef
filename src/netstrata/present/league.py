"""League table as a heat map (treatment × treatment, colour by effect, text with estimate and CI),
and the same table as display text for the report.

Cell ``[i, j]`` is treatment ``i`` versus treatment ``j`` (netmeta's ``TE.random[i, j]``), on the
analysis scale; colours use that scale (symmetric around no effect), the printed numbers are
back-transformed through :mod:`netstrata.effects.registry` (e.g. odds ratios).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_option
from ..errors import ParameterError
from ._figure import WIDTH, Display, short
from ._format import fmt_estimate, fmt_num, measure_scale
from .forest import _nice_ratio_ticks

__all__ = ["LeagueHeatmapDisplay", "league_text"]

_CMAPS = {None: "PuOr_r", "desirable": "PRGn_r", "undesirable": "PRGn"}


def _square(frame, name: str, caller: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or frame.shape[0] != frame.shape[1] \
            or list(map(str, frame.index)) != list(map(str, frame.columns)):
        raise ParameterError(f"The '{name}' parameter of {caller} must be a square DataFrame with the same "
                             f"treatments as index and columns. Got {type(frame).__name__} "
                             f"{getattr(frame, 'shape', '')}.")
    return frame


def league_text(effect: pd.DataFrame, ci_low: pd.DataFrame, ci_high: pd.DataFrame, *, measure=None,
                digits: int = 2) -> pd.DataFrame:
    """The league table as text: ``estimate (low to high)`` back-transformed; the diagonal holds
    the treatment names; cells that cannot be estimated (different sub-networks) show a dash."""
    for name, f in (("effect", effect), ("ci_low", ci_low), ("ci_high", ci_high)):
        _square(f, name, "league_text")
    scale = measure_scale(measure)
    e, lo, hi = (scale.natural(f.to_numpy(float)) for f in (effect, ci_low, ci_high))
    names = [str(t) for t in effect.index]
    cells = [[names[i] if i == j else fmt_estimate(e[i, j], lo[i, j], hi[i, j], digits)
              for j in range(len(names))] for i in range(len(names))]
    return pd.DataFrame(cells, index=names, columns=names)


class LeagueHeatmapDisplay(Display):
    """Heat map of a league table.

    Parameters
    ----------
    effect, ci_low, ci_high : DataFrame
        Square, treatment × treatment, analysis scale (``NetworkResult.league`` and
        ``league_ci``).
    measure : str, optional
        Measure code (axis scale and back-transform).
    small_values : {"desirable", "undesirable"}, optional
        Direction of benefit: then green marks cells where the row treatment is favoured.
        Without it a neutral diverging colour map is used.
    title : str
    """

    def __init__(self, effect: pd.DataFrame, ci_low: pd.DataFrame, ci_high: pd.DataFrame, *, measure=None,
                 small_values: str | None = None, title: str = ""):
        super().__init__()
        caller = "LeagueHeatmapDisplay"
        self.effect = _square(effect, "effect", caller)
        self.ci_low = _square(ci_low, "ci_low", caller)
        self.ci_high = _square(ci_high, "ci_high", caller)
        if small_values is not None:
            small_values = check_option(small_values, name="small_values",
                                        allowed=("desirable", "undesirable"), caller=caller)
        self.small_values = small_values
        self.scale = measure_scale(measure)
        self.title = str(title)

    @classmethod
    def from_result(cls, fit, *, model: str = "random", measure=None, title: str = "",
                    use_direction: bool = True) -> "LeagueHeatmapDisplay":
        """From a :class:`netstrata.nma.NetworkResult` (``league`` and ``league_ci``)."""
        ci = fit.league_ci(model)
        return cls(fit.league(model), ci.ci_low, ci.ci_high, measure=measure, title=title,
                   small_values=fit.small_values if use_direction else None)

    def _size(self) -> tuple[float, float]:
        n = self.effect.shape[0]
        return (WIDTH, float(min(12.0, max(3.2, 1.1 + 0.62 * n))))

    def _margins(self) -> dict:
        h = self._size()[1]
        return {"left": 0.03, "right": 0.86, "top": 1 - 0.45 / h, "bottom": 0.4 / h}

    def _cell_text(self) -> tuple[list[str], dict]:
        """Treatment names and, per off-diagonal cell, "estimate" over "(low, high)" (natural scale)."""
        e, lo, hi = (self.scale.natural(f.to_numpy(float)) for f in (self.effect, self.ci_low, self.ci_high))
        n = e.shape[0]
        cells = {(i, j): (fmt_num(e[i, j]) if not np.isfinite(e[i, j]) else
                          f"{fmt_num(e[i, j])}\n({fmt_num(lo[i, j])}, {fmt_num(hi[i, j])})")
                 for i in range(n) for j in range(n) if i != j}
        return [str(t) for t in self.effect.index], cells

    def _draw(self, fig, ax) -> None:
        n = self.effect.shape[0]
        e = self.effect.to_numpy(float).copy()
        np.fill_diagonal(e, np.nan)
        vmax = float(np.nanmax(np.abs(e))) if np.any(np.isfinite(e)) else 1.0
        vmax = vmax or 1.0
        cmap = _cmap(_CMAPS[self.small_values])
        image = ax.imshow(np.ma.masked_invalid(e), cmap=cmap, vmin=-vmax, vmax=vmax, aspect="auto")
        names, cells = self._cell_text()
        longest = max([len(line) for c in cells.values() for line in c.split("\n")] + [1])
        cell_pt = (self._margins()["right"] - self._margins()["left"]) * 0.92 * WIDTH * 72 / max(n, 1)
        size = float(max(4.5, min(9.0, cell_pt / (0.62 * longest))))
        for i in range(n):
            for j in range(n):
                if i == j:
                    ax.add_patch(_rect(i, "#e7e6e6"))
                    ax.text(j, i, short(names[i], 22), ha="center", va="center", fontsize=size,
                            fontweight="bold", wrap=True)
                    continue
                dark = np.isfinite(e[i, j]) and abs(e[i, j]) / vmax > 0.6
                ax.text(j, i, cells[(i, j)], ha="center", va="center", fontsize=size,
                        color="white" if dark else "black")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(n + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", lw=2)
        ax.tick_params(which="minor", length=0)
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label(self.scale.axis_label + (" (row vs column)"))
        if self.scale.is_ratio:
            ticks = [t for t in _nice_ratio_ticks(float(np.exp(-vmax)), float(np.exp(vmax)))]
            bar.set_ticks([float(np.log(t)) for t in ticks], labels=[f"{t:g}" for t in ticks])
        if self.title:
            ax.set_title(short(self.title, 90), loc="left")
        if self.small_values is not None:
            ax.text(0.0, -0.01, "Cell: row versus column. Green: the row treatment is favoured; purple: the column "
                    "treatment is favoured.", transform=ax.transAxes, ha="left", va="top", fontsize=8,
                    color="#555555")


def _cmap(name: str):
    import matplotlib

    return matplotlib.colormaps[name]


def _rect(i: int, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((i - 0.5, i - 0.5), 1.0, 1.0, color=colour, zorder=1)
