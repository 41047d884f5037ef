"""Forest plot: study rows with CI and weight, pooled rows (common / random effects) and the
prediction interval, the MID zone shaded, on a measure-aware axis (log scale for ratios).

Input is a tidy frame on the *analysis* scale (log OR, MD, ...); the axis and the printed
numbers are back-transformed with :mod:`netstrata.effects.registry`.

References
----------
Lewis S, Clarke M. Forest plots: trying to see the wood and the trees. BMJ 2001;322:1479-80.
doi:10.1136/bmj.322.7300.1479
IntHout J, Ioannidis JPA, Rovers MM, Goeman JJ. Plea for routinely presenting prediction
intervals in meta-analysis. BMJ Open 2016;6:e010247. doi:10.1136/bmjopen-2015-010247
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_option
from ._figure import WIDTH, Display, short
from ._format import check_frame, fmt_estimate, fmt_num, measure_scale

__all__ = ["ForestDisplay", "KINDS", "zone_limits", "ratio_ticks"]

#: Row kinds: study (square sized by weight), estimate (a network estimate: dot), pooled rows
#: (diamonds) and the prediction interval (a bar).
KINDS = ("study", "estimate", "common", "random", "prediction")
_POOLED_LABEL = {"common": "Common effect model", "random": "Random effects model",
                 "prediction": "Prediction interval"}
_ZONE_COLOUR, _POOL_COLOUR, _STUDY_COLOUR, _PI_COLOUR = "#d9ead3", "#1f4e79", "#404040", "#c0504d"


def zone_limits(zone) -> tuple[float, float] | None:
    """(low, high) of a MID zone on the analysis scale: a pair or an object with ``low``/``high``
    (e.g. ``netstrata.certainty.zone.MIDZone``); None stays None."""
    if zone is None:
        return None
    if hasattr(zone, "low") and hasattr(zone, "high"):
        return float(zone.low), float(zone.high)
    low, high = zone
    return float(low), float(high)


def _nice_ratio_ticks(lo: float, hi: float) -> list[float]:
    grid = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    ticks = [t for t in grid if lo <= t <= hi]
    if len(ticks) < 3:
        fine = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 5, 10, 20, 50, 100]
        ticks = [t for t in fine if lo <= t <= hi]
    if len(ticks) > 7:                      # wide ranges: decades only, so labels do not collide
        ticks = [t for t in ticks if np.isclose(np.log10(t), round(np.log10(t)))]
    return ticks


def ratio_ticks(axis, lo: float, hi: float) -> None:
    """Plain-number ticks (0.2, 0.5, 1, 2, ...) on a log-scaled ``axis`` between ``lo`` and ``hi``
    (matplotlib's default log labels use mathtext, which the report style turns off)."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    ticks = _nice_ratio_ticks(lo, hi)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))


class ForestDisplay(Display):
    """Forest plot of study and pooled rows.

    Parameters
    ----------
    rows : DataFrame
        One row per line, top to bottom, with columns ``label``, ``effect``, ``ci_low``,
        ``ci_high`` (analysis scale) and optionally ``kind`` (one of :data:`KINDS`, default
        "study") and ``weight`` (percent, study rows). For a ``prediction`` row, ``ci_low`` /
        ``ci_high`` hold the prediction interval (``pi_low``/``pi_high`` of the result).
        ``estimate`` rows may carry ``pi_low`` / ``pi_high``: drawn as a thin bar behind the CI.
    measure : str, optional
        Measure code of :mod:`netstrata.effects.registry` (``"OR"``, ``"MD"``, ...); ratio
        measures are drawn on a log axis and printed back-transformed.
    mid_zone : (low, high) or MIDZone, optional
        Zone of clinical equivalence on the analysis scale, shaded.
    title : str
    favours : (str, str), optional
        Captions under the left and right side of the axis, e.g. ``("favours A", "favours B")``.
    level : float, default=0.95
        Only for the column header ("95% CI").

    Examples
    --------
    >>> import netstrata
    >>> from netstrata.present import ForestDisplay
    >>> res = netstrata.pairwise([-0.89, -1.59, -0.22], [0.33, 0.19, 0.05])
    >>> d = ForestDisplay.from_result(res, studies=["A", "B", "C"], measure="RR", mid_zone=(-0.1, 0.1))
    >>> list(d.rows["kind"])
    ['study', 'study', 'study', 'random', 'prediction']
    >>> d.to_svg()[:4], d.to_svg() == d.to_svg()
    ('<svg', True)
    """

    def __init__(self, rows: pd.DataFrame, *, measure=None, mid_zone=None, title: str = "",
                 favours: tuple[str, str] | None = None, level: float = 0.95):
        super().__init__()
        rows = check_frame(rows, ("label", "effect", "ci_low", "ci_high"), name="rows", caller="ForestDisplay")
        rows = rows.reset_index(drop=True).copy()
        if "kind" not in rows.columns:
            rows["kind"] = "study"
        for kind in rows["kind"]:
            check_option(kind, name="rows['kind']", allowed=KINDS, caller="ForestDisplay")
        for col in ("weight", "pi_low", "pi_high"):
            if col not in rows.columns:
                rows[col] = np.nan
        self.rows = rows
        self.scale = measure_scale(measure)
        self.mid_zone = zone_limits(mid_zone)
        self.title = str(title)
        self.favours = favours
        self.level = float(level)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_result(cls, result, *, studies=None, common=None, measure=None, mid_zone=None,
                    title: str = "", favours=None) -> "ForestDisplay":
        """From a :class:`netstrata.ma.PairwiseResult` (its ``fit`` holds the study effects).

        ``common`` may be a second, common-effect (``method='FE'``) result of the same data to
        show both pooled rows. Study CIs are Wald intervals ``effect ± z·sqrt(variance)`` at the
        result's level, as metafor's ``forest.rma`` draws them; weights are the result's.
        """
        from scipy.stats import norm

        y, v = np.asarray(result.fit.y, dtype=float), np.asarray(result.fit.v, dtype=float)
        labels = [f"Study {i + 1}" for i in range(y.size)] if studies is None else [str(s) for s in studies]
        if len(labels) != y.size:
            from ..errors import ParameterError
            raise ParameterError(f"The 'studies' parameter of ForestDisplay.from_result must have "
                                 f"{y.size} labels (one per study). Got {len(labels)}.")
        half = norm.ppf(0.5 + result.level / 2) * np.sqrt(v)
        rows = pd.DataFrame({"label": labels, "effect": y, "ci_low": y - half, "ci_high": y + half,
                             "kind": "study", "weight": np.asarray(result.weights, dtype=float)})
        rows = pd.concat([rows, pd.DataFrame(cls._pooled_rows(result, common))], ignore_index=True)
        return cls(rows, measure=measure, mid_zone=mid_zone, title=title, favours=favours, level=result.level)

    @staticmethod
    def _pooled_rows(result, common) -> list[dict]:
        out = []
        for res in (common, result):
            if res is None:
                continue
            kind = "common" if res.method == "FE" else "random"
            out.append({"label": _POOLED_LABEL[kind], "effect": res.estimate, "ci_low": res.ci_low,
                        "ci_high": res.ci_high, "kind": kind, "weight": 100.0})
        if result.method != "FE" and result.k > 1:
            out.append({"label": _POOLED_LABEL["prediction"], "effect": result.estimate,
                        "ci_low": result.pi_low, "ci_high": result.pi_high, "kind": "prediction",
                        "weight": np.nan})
        return out

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, label: str | None = None, kind: str = "estimate",
                   **kwargs) -> "ForestDisplay":
        """From any result table with ``effect`` (or ``estimate``), ``ci_low``, ``ci_high`` and
        optionally ``pi_low``/``pi_high``/``weight`` -- e.g. ``NetworkResult.summary().to_frame()``
        or a table of pooled comparisons. Row labels: the ``label`` column if named, else
        ``label``, ``study``, ``comparison`` or ``treatment`` columns, else ``treat1 vs treat2``,
        else the index."""
        est = "effect" if "effect" in frame.columns else "estimate"
        check_frame(frame, (est, "ci_low", "ci_high"), name="frame", caller="ForestDisplay.from_frame")
        name = label or next((c for c in ("label", "study", "comparison", "treatment") if c in frame.columns), None)
        if name is not None:
            labels = frame[name].astype(str).tolist()
        elif {"treat1", "treat2"} <= set(frame.columns):
            labels = [f"{a} vs {b}" for a, b in zip(frame["treat1"], frame["treat2"])]
        else:
            labels = [str(i) for i in frame.index]
        rows = pd.DataFrame({"label": labels, "effect": frame[est].to_numpy(float),
                             "ci_low": frame["ci_low"].to_numpy(float), "ci_high": frame["ci_high"].to_numpy(float),
                             "kind": kind})
        for col in ("pi_low", "pi_high", "weight"):
            if col in frame.columns:
                rows[col] = frame[col].to_numpy(float)
        return cls(rows, **kwargs)

    @classmethod
    def from_network(cls, fit, *, model: str = "random", reference: str | None = None, measure=None,
                     mid_zone=None, title: str = "", prediction: bool = True) -> "ForestDisplay":
        """Every treatment versus ``reference`` from a :class:`netstrata.nma.NetworkResult`
        (``estimates(model, reference)``, and ``prediction()`` intervals when available)."""
        est = fit.estimates(model, reference)
        ref = fit.reference if reference is None else reference
        est = est.drop(index=ref)
        rows = pd.DataFrame({"label": [f"{t} vs {ref}" for t in est.index], "effect": est["effect"].to_numpy(),
                             "ci_low": est["ci_low"].to_numpy(), "ci_high": est["ci_high"].to_numpy(),
                             "kind": "estimate"})
        if prediction and model == "random":
            _, lo, hi = fit.prediction()
            rows["pi_low"] = [lo.loc[t, ref] for t in est.index]
            rows["pi_high"] = [hi.loc[t, ref] for t in est.index]
        return cls(rows, measure=measure, mid_zone=mid_zone, title=title, level=fit.level)

    # ----------------------------------------------------------------- drawing
    def _size(self) -> tuple[float, float]:
        return (WIDTH, 1.3 + 0.26 * max(len(self.rows), 1))

    def _margins(self) -> dict:
        h = self._size()[1]
        right = 1 - (0.15 + 1.75 + self._second_width()) / WIDTH - 0.01
        return {"left": self._left(), "right": right, "top": 1 - 0.45 / h, "bottom": 0.75 / h}

    def _left(self) -> float:
        """Left margin (figure fraction) wide enough for the longest row label (at most 40 characters)."""
        longest = max((len(short(t, 40)) for t in self.rows["label"]), default=10)
        return float(min(0.45, max(0.25, (0.25 + 0.082 * longest) / WIDTH)))

    def _has_pi(self) -> bool:
        return bool(np.isfinite(self.rows["pi_low"].to_numpy(float)).any())

    def _second_width(self) -> float:
        """Inches of the right-most text column (weights, or prediction intervals)."""
        return 1.3 if self._has_pi() else 0.6

    def _xlimits(self, x: np.ndarray) -> tuple[float, float]:
        vals = x[np.isfinite(x)]
        if self.mid_zone is not None:
            vals = np.r_[vals, self.scale.natural(np.asarray(self.mid_zone))]
        vals = np.r_[vals, self.scale.null]
        lo, hi = float(vals.min()), float(vals.max())
        if self.scale.is_ratio:
            span = np.log(hi) - np.log(lo) or 1.0
            return float(np.exp(np.log(lo) - 0.05 * span)), float(np.exp(np.log(hi) + 0.05 * span))
        span = hi - lo or 1.0
        return lo - 0.05 * span, hi + 0.05 * span

    def _draw(self, fig, ax) -> None:
        r = self.rows
        n = len(r)
        y = np.arange(n)[::-1].astype(float)
        est, lo, hi = (self.scale.natural(r[c].to_numpy(float)) for c in ("effect", "ci_low", "ci_high"))
        pil, pih = (self.scale.natural(r[c].to_numpy(float)) for c in ("pi_low", "pi_high"))
        xlim = self._xlimits(np.r_[est, lo, hi, pil, pih])
        if self.scale.is_ratio:
            ax.set_xscale("log")
        if self.mid_zone is not None:
            zl, zh = self.scale.natural(np.asarray(self.mid_zone))
            ax.axvspan(zl, zh, color=_ZONE_COLOUR, zorder=0)
            mid = float(np.sqrt(zl * zh)) if self.scale.is_ratio else (zl + zh) / 2
            ax.text(mid, n - 0.25, "MID zone", ha="center", va="bottom", fontsize=7, color="#38761d")
        ax.axvline(self.scale.null, color="#7f7f7f", lw=0.8, zorder=1)
        w = r["weight"].to_numpy(float)
        self._draw_rows(ax, y, est, lo, hi, pil, pih, w)
        self._annotate(ax, y, est, lo, hi, w)
        ax.set_xlim(*xlim)
        ax.set_ylim(-0.8, n - 0.2)
        ax.set_yticks(y)
        ax.set_yticklabels([short(t, 40) for t in r["label"]])
        for tick, kind in zip(ax.get_yticklabels(), r["kind"]):
            if kind in ("common", "random", "prediction"):
                tick.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(self.scale.axis_label)
        self._ticks(ax, xlim)
        if self.title:
            ax.set_title(short(self.title, 90), loc="left", pad=16)
        if self.favours:
            for x, text, ha in ((0.0, self.favours[0], "left"), (1.0, self.favours[1], "right")):
                ax.annotate(f"\u2190 {short(text, 35)}" if ha == "left" else f"{short(text, 35)} \u2192",
                            xy=(x, 0.0), xycoords="axes fraction", xytext=(0, -32),
                            textcoords="offset points", ha=ha, va="top", fontsize=8, color="#555555")

    def _draw_rows(self, ax, y, est, lo, hi, pil, pih, w) -> None:
        """Squares (study, area by weight), dots (estimate), diamonds (pooled), bars (PI)."""
        from matplotlib.patches import Polygon, Rectangle

        study = (self.rows["kind"] == "study").to_numpy()
        wmax = np.nanmax(w[study]) if np.any(np.isfinite(w[study])) else 1.0
        for i, kind in enumerate(self.rows["kind"]):
            yi = y[i]
            if kind in ("common", "random"):
                ax.add_patch(Polygon([(lo[i], yi), (est[i], yi + 0.32), (hi[i], yi), (est[i], yi - 0.32)],
                                     closed=True, color=_POOL_COLOUR, zorder=3))
                continue
            if kind == "prediction":
                ax.add_patch(Rectangle((lo[i], yi - 0.1), hi[i] - lo[i], 0.2, color=_PI_COLOUR, zorder=3))
                continue
            if kind == "estimate" and np.isfinite(pil[i]) and np.isfinite(pih[i]):
                ax.plot([pil[i], pih[i]], [yi, yi], color=_PI_COLOUR, lw=4.0, alpha=0.45, zorder=1,
                        solid_capstyle="butt")
            ax.plot([lo[i], hi[i]], [yi, yi], color=_STUDY_COLOUR, lw=1.0, zorder=2)
            size = 4.0 if kind == "estimate" or not np.isfinite(w[i]) else 3.0 + 9.0 * np.sqrt(w[i] / wmax)
            ax.plot([est[i]], [yi], marker="s" if kind == "study" else "o", ms=size, color=_STUDY_COLOUR,
                    zorder=3, lw=0)

    def _ticks(self, ax, xlim) -> None:
        if self.scale.is_ratio:
            ratio_ticks(ax.xaxis, *xlim)

    def _annotate(self, ax, y, est, lo, hi, w) -> None:
        from matplotlib.transforms import blended_transform_factory

        tr = blended_transform_factory(ax.transAxes, ax.transData)
        axw = ax.get_position().width * ax.figure.get_size_inches()[0]
        x1, x2 = 1 + 0.15 / axw, 1 + (0.15 + 1.75 + self._second_width()) / axw
        pct = f"{100 * self.level:g}%"
        top = y.max() + 0.9 if len(y) else 0.9
        ax.text(x1, top, f"Estimate ({pct} CI)", transform=tr, ha="left", va="center", fontweight="bold")
        has_pi = self._has_pi()
        ax.text(x2, top, "Prediction" if has_pi else "Weight", transform=tr, ha="right", va="center",
                fontweight="bold", color=_PI_COLOUR if has_pi else "black")
        for i, kind in enumerate(self.rows["kind"]):
            label = fmt_estimate(est[i], lo[i], hi[i])
            if kind == "prediction":
                label = f"[{fmt_num(lo[i])} to {fmt_num(hi[i])}]"
            ax.text(x1, y[i], label, transform=tr, ha="left", va="center")
            if kind == "estimate" and np.isfinite(self.rows["pi_low"].iat[i]):
                pi = self.scale.natural(self.rows[["pi_low", "pi_high"]].iloc[i].to_numpy(float))
                ax.text(x2, y[i], f"[{fmt_num(pi[0])} to {fmt_num(pi[1])}]", transform=tr, ha="right",
                        va="center", color=_PI_COLOUR)
            if kind == "study" and np.isfinite(w[i]):
                ax.text(x2, y[i], f"{fmt_num(w[i], 1)}%", transform=tr, ha="right", va="center")
