"""From a validated Review to analysis-ready records: study contrasts and single-arm rates.

A *record* is one row of ``outcomes`` (arm level) or ``contrasts`` (contrast level), keyed
``(table, row)`` with the spreadsheet row number. Every record either enters an analysis (it is
in :attr:`Prepared.analysed`) or has an exclusion-register row with a reason: the review's own
rows (screening, extraction, time window) plus the rows this stage adds.

Order of the rules for a selected record:

1. the study fails a sensitivity filter                  -> ``sensitivity_filter``;
   a non-randomised study not prospective when the choice is ``data_collection="prospective"``
                                                         -> ``not_prospective``
2. arm level, single-arm design: binary -> outcome-rate layer; continuous -> ``single_arm_continuous``
3. arm level, comparative design, proportion measure     -> ``rate_outcome_in_comparative_study``
4. arm level, comparative design: several time points (no rule chose one) -> the latest is used
5. arms of one study in the same node are combined (binary: sums; continuous: Cochrane Handbook
   6.5.2.10), then all pairs of nodes form contrasts (``arms_to_contrasts``);
   pairs that cannot be estimated                        -> ``contrast_not_estimable``
6. contrast level: arm-level data of the same study and outcome are preferred (``duplicate_data``);
   a different measure from the plan's (``measure_mismatch``); both arms in one node
   (``within_node_comparison``); otherwise the SE comes from the CI (Handbook 6.5.2.2).

Contrasts are oriented active before control, then by node name; the sign flips when reversed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np
import pandas as pd

from ..data.register import REASONS, Exclusion
from ..data.selection import select_rows
from ..data.spec import DESIGNS
from ..data.timewindow import TimeWindow, parse_window
from ..effects.contrasts import arms_to_contrasts
from ..effects.conversions import se_from_ci
from ..effects.registry import MEASURES
from ..errors import DataError, Problem
from .choices import ARM_COLUMNS, Choices, layer_of
from .filters import filtered_out, not_prospective

__all__ = ["Prepared", "prepare", "record_key"]

#: outcome measures analysed as contrasts of a comparative study (a proportion outcome is a single-arm rate)
PAIRWISE = ("RR", "OR", "RD", "MD", "SMD")

@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    """Analysis-ready data for one set of choices."""

    choices: Choices
    contrasts: pd.DataFrame   # study, outcome, treat1, treat2, effect, se, design, layer, records
    rates: pd.DataFrame       # study, outcome, treatment, events, n, records
    exclusions: tuple[Exclusion, ...]
    analysed: frozenset
    records: frozenset        # every record key of the review
    roles: Mapping[str, str]  # node -> active / control
    node_level: str


def record_key(table: str, row) -> tuple[str, int]:
    return (table, int(row))


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


# ----------------------------------------------------------------- selection and filters

def _choice_window(window: TimeWindow | None, error: str | None, text: str) -> TimeWindow:
    """The time-window rule of a specification's choice; a DataError when ``text`` is not one
    (the plan's alternatives are checked when it is read; this guards Choices built by hand)."""
    if window is None:
        raise DataError(Problem("time-window rule not understood", file="netstrata.toml",
                                column="sensitivity.time_window", found=text, expected=f"'plan' or {error}"))
    return window


def _selected(review, choices: Choices) -> tuple[dict[str, np.ndarray], list[Exclusion]]:
    """Selected mask per table and the register rows of unselected records (recomputed if the
    time-window or mixed-duration choice differs from the plan's)."""
    tables = {t: review.tables[t] for t in ("outcomes", "contrasts") if t in review.tables}
    if choices.time_window == "plan" and choices.mixed_duration == "exclude":
        return {t: f["selected"].to_numpy() for t, f in tables.items()}, list(review.register.rows)
    plan = review.plan
    if choices.time_window != "plan":
        w, err = parse_window(choices.time_window)
        outs = tuple(replace(o, time_window=replace(_choice_window(w, err, choices.time_window),
                                                    tolerance_weeks=o.time_window.tolerance_weeks),
                             time_window_by_family={}) if o.time_window else o for o in plan.outcomes)
        plan = replace(plan, outcomes=outs)
    excl = review.exclusions
    excluded = set(excl["study"])
    if choices.mixed_duration == "include":
        codes = excl.groupby("study")["reason_code"].agg(set)
        excluded = {s for s, c in codes.items() if c != {"mixed_duration_population"}}
    masks = {}
    rows = [r for r in review.register.rows if _file_table(r.file) is None
            and not (r.stage == "screening" and r.study not in excluded and r.study in set(excl["study"]))]
    for t, frame in tables.items():
        dropped = {r.row: r.message.removeprefix("dropped by ") for r in review.register.rows
                   if r.reason_code == "adjudicated_drop" and _file_table(r.file) == t}
        sel, reg = select_rows(frame.drop(columns="selected"), f"{t}.csv", plan, review.studies, review.arms,
                               excluded, contrast=t == "contrasts", dropped=dropped)
        masks[t], rows = sel, rows + reg
    return masks, rows


def _file_table(file) -> str | None:
    """Which record table a register row's ``file`` names (CSV file or workbook sheet)."""
    if not file:
        return None
    for t in ("contrasts", "outcomes"):
        if file == t or file == f"{t}.csv" or file.endswith((f"[{t}]", f":{t}", f"/{t}")):
            return t
    return None


# ----------------------------------------------------------------- arm level

def _combine(g, kind: str) -> dict:
    """Arms of one study in one node -> one arm (Cochrane Handbook 6.5.2.10 for means/SDs).
    ``g``: the arms' rows (a DataFrame, or a dict of arrays ``n``, ``events``, ``mean``, ``sd``)."""
    n = np.asarray(g["n"], dtype=float)
    if kind == "binary":
        return {"events": float(np.nansum(np.asarray(g["events"], dtype=float))), "n": float(n.sum())}
    m, s = np.asarray(g["mean"], dtype=float), np.asarray(g["sd"], dtype=float)
    mean, sd, nn = m[0], s[0], n[0]
    for i in range(1, len(n)):   # pairwise combination formula, applied repeatedly
        tot = nn + n[i]
        sd = math.sqrt(((nn - 1) * sd**2 + (n[i] - 1) * s[i]**2
                        + nn * n[i] / tot * (mean**2 + m[i]**2 - 2 * mean * m[i])) / (tot - 1))
        mean, nn = (nn * mean + n[i] * m[i]) / tot, tot
    return {"mean": mean, "sd": sd, "n": nn}


def _arm_contrasts(rows: pd.DataFrame, spec, node_of, out: list, ex: list):
    """Comparative arm rows of one outcome -> contrasts (list of dicts) and exclusions."""
    arms = []
    cols = {c: rows[c].to_numpy(float) for c in ("n", "events", "mean", "sd") if c in rows.columns}
    weeks, arm_of, index = rows["timepoint_weeks"].to_numpy(float), rows["arm"].tolist(), rows.index.tolist()
    by_study: dict[str, list[int]] = {}
    for i, study in enumerate(rows["study"].tolist()):     # studies in order of first appearance
        by_study.setdefault(study, []).append(i)
    for study, pos in by_study.items():
        t = weeks[pos]
        if len(np.unique(t[~np.isnan(t)])) > 1:   # no rule chose one time point: use the latest
            last = np.nanmax(t)
            for r in rows.iloc[[p for p in pos if not weeks[p] == last]].itertuples():
                ex.append(_exclusion(r, "outcomes", "time_point_not_selected",
                                     f"no time-window rule: the latest time point ({last:g} weeks) is used"))
            pos = [p for p in pos if weeks[p] == last]
        by_node: dict[str, list[int]] = {}
        for p in pos:                               # nodes in order of first appearance
            by_node.setdefault(node_of[(study, arm_of[p])], []).append(p)
        for node, ps in by_node.items():
            arms.append({"study": study, "treatment": node, **_combine({c: v[ps] for c, v in cols.items()}, spec.kind),
                         "records": tuple(("outcomes", int(index[p])) for p in ps)})
    if not arms:
        return
    frame = pd.DataFrame(arms)
    con = arms_to_contrasts(frame, spec.measure)
    recs = {(a["study"], a["treatment"]): a["records"] for a in arms}
    used, unusable = set(), {}
    for r in con.contrasts.itertuples(index=False):
        rec = recs[(r.study, r.treat1)] + recs[(r.study, r.treat2)]
        problem = _unusable(float(r.effect), float(r.se))
        if problem:                      # never hand the network a zero or infinite weight
            unusable.update({key: f"{r.treat1} vs {r.treat2}: {problem}" for key in rec})
            continue
        used.update(rec)
        arm = {c: float(getattr(r, c)) for c in ARM_COLUMNS if hasattr(r, c)}
        out.append({"study": r.study, "treat1": r.treat1, "treat2": r.treat2, "effect": float(r.effect),
                    "se": float(r.se), "records": rec, **arm})
    for a in arms:
        for key in a["records"]:
            if key not in used:
                why = unusable.get(key, "arms_to_contrasts dropped it")
                ex.append(Exclusion(study=a["study"], reason_code="contrast_not_estimable", stage="analysis",
                                    message=f"no estimable contrast with another arm of the study ({why})",
                                    outcome=spec.id, file="outcomes.csv", row=key[1]))


def _unusable(effect: float, se: float) -> str | None:
    """Why a study contrast cannot enter a meta-analysis (weight 1/se^2 must be finite and > 0)."""
    if not math.isfinite(effect):
        return f"the effect is {effect!r}"
    if not (math.isfinite(se) and se > 0) or not math.isfinite(1.0 / se**2):
        return f"its SE is {se!r}: the weight 1/SE^2 would be zero or infinite"
    return None


def _exclusion(r, table: str, code: str, message: str) -> Exclusion:
    arm = getattr(r, "arm", None) if table == "outcomes" else None
    t = getattr(r, "timepoint_weeks", None)
    return Exclusion(study=r.study, reason_code=code, message=message,
                     stage=REASONS[code].stage if code in REASONS else "analysis", arm=arm,
                     outcome=r.outcome, timepoint_weeks=None if t is None or _missing(t) else float(t),
                     file=f"{table}.csv", row=int(r.Index))


# ----------------------------------------------------------------- contrast level

def _contrast_rows(rows: pd.DataFrame, spec, node_of, have_arm_level: set, out: list, ex: list):
    for r in rows.itertuples():
        if r.study in have_arm_level:
            ex.append(_exclusion(r, "contrasts", "duplicate_data", "arm-level data of this study are analysed"))
            continue
        if str(r.measure) != spec.measure:
            ex.append(_exclusion(r, "contrasts", "measure_mismatch",
                                 f"contrast on {r.measure}, the plan analyses {spec.measure}"))
            continue
        t1, t2 = node_of[(r.study, r.arm1)], node_of[(r.study, r.arm2)]
        if t1 == t2:
            ex.append(_exclusion(r, "contrasts", "within_node_comparison", f"both arms are in node {t1}"))
            continue
        se = getattr(r, "se", float("nan"))
        effect = float(r.effect)
        given = (effect,) if not _missing(se) else (effect, float(r.ci_low), float(r.ci_high))
        if MEASURES[spec.measure].is_ratio and min(given) <= 0:
            ex.append(_exclusion(r, "contrasts", "implausible_value",
                                 f"a {spec.measure} and its confidence limits must be > 0 (the ratio, not its "
                                 f"logarithm); found {', '.join(f'{v:g}' for v in given)}"))
            continue
        if _missing(se):
            conv = se_from_ci([r.ci_low], [r.ci_high], [r.effect], measure=spec.measure)
            effect, se = float(conv.table["effect"].iat[0]), float(conv.table["se"].iat[0])
        elif MEASURES[spec.measure].is_ratio:     # reported as a ratio; analysed on the log scale
            effect = math.log(effect)
        problem = _unusable(effect, float(se))
        if problem:
            ex.append(_exclusion(r, "contrasts", "contrast_not_estimable", problem))
            continue
        out.append({"study": r.study, "treat1": t1, "treat2": t2, "effect": effect, "se": float(se),
                    "records": (("contrasts", int(r.Index)),)})


# ----------------------------------------------------------------- assembly

def _orient(frame: pd.DataFrame, roles: Mapping[str, str]) -> pd.DataFrame:
    """treat1 = active before control, then by name; effect negated where swapped."""
    def key(t):
        return (roles.get(t) != "active", t)
    swap = np.array([key(a) > key(b) for a, b in zip(frame["treat1"], frame["treat2"])], dtype=bool)
    t1 = np.where(swap, frame["treat2"], frame["treat1"])
    t2 = np.where(swap, frame["treat1"], frame["treat2"])
    return frame.assign(treat1=t1, treat2=t2, effect=np.where(swap, -frame["effect"], frame["effect"]))


_CONTRAST_COLS = ["study", "outcome", "treat1", "treat2", "effect", "se", "design", "layer", "records"]
_RATE_COLS = ["study", "outcome", "treatment", "events", "n", "records"]


def prepare(review, choices: Choices = Choices(), *, selected: dict | None = None) -> Prepared:
    """Analysis-ready contrasts and rates of ``review`` under ``choices`` (pure function).

    ``selected``: a dict to keep the record selection (time window and mixed-duration rule,
    which do not depend on the node level or the filters) for later calls on the same review."""
    node_map = review.node_map(choices.node_level)
    node_of = dict(node_map.assignment)
    roles = {n.name: n.role for n in node_map.nodes}
    key = (choices.time_window, choices.mixed_duration)
    if selected is None or key not in selected:
        found = _selected(review, choices)
        if selected is None:
            selected = {}
        selected[key] = found
    masks, ex = selected[key][0], list(selected[key][1])
    dropped = filtered_out(review, choices)
    retro = not_prospective(review, choices) - dropped
    design = dict(zip(review.studies["study"], review.studies["design"]))
    comparative = {s for s, d in design.items() if d in DESIGNS and DESIGNS[d].comparative}
    contrasts: list[dict] = []
    rates: list[dict] = []
    outcomes = review.outcomes[masks["outcomes"]]
    ctab = review.tables.get("contrasts")
    ctab = ctab[masks["contrasts"]] if ctab is not None else None
    why = {"sensitivity_filter": f"filtered out ({_why(choices)})",
           "not_prospective": "not a prospective study (data_collection=prospective)"}
    for r in outcomes.itertuples():
        if r.study in dropped or r.study in retro:
            code = "sensitivity_filter" if r.study in dropped else "not_prospective"
            ex.append(_exclusion(r, "outcomes", code, why[code]))
    dropped |= retro
    if ctab is not None:
        for r in ctab[ctab["study"].isin(dropped)].itertuples():
            code = "not_prospective" if r.study in retro else "sensitivity_filter"
            ex.append(_exclusion(r, "contrasts", code, why[code]))
        ctab = ctab[~ctab["study"].isin(dropped)]
    outcomes = outcomes[~outcomes["study"].isin(dropped)]
    for spec in review.plan.outcomes:
        rows = outcomes[outcomes["outcome"] == spec.id]
        single = rows[~rows["study"].isin(comparative)]
        comp = rows[rows["study"].isin(comparative)]
        _rates(single, spec, node_of, rates, ex)
        out: list = []
        if spec.measure in PAIRWISE:
            _arm_contrasts(comp, spec, node_of, out, ex)
        else:
            ex += [_exclusion(r, "outcomes", "rate_outcome_in_comparative_study",
                              f"{spec.measure} outcomes are analysed in the single-arm rate layer")
                   for r in comp.itertuples()]
        if ctab is not None:
            crow = ctab[ctab["outcome"] == spec.id]
            _contrast_rows(crow, spec, node_of, {c["study"] for c in out}, out, ex)
        contrasts += [{**c, "outcome": spec.id} for c in out]
    frame = pd.DataFrame(contrasts, columns=[c for c in _CONTRAST_COLS if c not in ("design", "layer")])
    frame["design"] = frame["study"].map(design)
    frame["layer"] = [layer_of(d, choices.design) for d in frame["design"]]
    frame = _orient(frame, roles)[_CONTRAST_COLS] if len(frame) else frame.reindex(columns=_CONTRAST_COLS)
    rate_frame = pd.DataFrame(rates, columns=_RATE_COLS)
    analysed = frozenset(k for recs in list(frame["records"]) + list(rate_frame["records"]) for k in recs)
    keys = [record_key("outcomes", i) for i in review.outcomes.index]
    if "contrasts" in review.tables:
        keys += [record_key("contrasts", i) for i in review.tables["contrasts"].index]
    return Prepared(choices=choices, contrasts=frame, rates=rate_frame, exclusions=tuple(ex),
                    analysed=analysed, records=frozenset(keys), roles=roles, node_level=node_map.level)


def _why(choices: Choices) -> str:
    return ", ".join(f"{k}={v}" for k, v in choices.items()
                     if k in ("selection", "risk_of_bias", "fidelity") and v != "any")


def _rates(rows: pd.DataFrame, spec, node_of, rates: list, ex: list):
    """Single-arm rows -> rates (one per study arm; the latest time point when no rule chose one)."""
    for (study, arm), g in rows.groupby(["study", "arm"], sort=False):
        if spec.kind != "binary":
            ex += [_exclusion(r, "outcomes", "single_arm_continuous",
                              "a single-arm continuous outcome has no comparator") for r in g.itertuples()]
            continue
        if g["timepoint_weeks"].nunique() > 1:
            last = g["timepoint_weeks"].max()
            ex += [_exclusion(r, "outcomes", "time_point_not_selected",
                              f"no time-window rule: the latest time point ({last:g} weeks) is used")
                   for r in g[g["timepoint_weeks"] != last].itertuples()]
            g = g[g["timepoint_weeks"] == last]
        r = next(g.itertuples())
        rates.append({"study": study, "outcome": spec.id, "treatment": node_of[(study, arm)],
                      "events": float(r.events), "n": float(r.n), "records": (("outcomes", int(r.Index)),)})
