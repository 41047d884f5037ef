"""Threshold forest plot (Phillippo et al. 2019, Ann Intern Med, figure 2; nmathresh ``thresh_forest``).

One row per data point (a study's estimate or a pooled direct comparison): the estimate and its
95% CI, and the *invariant interval* as a wide band: the range over which the estimate can move
without changing the recommendation.  The band is red where it does not cover the CI on a side
(the recommendation is sensitive within the data point's own uncertainty), blue otherwise; an
end without a threshold runs to the edge with an arrow.  The treatment that would be recommended
beyond each end is printed beside the band.  Studies named in the plan's ``[[known_trials]]``
are highlighted (bold, orange, marked ★).

Display arithmetic only: the numbers come from :class:`netstrata.nma.ThresholdResult` (or its
``to_dict()`` in results.json); ratio measures are drawn on a log axis.

References
----------
Phillippo DM, Dias S, Welton NJ, Caldwell DM, Taske N, Ades AE (2019). Threshold analysis as an
alternative to GRADE for assessing confidence in guideline recommendations based on network
meta-analyses. Ann Intern Med 170:538-546. doi:10.7326/M18-3542
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._figure import WIDTH, Display, short
from ._format import check_frame, measure_scale
from .context import Figure

__all__ = ["ThresholdForestDisplay", "threshold_figure"]

_SAFE, _SHORT, _KNOWN, _POINT = "#bcd0ee", "#eebccc", "#D55E00", "#404040"
_COLUMNS = ("label", "effect", "ci_low", "ci_high", "ii_low", "ii_high")
_LABEL = 42          # characters of a row label


class ThresholdForestDisplay(Display):
    """Threshold forest plot.

    Parameters
    ----------
    rows : DataFrame
        One row per data point with ``label``, ``effect``, ``ci_low``, ``ci_high``, ``ii_low``,
        ``ii_high`` (analysis scale) and optionally ``new_low``, ``new_high`` (treatment names),
        ``is_short`` and ``highlight`` (bool).
    measure : str, optional
        Measure code; ratio measures are drawn on a log axis, back-transformed.
    optimal : str
        The recommended treatment (shown in the title).
    title : str

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"label": ["A", "B"], "effect": [0.2, -0.1], "ci_low": [0.0, -0.5],
    ...                      "ci_high": [0.4, 0.3], "ii_low": [-0.3, -float("inf")], "ii_high": [0.3, 0.8]})
    >>> d = ThresholdForestDisplay(rows, optimal="X")
    >>> d.to_svg()[:4], d.to_svg() == d.to_svg()
    ('<svg', True)
    """

    def __init__(self, rows: pd.DataFrame, *, measure=None, optimal: str = "", title: str = ""):
        super().__init__()
        rows = check_frame(rows, _COLUMNS, name="rows", caller="ThresholdForestDisplay").reset_index(drop=True).copy()
        for col, default in (("new_low", None), ("new_high", None), ("is_short", False), ("highlight", False)):
            if col not in rows.columns:
                rows[col] = default
        self.rows = rows
        self.scale = measure_scale(measure)
        self.optimal = str(optimal)
        self.title = str(title)

    @classmethod
    def from_result(cls, result, *, measure=None, highlight=(), title: str = "") -> "ThresholdForestDisplay":
        """From a :class:`netstrata.nma.ThresholdResult`; ``highlight``: study names to mark."""
        return cls.from_dict(result.to_dict(), measure=measure, highlight=highlight, title=title)

    @classmethod
    def from_dict(cls, entry: dict, *, measure=None, highlight=(), title: str = "") -> "ThresholdForestDisplay":
        """From ``ThresholdResult.to_dict()`` (the form stored in results.json, where rows may carry
        ``known_trial``)."""
        rows = pd.DataFrame(entry["thresholds"])
        marks = set(highlight)
        studies = rows["study"] if "study" in rows else rows.get("studies", pd.Series([""] * len(rows)))
        flag = [bool(k) for k in rows.get("known_trial", pd.Series([False] * len(rows)))]
        rows["highlight"] = [f or bool(marks & set(str(s).split("; "))) for f, s in zip(flag, studies)]
        rows["label"] = rows["data_point"]
        for c in ("effect", "ci_low", "ci_high", "ii_low", "ii_high"):
            rows[c] = pd.to_numeric(rows[c], errors="coerce").astype(float)
        # JSON writes infinite ends as null: an end without a threshold
        rows["ii_low"] = rows["ii_low"].fillna(-np.inf)
        rows["ii_high"] = rows["ii_high"].fillna(np.inf)
        return cls(rows, measure=measure or entry.get("measure"), optimal=", ".join(entry.get("optimal", ())),
                   title=title)

    # ----------------------------------------------------------------- drawing
    def _size(self) -> tuple[float, float]:
        return (WIDTH, 1.4 + 0.27 * max(len(self.rows), 1))

    def _margins(self) -> dict:
        h = self._size()[1]
        longest = max((len(short(t, _LABEL)) + 2 for t in self.rows["label"]), default=10)
        left = float(min(0.42, max(0.2, (0.2 + 0.066 * longest) / WIDTH)))
        return {"left": left, "right": 1 - 2.45 / WIDTH, "top": 1 - 0.55 / h, "bottom": 0.7 / h}

    def _xlimits(self) -> tuple[float, float]:
        r = self.rows
        vals = np.r_[r["ci_low"].to_numpy(float), r["ci_high"].to_numpy(float), r["effect"].to_numpy(float)]
        ii = np.r_[r["ii_low"].to_numpy(float), r["ii_high"].to_numpy(float)]
        vals = np.r_[vals[np.isfinite(vals)], ii[np.isfinite(ii)]] if np.isfinite(ii).any() else vals[np.isfinite(vals)]
        lo, hi = (float(vals.min()), float(vals.max())) if len(vals) else (-1.0, 1.0)
        ci = np.r_[r["ci_low"].to_numpy(float), r["ci_high"].to_numpy(float)]
        ci = ci[np.isfinite(ci)]
        if len(ci):              # bands far beyond the CIs are cut (with an arrow), as thresh_forest
            span = float(ci.max() - ci.min()) or 1.0
            lo, hi = max(lo, float(ci.min()) - 2 * span), min(hi, float(ci.max()) + 2 * span)
        pad = 0.05 * ((hi - lo) or 1.0)
        return lo - pad, hi + pad

    def _draw(self, fig, ax) -> None:
        r = self.rows
        n = len(r)
        y = np.arange(n)[::-1].astype(float)
        lo_x, hi_x = self._xlimits()
        nat = self.scale.natural
        if self.scale.is_ratio:
            ax.set_xscale("log")
        for i in range(n):
            a, b = float(r["ii_low"].iat[i]), float(r["ii_high"].iat[i])
            colour = _SHORT if bool(r["is_short"].iat[i]) else _SAFE
            ca, cb = max(a, lo_x), min(b, hi_x)
            ax.plot(nat(np.array([ca, cb])), [y[i], y[i]], color=colour, lw=7, solid_capstyle="butt", zorder=1)
            for end, cut, side in ((a, ca, "<"), (b, cb, ">")):
                if end != cut:
                    ax.plot([nat(np.array([cut]))[0]], [y[i]], marker=side, color=colour, ms=7, zorder=1)
            ax.plot(nat(r[["ci_low", "ci_high"]].iloc[i].to_numpy(float)), [y[i], y[i]], color=_POINT, lw=1, zorder=2)
            ax.plot(nat(np.array([r["effect"].iat[i]])), [y[i]], "o", color=_POINT, ms=3.5, zorder=3)
        ax.set_xlim(*nat(np.array([lo_x, hi_x])))
        ax.set_ylim(-0.8, n - 0.2)
        ax.set_yticks(y)
        labels = [("\u2605 " if h else "") + short(t, _LABEL) for t, h in zip(r["label"], r["highlight"])]
        ax.set_yticklabels(labels, fontsize=8)
        for tick, h in zip(ax.get_yticklabels(), r["highlight"]):
            if h:
                tick.set_fontweight("bold")
                tick.set_color(_KNOWN)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(self.scale.axis_label)
        if self.scale.is_ratio:
            from .forest import ratio_ticks
            ratio_ticks(ax.xaxis, *nat(np.array([lo_x, hi_x])))
        self._annotate(ax, y)
        head = f"Recommended: {self.optimal}" if self.optimal else ""
        title = " \u2014 ".join(t for t in (self.title, head) if t)
        if title:
            ax.set_title(short(title, 95), loc="left", pad=18)

    def _annotate(self, ax, y) -> None:
        from matplotlib.transforms import blended_transform_factory

        tr = blended_transform_factory(ax.transAxes, ax.transData)
        axw = ax.get_position().width * ax.figure.get_size_inches()[0]
        x1 = 1 + 0.12 / axw
        top = y.max() + 0.9 if len(y) else 0.9
        ax.text(x1, top, "Invariant interval [then recommended]", transform=tr, ha="left", va="center",
                fontweight="bold", fontsize=7)
        for i in range(len(y)):
            a, b = (self._end(self.rows[c].iat[i]) for c in ("ii_low", "ii_high"))
            na, nb = self.rows["new_low"].iat[i], self.rows["new_high"].iat[i]
            ax.text(x1, y[i], f"{a} [{_choice(na)}] to {b} [{_choice(nb)}]", transform=tr, ha="left",
                    va="center", fontsize=6.5)

    def _end(self, x: float) -> str:
        """An interval end on the display scale, three significant figures as nmathresh's
        thresh_forest; a dash where there is no threshold."""
        return DASH if not np.isfinite(x) else f"{self.scale.natural(np.array([x]))[0]:.3g}"


DASH = "\u2013"


def _choice(x) -> str:
    """The treatment recommended beyond an end (a dash where there is no threshold)."""
    return short(x, 10) if isinstance(x, str) and x else DASH


def threshold_figure(entry: dict, name: str, highlight=()) -> Figure:
    """The report's figure of one stratum's threshold analysis (results.json entry)."""
    display = ThresholdForestDisplay.from_dict(entry, highlight=highlight, title=f"Threshold analysis: {name}")
    known = [k for k in entry.get("known_trials", ())]
    caption = ("Invariant intervals: how far each estimate can move before the recommendation changes "
               "(red: inside the 95% CI on a side). " + (f"Highlighted (\u2605): {', '.join(known)}." if known else ""))
    return Figure.from_display(display, alt=f"Threshold forest plot, {name}", caption=caption.strip())
