"""Specification curve of a multiverse: every analysis' estimate with its CI, sorted, and below it an
indicator panel marking which choice (node map, inclusion rule, model, ...) each analysis made.

References
----------
Simonsohn U, Simmons JP, Nelson LD. Specification curve analysis. Nat Hum Behav 2020;4:1208-14.
doi:10.1038/s41562-020-0912-z
Steegen S, Tuerlinckx F, Gelman A, Vanpaemel W. Increasing transparency through a multiverse
analysis. Perspect Psychol Sci 2016;11:702-12. doi:10.1177/1745691616658637
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ._figure import WIDTH, Display, short
from ._format import check_frame, measure_scale
from .forest import ratio_ticks, zone_limits

__all__ = ["SpecificationCurveDisplay", "NUMERIC_COLUMNS"]

#: Columns that are results, not specification choices (everything else is a choice by default).
NUMERIC_COLUMNS = ("effect", "ci_low", "ci_high", "se", "variance", "pvalue", "pi_low", "pi_high", "k",
                   "n", "tau2", "i2", "primary", "spec", "specification", "stratum", "converged")

_BELOW, _ABOVE, _NULL_COLOUR, _PRIMARY = "#0072B2", "#D55E00", "#8c8c8c", "#000000"


class SpecificationCurveDisplay(Display):
    """Sorted estimates of all specifications with an indicator panel of their choices.

    Parameters
    ----------
    specs : DataFrame
        One row per specification with ``effect``, ``ci_low``, ``ci_high`` (analysis scale), the
        choice columns (text), and optionally ``primary`` (bool: the pre-specified analysis,
        drawn in black).
    choices : sequence of str, optional
        Choice columns in display order; default: every column not in :data:`NUMERIC_COLUMNS`.
    measure : str, optional
    mid_zone : (low, high) or MIDZone, optional
    title : str

    Notes
    -----
    Colour: blue when the whole CI lies below the null, orange when above, grey when it
    includes the null (what the CI says, not a new test).
    """

    def __init__(self, specs: pd.DataFrame, *, choices: Sequence[str] | None = None, measure=None,
                 mid_zone=None, title: str = ""):
        super().__init__()
        specs = check_frame(specs, ("effect", "ci_low", "ci_high"), name="specs", caller="SpecificationCurveDisplay")
        if choices is None:
            choices = [c for c in specs.columns if c not in NUMERIC_COLUMNS]
        missing = [c for c in choices if c not in specs.columns]
        if missing:
            raise ParameterError(f"The 'choices' parameter of SpecificationCurveDisplay names columns not in "
                                 f"'specs': {missing}. Found {list(specs.columns)}.")
        order = np.argsort(specs["effect"].to_numpy(float), kind="stable")
        self.specs = specs.iloc[order].reset_index(drop=True)
        self.choices = tuple(str(c) for c in choices)
        self.scale = measure_scale(measure)
        self.mid_zone = zone_limits(mid_zone)
        self.title = str(title)

    @classmethod
    def from_result(cls, result, **kwargs) -> "SpecificationCurveDisplay":
        """From any multiverse result with ``to_frame()`` (or a DataFrame) in the layout above."""
        frame = result if isinstance(result, pd.DataFrame) else result.to_frame()
        return cls(frame, **kwargs)

    def _levels(self) -> list[tuple[str, str]]:
        return [(c, str(v)) for c in self.choices for v in sorted({str(x) for x in self.specs[c]})]

    def _size(self) -> tuple[float, float]:
        return (WIDTH, 3.4 + 0.2 * len(self._levels()))

    def _margins(self) -> dict:
        h = self._size()[1]
        return {"left": 0.3, "right": 0.97, "top": 1 - 0.4 / h, "bottom": 0.45 / h}

    def _draw(self, fig, ax) -> None:
        from matplotlib.collections import LineCollection
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        s = self.specs
        x = np.arange(1, len(s) + 1, dtype=float)
        est, lo, hi = (self.scale.natural(s[c].to_numpy(float)) for c in ("effect", "ci_low", "ci_high"))
        null = self.scale.null
        colour = np.where(hi < null, _BELOW, np.where(lo > null, _ABOVE, _NULL_COLOUR)).astype(object)
        if "primary" in s.columns:
            colour[s["primary"].fillna(False).astype(bool).to_numpy()] = _PRIMARY
        if self.scale.is_ratio:
            ax.set_yscale("log")
        if self.mid_zone is not None:
            zl, zh = self.scale.natural(np.asarray(self.mid_zone))
            ax.axhspan(zl, zh, color="#d9ead3", zorder=0, label="MID zone")
        ax.axhline(null, color="#7f7f7f", lw=0.8, zorder=1)
        segs = [[(xi, a), (xi, b)] for xi, a, b in zip(x, lo, hi) if np.isfinite(a) and np.isfinite(b)]
        keep = np.isfinite(lo) & np.isfinite(hi)
        ax.add_collection(LineCollection(segs, colors=list(colour[keep]), linewidths=0.8, alpha=0.7, zorder=2))
        ax.scatter(x, est, c=list(colour), s=12 if len(s) < 200 else 4, zorder=3, linewidths=0)
        ax.set_xlim(0.5, len(s) + 0.5)
        ax.autoscale(axis="y")
        if self.scale.is_ratio:
            ratio_ticks(ax.yaxis, *ax.get_ylim())
        ax.set_ylabel(self.scale.label)
        ax.tick_params(axis="x", labelbottom=False)
        if self.title:
            ax.set_title(short(self.title, 90), loc="left", pad=16)
        ax.text(0.0, 1.01, "black: pre-specified analysis; blue / orange: CI entirely below / above no effect",
                transform=ax.transAxes, ha="left", va="bottom", fontsize=7.5, color="#555555")
        levels = self._levels()
        if not levels:
            return
        bottom = make_axes_locatable(ax).append_axes("bottom", size=f"{max(30, 8 * len(levels))}%",
                                                      pad=0.1, sharex=ax)
        self._indicators(bottom, x, levels, colour)

    def _indicators(self, ax, x, levels, colour) -> None:
        row = {lv: i for i, lv in enumerate(levels)}
        xs, ys, cs = [], [], []
        for c in self.choices:
            for xi, v, col in zip(x, self.specs[c].astype(str), colour):
                xs.append(xi)
                ys.append(row[(c, v)])
                cs.append(col)
        ax.scatter(xs, ys, marker="s", s=10 if len(x) < 200 else 2, c=cs, linewidths=0)
        ax.set_yticks(range(len(levels)))
        ax.set_yticklabels([short(f"{c}: {v}", 45) for c, v in levels], fontsize=7.5)
        ax.set_ylim(len(levels) - 0.5, -0.5)
        for i in range(1, len(levels)):
            if levels[i][0] != levels[i - 1][0]:
                ax.axhline(i - 0.5, color="#cccccc", lw=0.6)
        ax.set_xlabel("Specifications, sorted by estimate")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
