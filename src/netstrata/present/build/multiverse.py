"""The multiverse section of the report: every comparison's conclusion across the specifications
(one classification against the MID in the table, the curves and the command-line summary) and
the specification curves (Simonsohn 2020).

Which curves are drawn (:data:`CURVE_CHOICES`): every comparison's while there are at most
:data:`ALL_CURVES_UP_TO` comparisons; beyond that those a panel reads in the summary of findings
(each intervention versus the reference of its stratum's primary analysis), because a curve per
comparison of a large review is unreadable and unopenable (a 1,000-specification multiverse of a
100-trial review has about 1,500 comparisons: 2,000 figures, 260 MB of HTML). The others stay in
``tables/specification_curve.csv`` and every comparison's robustness is in the table and in
``tables/robustness.csv``; the report says so, and ``netstrata report --curves all`` draws them all.

Simonsohn U, Simmons JP, Nelson LD. Specification curve analysis. Nat Hum Behav 2020;4:1208-14.
doi:10.1038/s41562-020-0912-z
"""
from __future__ import annotations

import math

import pandas as pd

from ...errors import ParameterError
from .._format import MISSING, fmt_num, measure_scale
from ..context import Block, BlockGroup, Figure
from ..labels import Labels
from ..svg_figures import curve_svg
from ..tables import Table
from .sof import primary_layer

__all__ = ["multiverse", "CURVE_CHOICES", "ALL_CURVES_UP_TO", "summary_comparisons"]

#: "auto": every curve up to :data:`ALL_CURVES_UP_TO` comparisons, else the summary of findings';
#: "all": every comparison's; "summary": the summary of findings' comparisons only.
CURVE_CHOICES = ("auto", "all", "summary")

#: Comparisons up to which "auto" draws every comparison's curve (the bundled example has 33).
ALL_CURVES_UP_TO = 100

_CLASS = {"benefit": "benefit beyond the MID", "harm": "harm beyond the MID",
          "inconclusive": "inconclusive", "not_estimable": "not estimable"}


def multiverse(data: dict, L: Labels, *, curve: pd.DataFrame | None = None, curves: str = "auto"):
    """(robustness tables, curve groups, note on the curves drawn) of the results' multiverse.

    ``curve``: the specification curve when ``data`` references it instead of holding it
    (``multiverse.curve_file``); ``curves``: which curves to draw (:data:`CURVE_CHOICES`)."""
    if curves not in CURVE_CHOICES:
        raise ParameterError(f"curves must be one of {', '.join(CURVE_CHOICES)}; got {curves!r}.")
    mv = data.get("multiverse")
    if not mv:
        return (), (), ""
    rob = pd.DataFrame(mv.get("robustness") or [])
    if curve is None:
        curve = pd.DataFrame(mv.get("curve") or [])
    counts = data.get("counts") or {}
    tables = (_robustness(rob, curve, mv, counts, L),) if len(rob) else ()
    shown, note = _chosen(curve, data, curves, mv)
    return tables, _curves(shown, mv, rob, L), note


# ----------------------------------------------------------------- which curves
def summary_comparisons(data: dict) -> dict[str, str | None]:
    """Stratum name -> the reference node of its primary comparative layer (None: no network, each
    comparison is a row of the summary of findings as it is), for strata and lumped analyses."""
    out: dict[str, str | None] = {}
    for s in (*(data.get("strata") or ()), *(data.get("lumped") or ())):
        lay = primary_layer(s)
        if lay is None or lay["layer"] == "single_arm":
            continue
        net = lay.get("network")
        out[s["name"]] = net.get("reference") if net else None
    return out


def _chosen(curve: pd.DataFrame, data: dict, which: str, mv: dict) -> tuple[pd.DataFrame, str]:
    where = mv.get("curve_file") or "tables/specification_curve.csv"
    if not len(curve):
        return curve, (f"The specification curve is in {where}." if mv.get("curve_file") else "")
    n = int(curve["comparison"].nunique())
    if which == "all" or (which == "auto" and n <= ALL_CURVES_UP_TO):
        return curve, ""
    refs = summary_comparisons(data)
    ref = curve["stratum"].map(refs)          # None: a stratum without a network (all its rows)
    keep = curve["stratum"].isin(list(refs)) & (ref.isna() | (curve["treat1"] == ref) | (curve["treat2"] == ref))
    shown = curve[keep.to_numpy()]
    m = int(shown["comparison"].nunique())
    note = (f"Curves are drawn for the {m} comparisons of the summary of findings (each intervention versus the "
            f"reference of its stratum's primary analysis) of the {n} comparisons in the multiverse. Every "
            f"comparison's curve is in {where}, and its robustness in the table above and in "
            "tables/robustness.csv; `netstrata report RESULTS --curves all` draws them all.")
    return shown, note


# ----------------------------------------------------------------- robustness table
def _comp_label(row, L: Labels) -> str:
    return L.comparison(row["treat1"], row["treat2"])


def _robustness(rob, curve, mv, counts, L) -> Table:
    measure = dict(zip(curve["comparison"], curve["measure"])) if {"comparison", "measure"} <= set(curve) else {}
    ranges = []
    for comp, lo, hi in zip(rob["comparison"], rob["estimate_min"], rob["estimate_max"]):
        m = measure.get(comp)
        a, b = measure_scale(m).natural([lo, hi]) if m else (lo, hi)
        ranges.append(f"{fmt_num(a)} to {fmt_num(b)}" + (f" ({measure_scale(m).label})" if m else ""))
    frame = pd.DataFrame({"stratum": [L.stratum(s) for s in rob["stratum"]],
                          "comparison": [_comp_label(r, L) for _, r in rob.iterrows()],
                          "primary conclusion": [_CLASS.get(p, p) for p in rob["primary"]],
                          "estimable": [f"{a} of {b}" for a, b in zip(rob["n_specifications_estimable"],
                                                                       rob["n_specifications"])],
                          "benefit": rob["share_benefit"], "harm": rob["share_harm"],
                          "inconclusive": rob["share_inconclusive"], "holds": rob["holds"],
                          "estimate range": ranges})
    fragile = frame[rob["holds"].astype(float) < 1].reset_index(drop=True)
    dims = ", ".join(str(d).replace("_", " ") for d in mv.get("dimensions") or {})
    notes = (f"{counts.get('specifications', len(mv.get('specifications') or ()))} specifications "
             f"(combinations of {dims}); conclusions are classified against the minimal important difference "
             "(benefit or harm: the whole 95% CI beyond the MID; otherwise inconclusive), in this table, in the curves "
             "and in the command-line summary alike.",
             f"{counts.get('multiverse_robust', len(frame) - len(fragile))} of "
             f"{counts.get('multiverse_comparisons', len(frame))} comparisons keep their primary conclusion in every "
             f"specification where they can be estimated; the {counts.get('multiverse_fragile', len(fragile))} others "
             "are listed. Shares are fractions of the estimable specifications.")
    return Table(fragile, title="Conclusions that change with the analysis choices", notes=notes,
                 digits={"benefit": 2, "harm": 2, "inconclusive": 2, "holds": 2})


# ----------------------------------------------------------------- curves
def _num(x) -> float:
    return float("nan") if x is None else float(x)


def _marks(specs: dict, dims) -> dict:
    """Specification -> its ``primary`` flag and choice values (text) for its curve points."""
    return {k: {"primary": bool(s.get("primary")), **{d: str(s.get(d)) for d in dims}} for k, s in specs.items()}


def _zone(mid) -> tuple[float, float] | None:
    t = _num(mid)
    return (-t, t) if math.isfinite(t) and t > 0 else None


def _curves(curve: pd.DataFrame, mv: dict, rob: pd.DataFrame, L: Labels) -> tuple[BlockGroup, ...]:
    if not len(curve):
        return ()
    specs = {s["specification"]: s for s in mv.get("specifications") or ()}
    dims = [d for d in (mv.get("dimensions") or {}) if len(mv["dimensions"][d]) > 1]
    choices = [(d, d.replace("_", " "), [(str(v), f"{d.replace('_', ' ')}: {L.choice(d, v)}")
                                         for v in mv["dimensions"][d]]) for d in dims]
    holds = dict(zip(rob["comparison"], rob["holds"])) if len(rob) else {}
    primary = dict(zip(rob["comparison"], rob["primary"])) if len(rob) else {}
    marks = _marks(specs, dims)
    blank = {"primary": False, **{d: "None" for d in dims}}
    groups: dict[str, list] = {}
    for comp, g in curve.groupby("comparison", sort=False):
        first = g.iloc[0]
        pts = [{"estimate": _num(e), "ci_low": _num(lo), "ci_high": _num(hi), "conclusion": c, "spec": k,
                **marks.get(k, blank)}
               for e, lo, hi, c, k in zip(g["estimate"].tolist(), g["ci_low"].tolist(), g["ci_high"].tolist(),
                                          g["conclusion"].tolist(), g["specification"].tolist())]
        title = L.comparison(first["treat1"], first["treat2"])
        fig = Figure(svg=curve_svg(pts, measure=first["measure"], zone=_zone(first.get("mid_threshold")),
                                   choices=choices, title=title),
                     alt=f"Specification curve: {title}")
        h = holds.get(comp)
        share = fmt_num(100 * float(h), 0) if h is not None else MISSING
        verdict = str(primary.get(comp))
        lead = (f"Primary conclusion: {_CLASS.get(verdict, verdict)}; holds in {share}% of the "
                f"estimable specifications ({len(g)} estimates).",)
        groups.setdefault(first["stratum"], []).append(Block(title=f"{title}", lead=lead, figures=(fig,)))
    order = {n: i for i, n in enumerate(L.g.get("strata", {}))}
    return tuple(BlockGroup(L.stratum(k), tuple(v)) for k, v in sorted(groups.items(), key=lambda kv: order.get(kv[0], 1e9)))
