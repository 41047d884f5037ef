"""Figures of one stratum for :func:`netstrata.present.build.build_context`, from the results
dictionary (``results.json`` form): forest plots, network graph and geometry, league heat map.

Display arithmetic only: a study row's CI is its Wald interval ``effect ± z·se`` (as metafor's
``forest.rma`` draws it), weights are the network's study weights in percent of the comparison,
contrasts are oriented (sign flip) to read "treat1 vs treat2".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ._figure import short
from .forest import ForestDisplay
from .league import LeagueHeatmapDisplay
from .network_plot import NetworkGraphDisplay, network_geometry

__all__ = ["forests", "network_graph", "geometry", "league", "study_contrasts"]


def study_contrasts(comps: pd.DataFrame) -> pd.DataFrame:
    """``study, treat1, treat2`` rows of every directly compared pair (from the comparisons' study lists)."""
    rows = [{"study": st, "treat1": a, "treat2": b}
            for a, b, studies in zip(comps["treat1"], comps["treat2"], comps["studies"]) for st in studies]
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2"])


def network_graph(comps: pd.DataFrame, net: dict) -> NetworkGraphDisplay:
    groups = None
    if not net.get("connected", True):
        groups = {t: f"sub-network {i + 1}" for i, comp in enumerate(net.get("components", ())) for t in comp}
    return NetworkGraphDisplay.from_contrasts(study_contrasts(comps), treatments=net.get("treatments"),
                                              groups=groups, group_label="Sub-network" if groups else "",
                                              title="Network of direct comparisons (edge width: studies)")


def geometry(comps: pd.DataFrame, net: dict):
    return network_geometry(study_contrasts(comps), treatments=net.get("treatments"))


def league(comps: pd.DataFrame, net: dict, measure, name: str) -> LeagueHeatmapDisplay:
    """Row treatment versus column treatment, from the pairwise network estimates."""
    trts = list(net.get("treatments") or ())
    eff, lo, hi = (pd.DataFrame(np.nan, index=trts, columns=trts) for _ in range(3))
    for t in trts:
        eff.loc[t, t] = lo.loc[t, t] = hi.loc[t, t] = 0.0
    for a, b, e, low, high in zip(comps["treat1"], comps["treat2"], comps["estimate"], comps["ci_low"],
                                  comps["ci_high"]):
        eff.loc[a, b], lo.loc[a, b], hi.loc[a, b] = e, low, high
        eff.loc[b, a], lo.loc[b, a], hi.loc[b, a] = -e, -high, -low
    return LeagueHeatmapDisplay(eff, lo, hi, measure=measure, title=f"League table: {name} (row vs column)")


def _study_rows(extras: dict | None, a: str, b: str) -> pd.DataFrame:
    """Study rows of the pair (a, b) oriented as a vs b, with CI and percent weight."""
    z = norm.ppf(0.975)
    rows = []
    for r in (extras or {}).get("study_rows", ()):
        if {r["treat1"], r["treat2"]} != {a, b}:
            continue
        sign = 1.0 if r["treat1"] == a else -1.0
        e, se = sign * float(r["effect"]), float(r["se"])
        rows.append({"label": str(r["study"]), "effect": e, "ci_low": e - z * se, "ci_high": e + z * se,
                     "kind": "study", "weight": r.get("w_random", np.nan)})
    frame = pd.DataFrame(rows, columns=["label", "effect", "ci_low", "ci_high", "kind", "weight"])
    if len(frame):
        w = frame["weight"].to_numpy(float)
        frame["weight"] = 100 * w / np.nansum(w) if np.isfinite(w).any() else np.nan
    return frame


def _common(extras: dict | None, a: str, b: str):
    for c in (extras or {}).get("common", ()):
        if (c["treat1"], c["treat2"]) == (a, b):
            return c
    return None


def _pair_forest(c, extras, measure, zone) -> ForestDisplay:
    a, b = c.treat1, c.treat2
    studies = _study_rows(extras, a, b)
    names = "; ".join(c.studies)
    pooled = []
    if c.source != "network":               # a single study's own result (no network)
        pooled.append({"label": names or "Study result", "effect": c.estimate, "ci_low": c.ci_low,
                       "ci_high": c.ci_high, "kind": "study", "weight": 100.0})
    elif np.isfinite(c.direct_estimate) and (c.k > 1 or not len(studies)):
        label = f"Direct evidence ({c.k} studies)" if c.k > 1 else f"Direct evidence: {names}"
        pooled.append({"label": label, "effect": c.direct_estimate, "ci_low": c.direct_ci_low,
                       "ci_high": c.direct_ci_high, "kind": "estimate"})
    com = _common(extras, a, b)
    if com is not None:
        pooled.append({"label": "Network, common effect", "effect": com["estimate"],
                       "ci_low": com["ci_low"], "ci_high": com["ci_high"], "kind": "common"})
    if c.source == "network":
        pooled.append({"label": "Network, random effects", "effect": c.estimate, "ci_low": c.ci_low,
                       "ci_high": c.ci_high, "kind": "random"})
    if np.isfinite(c.pi_low) and np.isfinite(c.pi_high):
        pooled.append({"label": "Prediction interval", "effect": c.estimate, "ci_low": c.pi_low,
                       "ci_high": c.pi_high, "kind": "prediction"})
    rows = pd.concat([studies, pd.DataFrame(pooled)], ignore_index=True) if len(studies) else pd.DataFrame(pooled)
    favours = (f"lower with {short(a, 13)}", f"higher with {short(a, 13)}")
    return ForestDisplay(rows, measure=measure, mid_zone=zone, title=f"{a} vs {b}", favours=favours)


def forests(comps: pd.DataFrame, lay: dict, extras: dict | None, measure, zone, name: str) -> list:
    """One forest plot per directly compared pair (study rows, pooled rows, prediction interval)
    and, for a network, one of every comparison's network estimate."""
    full = _with_direct(comps, lay)
    out = [_pair_forest(c, extras, measure, zone) for c in full.itertuples(index=False) if (c.k or 0) > 0]
    if lay.get("network") is not None and len(comps) > 1:
        frame = comps.assign(label=[f"{a} vs {b}" for a, b in zip(comps["treat1"], comps["treat2"])])
        out.append(ForestDisplay.from_frame(frame, label="label", kind="estimate", measure=measure, mid_zone=zone,
                                            title="Every network estimate (pale bar: prediction interval)"))
    return out


def _with_direct(comps: pd.DataFrame, lay: dict) -> pd.DataFrame:
    direct = pd.DataFrame([{"direct_estimate": c.get("direct_estimate"), "direct_ci_low": c.get("direct_ci_low"),
                            "direct_ci_high": c.get("direct_ci_high")} for c in lay.get("comparisons", ())],
                          columns=["direct_estimate", "direct_ci_low", "direct_ci_high"])
    direct = direct.apply(pd.to_numeric, errors="coerce").astype(float)
    return pd.concat([comps.reset_index(drop=True), direct], axis=1)
