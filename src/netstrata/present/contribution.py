"""Contribution bar chart coloured by risk of bias (CINeMA style): for each network estimate, the
share of its information coming from studies at low, some-concerns and high risk of bias.

References
----------
Nikolakopoulou A, Higgins JPT, Papakonstantinou T, et al. CINeMA: an approach for assessing
confidence in the results of a network meta-analysis. PLoS Med 2020;17:e1003082.
doi:10.1371/journal.pmed.1003082
Papakonstantinou T, Nikolakopoulou A, Rücker G, et al. Estimating the contribution of studies in
network meta-analysis: paths, flows and streams. F1000Research 2018;7:610.
doi:10.12688/f1000research.14770.3
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ._figure import WIDTH, Display, short
from ._format import check_frame

__all__ = ["ContributionDisplay", "ROB_LEVELS", "rob_category"]

#: Display categories of study-level risk of bias (CINeMA's 1/2/3 = low/some/high), in stack order.
ROB_LEVELS = ("low", "some concerns", "high", "not assessed")
ROB_COLOURS = {"low": "#2ca02c", "some concerns": "#f2c744", "high": "#d62728", "not assessed": "#bdbdbd"}


def rob_category(value) -> str:
    """A study's risk of bias as one of :data:`ROB_LEVELS` (1/2/3, L/U/H, RoB 2 and ROBINS-I words
    are read by :func:`netstrata.certainty.judgement.study_level`); missing -> "not assessed"."""
    from ..certainty.judgement import study_level
    from ..errors import ParameterError

    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return "not assessed"
    try:
        return ROB_LEVELS[study_level(value, name="rob", caller="rob_category") - 1]
    except ParameterError:
        return "not assessed"


class ContributionDisplay(Display):
    """Stacked bars of percentage contribution by risk-of-bias level, one bar per comparison.

    Parameters
    ----------
    contributions : DataFrame
        Long format: ``comparison``, ``study``, ``contribution`` (share, rows of one comparison
        sum to 1) and ``rob`` (study-level risk of bias; see :func:`rob_category`).
    title : str
    """

    def __init__(self, contributions: pd.DataFrame, *, title: str = ""):
        super().__init__()
        c = check_frame(contributions, ("comparison", "study", "contribution", "rob"), name="contributions",
                        caller="ContributionDisplay").copy()
        c["category"] = [rob_category(v) for v in c["rob"]]
        table = c.pivot_table(index="comparison", columns="category", values="contribution", aggfunc="sum",
                              sort=False, fill_value=0.0)
        self.shares = table.reindex(columns=list(ROB_LEVELS), fill_value=0.0) * 100.0
        self.title = str(title)

    @classmethod
    def from_result(cls, contributions, rob: Mapping[str, object], *, model: str = "random",
                    comparisons=None, title: str = "") -> "ContributionDisplay":
        """From a :class:`netstrata.nma.contrib.ContributionResult` (study-level matrix of
        ``model``) and a mapping study -> risk of bias; ``comparisons`` selects rows ('A:B')."""
        m = contributions.matrix(model, "study")
        if comparisons is not None:
            m = m.loc[list(comparisons)]
        long = m.reset_index(names="comparison").melt(id_vars="comparison", var_name="study",
                                                       value_name="contribution")
        long["rob"] = [rob.get(s) for s in long["study"]]
        return cls(long, title=title)

    def _size(self) -> tuple[float, float]:
        return (WIDTH, 1.3 + 0.3 * max(len(self.shares), 1))

    def _margins(self) -> dict:
        h = self._size()[1]
        return {"left": 0.25, "right": 0.97, "top": 1 - 0.6 / h, "bottom": 0.5 / h}

    def _draw(self, fig, ax) -> None:
        y = np.arange(len(self.shares))[::-1]
        left = np.zeros(len(self.shares))
        for level in ROB_LEVELS:
            width = self.shares[level].to_numpy(float)
            if level == "not assessed" and not np.any(width > 0):
                continue
            ax.barh(y, width, left=left, color=ROB_COLOURS[level], label=level, height=0.7,
                    edgecolor="white", linewidth=0.5)
            left = left + width
        ax.set_yticks(y)
        ax.set_yticklabels([short(c, 40) for c in self.shares.index])
        ax.set_xlim(0, 100)
        ax.set_xlabel("Contribution to the network estimate (%)")
        ax.tick_params(axis="y", length=0)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=4, frameon=False, fontsize=8,
                  title="Risk of bias", title_fontsize=8, alignment="left")
        if self.title:
            ax.set_title(short(self.title, 60), loc="right", fontsize=9)
