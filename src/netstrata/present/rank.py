"""Rank plot: each treatment's median rank with its rank interval (from resampling), with SUCRA or
P-score printed beside it.

References
----------
Salanti G, Ades AE, Ioannidis JPA. Graphical methods and numerical summaries for presenting
results from multiple-treatment meta-analysis. J Clin Epidemiol 2011;64:163-71.
doi:10.1016/j.jclinepi.2010.03.016
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._figure import WIDTH, Display, short
from ._format import check_frame, fmt_num

__all__ = ["RankDisplay"]


class RankDisplay(Display):
    """Median rank and rank interval per treatment (rank 1 = best), best first.

    Parameters
    ----------
    table : DataFrame
        One row per treatment (index or a ``treatment`` column) with ``median_rank``,
        ``rank_ci_low``, ``rank_ci_high``; optionally ``sucra`` or ``pscore`` (printed, and used
        to break ties in the order).
    level : float, default=0.95
        Only for the axis label.
    title : str
    """

    def __init__(self, table: pd.DataFrame, *, level: float = 0.95, title: str = ""):
        super().__init__()
        t = check_frame(table, ("median_rank", "rank_ci_low", "rank_ci_high"), name="table", caller="RankDisplay")
        t = t.set_index("treatment") if "treatment" in t.columns else t.copy()
        t.index = t.index.astype(str)
        self.score = next((c for c in ("sucra", "pscore", "p_score") if c in t.columns), None)
        keys = [t["median_rank"].to_numpy(float)]
        if self.score is not None:
            keys.insert(0, -t[self.score].to_numpy(float))
        self.table = t.iloc[np.lexsort(keys)]
        self.level = float(level)
        self.title = str(title)

    @classmethod
    def from_result(cls, result, *, title: str = "") -> "RankDisplay":
        """From a :class:`netstrata.nma.ranking_resample.RankResampleResult` (its ``table``)."""
        return cls(result.table, level=result.level, title=title)

    def _size(self) -> tuple[float, float]:
        return (WIDTH, 1.2 + 0.3 * max(len(self.table), 1))

    def _margins(self) -> dict:
        h = self._size()[1]
        return {"left": 0.25, "right": 0.85, "top": 1 - 0.45 / h, "bottom": 0.55 / h}

    def _draw(self, fig, ax) -> None:
        from matplotlib.transforms import blended_transform_factory

        t = self.table
        n = len(t)
        y = np.arange(n)[::-1]
        med, lo, hi = (t[c].to_numpy(float) for c in ("median_rank", "rank_ci_low", "rank_ci_high"))
        ax.hlines(y, lo, hi, color="#1f4e79", lw=2.0, alpha=0.6)
        ax.plot(med, y, "o", color="#1f4e79", ms=6)
        ax.set_yticks(y)
        ax.set_yticklabels([short(s, 40) for s in t.index])
        ax.set_xlim(0.5, n + 0.5)
        ax.set_xticks(range(1, n + 1))
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(f"Rank (1 = best); dot: median, bar: {100 * self.level:g}% rank interval")
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
        if self.score is not None:
            tr = blended_transform_factory(ax.transAxes, ax.transData)
            ax.text(1.03, n - 0.3, self.score.upper().replace("_", "-"), transform=tr, fontweight="bold", va="bottom")
            for yi, v in zip(y, t[self.score]):
                ax.text(1.03, yi, fmt_num(100 * float(v), 0) + "%", transform=tr, va="center")
        if self.title:
            ax.set_title(short(self.title, 90), loc="left")
