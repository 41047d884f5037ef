"""Plausibility checks on extracted arm/outcome tables, each finding with a suggested fix.

Rules are registry data (:data:`RULES`); every finding names study, arm, column, value, rule id,
severity, a message and (where one exists) a suggested fix.

References
----------
Higgins JPT et al. (eds). Cochrane Handbook v6.5, section 6.5.2 (obtaining SDs from SEs, CIs).
Cochrane Handbook v6.5, section 23.3.4 (multi-arm studies: a shared control group).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._summary import Summary
from ..data.bounds import MAX_ARM_SIZE, bound_problems
from ..effects.conversions import check_sd_vs_se
from ..errors import DataError, ParameterError, Problem
from ._cells import cell_text, classify
from ._kernels import ci_asymmetry, max_abs_smd

__all__ = ["Rule", "RULES", "PlausibilityReport", "check_plausibility", "FINDING_COLUMNS"]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    label: str
    severity: str          # "error": impossible; "warning": implausible, check the source
    reference: str


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("P01", "impossible count (negative events, n < 1)", "error", "arithmetic"),
    Rule("P02", "events exceed n", "error", "arithmetic"),
    Rule("P03", "SD not positive", "error", "arithmetic"),
    Rule("P04", "SD looks like an SE (implausible SMD)", "warning", "Cochrane Handbook 6.5.2.2"),
    Rule("P05", "implausibly large SMD", "warning", "Cochrane Handbook 6.5.1.2"),
    Rule("P06", "CI not symmetric on the analysis scale", "warning", "Cochrane Handbook 6.5.2.2-6.5.2.3"),
    Rule("P07", "estimate outside its CI", "error", "arithmetic"),
    Rule("P08", "analysed n exceeds randomised n", "error", "arithmetic"),
    Rule("P09", "analysed n differs from randomised n beyond tolerance", "warning", "RoB 2 domain 3"),
    Rule("P10", "shared arm entered inconsistently", "error", "Cochrane Handbook 23.3.4"),
    Rule("P11", "time point outside the plan's window", "warning", "analysis plan"),
    Rule("P12", "value outside plausibility bounds (arm size, SD, SE, CI width)", "error",
         "netstrata.data.bounds; Cochrane Handbook 6.5.2.2"),
)}

FINDING_COLUMNS = ["rule", "severity", "study", "arm", "outcome", "timepoint", "column", "value",
                   "message", "suggestion", "row"]
_RATIO = {"OR", "RR", "HR", "IRR", "ROR", "RATIO"}


@dataclass(frozen=True, slots=True, eq=False)
class PlausibilityReport:
    """All plausibility findings (``findings`` has :data:`FINDING_COLUMNS`)."""

    findings: pd.DataFrame

    @property
    def n_errors(self) -> int:
        return int((self.findings["severity"] == "error").sum())

    @property
    def n_warnings(self) -> int:
        return int((self.findings["severity"] == "warning").sum())

    def __repr__(self) -> str:
        return f"PlausibilityReport(errors={self.n_errors}, warnings={self.n_warnings})"

    def summary(self) -> Summary:
        cols = ["rule", "severity", "study", "arm", "column", "value", "message", "suggestion"]
        return Summary("Plausibility checks", self.findings[cols],
                       (f"{self.n_errors} error(s), {self.n_warnings} warning(s)",))


def _num(value) -> float | None:
    cell = classify(value)
    return cell.number if cell.tag == "num" else None


def _finding(code, rec, pos, column, value, message, suggestion=""):
    def text(name):
        return cell_text(rec.get(name, "")).strip()
    return {"rule": code, "severity": RULES[code].severity, "study": text("study"), "arm": text("arm"),
            "outcome": text("outcome"), "timepoint": text("timepoint_weeks"), "column": column,
            "value": cell_text(value), "message": message, "suggestion": suggestion, "row": pos + 2}


def _row_checks(rec, pos, out):
    events, n, sd = _num(rec.get("events")), _num(rec.get("n")), _num(rec.get("sd"))
    if events is not None and events < 0:
        out.append(_finding("P01", rec, pos, "events", rec["events"], "negative number of events"))
    if n is not None and n < 1:
        out.append(_finding("P01", rec, pos, "n", rec["n"], "arm size below 1"))
    if events is not None and n is not None and events > n:
        out.append(_finding("P02", rec, pos, "events", rec["events"], f"events ({events:g}) exceed n ({n:g})",
                            "check whether events and n were swapped or n is the analysed subgroup"))
    if sd is not None and sd <= 0:
        out.append(_finding("P03", rec, pos, "sd", rec["sd"], f"SD must be > 0; found {sd:g}",
                            "a zero SD is usually a missing or rounded value: re-extract from the source"))
    numbers = {c: _num(rec.get(c)) for c in ("n", "mean", "sd", "effect", "ci_low", "ci_high", "se")}
    for column, _, message in bound_problems(numbers):
        out.append(_finding("P12", rec, pos, column, rec[column], message,
                            "re-extract the value from the source; the record is left out of every analysis"))


def _ci_check(rec, pos, out, tolerance):
    est_col = "effect" if "effect" in rec else "mean"
    est, lo, hi = _num(rec.get(est_col)), _num(rec.get("ci_low")), _num(rec.get("ci_high"))
    if None in (est, lo, hi):
        return
    if not lo <= est <= hi:
        out.append(_finding("P07", rec, pos, est_col, rec[est_col], f"{est:g} lies outside [{lo:g}, {hi:g}]",
                            "check the order of estimate and limits"))
        return
    ratio = str(rec.get("measure", "")).strip().upper() in _RATIO
    if ratio and min(est, lo, hi) <= 0:
        out.append(_finding("P06", rec, pos, "ci_low", rec["ci_low"], "a ratio and its CI must be positive",
                            "check whether the values are already on the log scale"))
        return
    natural = float(ci_asymmetry(est, lo, hi))
    logged = float(ci_asymmetry(np.log(est), np.log(lo), np.log(hi))) if min(est, lo, hi) > 0 else np.nan
    asym, other = (logged, natural) if ratio else (natural, logged)
    if asym > tolerance:
        scale = "log" if ratio else "natural"
        if other <= tolerance:
            hint = ("symmetric on the natural scale: is this a difference, not a ratio?" if ratio else
                    "symmetric on the log scale: is this a ratio measure (set measure)?")
        else:
            hint = "check the transcription of the estimate and both limits"
        out.append(_finding("P06", rec, pos, "ci_high", rec["ci_high"],
                            f"CI asymmetry {asym:.2f} on the {scale} scale (tolerance {tolerance:g})", hint))


def _complete_arms(frame):
    """Groups (study, outcome, time) of arms with usable mean, sd > 0 and n > 1: lists of (pos, m, s, n)."""
    keys = ["study", "outcome"] + (["timepoint_weeks"] if "timepoint_weeks" in frame.columns else [])
    cells = None
    if frame.index.is_unique and frame.iloc[:0].to_numpy().dtype == object:
        # iterrows of a mixed-type frame gives each column's Python values (tolist's): read once
        cells = {c: dict(zip(frame.index, frame[c].tolist())) for c in ("mean", "sd", "n")}
    for _, group in frame.groupby(keys, sort=True):
        if cells is None:
            vals = [(pos, _num(r["mean"]), _num(r["sd"]), _num(r["n"])) for pos, r in group.iterrows()]
        else:
            vals = [(pos, _num(cells["mean"][pos]), _num(cells["sd"][pos]), _num(cells["n"][pos]))
                    for pos in group.index]
        vals = [v for v in vals if None not in v[1:] and v[2] > 0 and v[3] > 1]
        if len(vals) >= 2:
            yield vals


def _smd_checks(frame, out, limit, typical_sd):
    """P04 through netstrata.effects.check_sd_vs_se (one implementation of the SE-vs-SD rule); P05 here."""
    if not {"mean", "sd", "n", "study", "outcome"} <= set(frame.columns):
        return
    groups = list(_complete_arms(frame))
    pairs = [(g, vi, vj) for g, vals in enumerate(groups) for i, vi in enumerate(vals) for vj in vals[i + 1:]]
    flagged = set()
    if pairs:
        cols = [np.array([p[side][k] for p in pairs], dtype=float) for side in (1, 2) for k in (1, 2, 3)]
        problems = check_sd_vs_se(*cols, study=[str(k) for k in range(len(pairs))], max_smd=limit,
                                  typical_sd=typical_sd)
        for p in problems:
            _, vi, vj = pairs[int(p.study)]
            arms = [vi, vj] if isinstance(p.found, tuple) else [vi if vi[2] == p.found else vj]
            for v in arms:
                if v[0] in flagged:
                    continue
                flagged.add(v[0])
                rec = frame.loc[v[0]]
                message = p.message.split(": ", 1)[-1]
                out.append(_finding("P04", rec, int(v[0]), "sd", rec["sd"], message, p.hint or ""))
    for g, vals in enumerate(groups):
        pos, mean, sd, n = (np.array(x) for x in zip(*vals))
        if not flagged.intersection(pos.tolist()) and max_abs_smd(mean, sd, n) > limit:
            rec = frame.loc[pos[0]]
            out.append(_finding("P05", rec, int(pos[0]), "mean", rec["mean"],
                                f"|SMD| = {max_abs_smd(mean, sd, n):.2f} > {limit:g} between arms",
                                "check means, SDs and the direction of the scale"))


def _shared_arm_checks(frame, out):
    keys = [k for k in ("study", "arm", "outcome", "timepoint_weeks") if k in frame.columns]
    if len(keys) < 3:
        return
    for _, group in frame.groupby(keys, sort=True):
        if len(group) < 2:
            continue
        for col in ("n", "events", "mean", "sd"):
            if col not in group.columns:
                continue
            seen = [(pos, _num(v)) for pos, v in group[col].items() if _num(v) is not None]
            first = seen[0] if seen else None
            for pos, v in seen[1:]:
                if v != first[1]:
                    rec = frame.loc[pos]
                    out.append(_finding("P10", rec, int(frame.index.get_loc(pos)), col, rec[col],
                                        f"same arm entered with {col} = {v:g} and {first[1]:g}",
                                        f"use one value in every row for this arm (first entered: {first[1]:g})"))


def _n_checks(frame, arms, out, tolerance):
    lookup = {}
    for _, r in arms.iterrows():
        lookup[(str(r["study"]).strip().casefold(), str(r["arm"]).strip().casefold())] = _num(r.get("n"))
    for pos, (_, rec) in enumerate(frame.iterrows()):
        n = _num(rec.get("n"))
        rand = lookup.get((str(rec["study"]).strip().casefold(), str(rec["arm"]).strip().casefold()))
        if rand is not None and rand > MAX_ARM_SIZE:
            out.append(_finding("P12", rec, pos, "n", rec.get("n"),
                                f"randomised n of this arm in the arms table is {rand:.3g}, above "
                                f"{MAX_ARM_SIZE:,.0f}", "correct the arm size in the arms table"))
            continue
        if n is None or rand is None or rand <= 0:
            continue
        if n > rand:
            out.append(_finding("P08", rec, pos, "n", rec["n"], f"analysed n {n:g} > randomised n {rand:g}",
                                "check the arm id and whether n counts limbs/levels instead of patients"))
        elif (rand - n) / rand > tolerance:
            out.append(_finding("P09", rec, pos, "n", rec["n"],
                                f"analysed n {n:g} is {100 * (rand - n) / rand:.0f}% below randomised n "
                                f"{rand:g} (tolerance {100 * tolerance:g}%)",
                                "confirm n from the source; record the attrition in RoB 2 domain 3"))


def _bounds(window) -> tuple[float, float, object]:
    """(lowest, highest) accepted weeks of a window: a (lo, hi) pair or a netstrata.data.TimeWindow."""
    if isinstance(window, (tuple, list)):
        return float(window[0]), float(window[1]), None
    tol = getattr(window, "tolerance_weeks", 0.0)
    rule, target = getattr(window, "rule", "closest"), getattr(window, "target_weeks", np.nan)
    lo = target - tol if rule == "closest_not_before" else -np.inf
    hi = target + tol if rule == "closest_not_after" else np.inf
    return lo, hi, window


def _plan_windows(plan, arms) -> dict:
    """{(study, outcome): window} from a Plan's outcomes (family-specific rules need the arms table)."""
    families: dict[str, list[str]] = {}
    if arms is not None and "family" in arms.columns:
        for st, fam in zip(arms["study"], arms["family"]):
            families.setdefault(str(st).strip(), []).extend(p.strip() for p in str(fam).split("|") if p.strip())
    return {"__plan__": plan, "__families__": families}


def _window_for(windows, study, outcome):
    if "__plan__" in windows:
        try:
            spec = windows["__plan__"].outcome(outcome)
        except KeyError:
            return None
        return spec.window_for(windows["__families__"].get(study, ()))
    return windows.get(outcome)


def _window_checks(frame, windows, out):
    for pos, (_, rec) in enumerate(frame.iterrows()):
        study, outcome = str(rec.get("study", "")).strip(), str(rec.get("outcome", "")).strip()
        window, t = _window_for(windows, study, outcome), _num(rec.get("timepoint_weeks"))
        if window is None or t is None:
            continue
        lo, hi, rule = _bounds(window)
        if lo <= t <= hi:
            continue
        same = frame[(frame["study"] == rec["study"]) & (frame["outcome"] == rec["outcome"])]
        times = sorted({x for x in (_num(v) for v in same["timepoint_weeks"]) if x is not None})
        inside = [x for x in times if lo <= x <= hi]
        pick = rule.choose(times) if rule is not None and hasattr(rule, "choose") else (inside[-1] if inside else None)
        hint = (f"use time point {pick:g} weeks, the one the plan's rule selects" if pick is not None
                else "exclude this time point from the analysis or widen the window in the plan")
        shown = rule.describe() if hasattr(rule, "describe") else f"[{lo:g}, {hi:g}] weeks"
        out.append(_finding("P11", rec, pos, "timepoint_weeks", rec["timepoint_weeks"],
                            f"{t:g} weeks is outside the window ({shown}) for this outcome", hint))


def check_plausibility(outcomes: pd.DataFrame, arms: pd.DataFrame | None = None, *,
                       windows=None, plan=None,
                       n_tolerance: float = 0.2, smd_limit: float = 2.0,
                       ci_tolerance: float = 0.1, typical_sd: float | None = None) -> PlausibilityReport:
    """Run every plausibility rule on an outcomes table (and its arms table).

    Parameters
    ----------
    outcomes : DataFrame
        Arm-level rows (study, arm, outcome, timepoint_weeks, events, n, mean, sd; optional
        effect/ci_low/ci_high/measure for reported contrasts).
    arms : DataFrame, optional
        Randomised n per arm (study, arm, n) for rules P08/P09.
    windows : mapping outcome -> (min_weeks, max_weeks) or TimeWindow, optional
        Time windows (inclusive) for rule P11.
    plan : netstrata.data.Plan, optional
        Take the windows from the plan's outcomes instead (family-specific rules use ``arms.family``).
    n_tolerance : float, default=0.2
        Largest accepted fraction of randomised participants missing from the analysed n.
    smd_limit : float, default=2.0
        |SMD| above this is implausible for pain/function outcomes (rules P04/P05).
    ci_tolerance : float, default=0.1
        Largest accepted CI asymmetry on the analysis scale (reported limits are rounded).
    typical_sd : float, optional
        The instrument's usual SD (e.g. 2-2.5 on a 0-10 scale); an SD far below it suggests an SE.

    Notes
    -----
    Rule P04 (an SE entered as an SD) is delegated to :func:`netstrata.effects.check_sd_vs_se`,
    so the rule has one implementation in the package.
    """
    if not isinstance(outcomes, pd.DataFrame) or "study" not in outcomes.columns:
        raise DataError(Problem("outcomes table must be a DataFrame with a 'study' column",
                                found=type(outcomes).__name__))
    if arms is not None and not {"study", "arm", "n"} <= set(arms.columns):
        raise DataError(Problem("arms table needs columns study, arm and n", found=list(arms.columns)))
    for name, v in (("n_tolerance", n_tolerance), ("smd_limit", smd_limit), ("ci_tolerance", ci_tolerance)):
        if not isinstance(v, (int, float)) or not v > 0:
            raise ParameterError(f"The '{name}' parameter of check_plausibility must be a number > 0. Got {v!r} instead.")
    # spreadsheet row numbers: a Review's tables are indexed by them; plain frames count from row 2
    plain = isinstance(outcomes.index, pd.RangeIndex) and outcomes.index.start == 0
    rows = [i + 2 for i in range(len(outcomes))] if plain else [int(i) for i in outcomes.index]
    frame = outcomes.reset_index(drop=True)
    out: list[dict] = []
    for pos, (_, rec) in enumerate(frame.iterrows()):
        _row_checks(rec, pos, out)
        _ci_check(rec, pos, out, ci_tolerance)
    _smd_checks(frame, out, smd_limit, typical_sd)
    _shared_arm_checks(frame, out)
    if arms is not None and "arm" in frame.columns:
        _n_checks(frame, arms, out, n_tolerance)
    if plan is not None:
        windows = _plan_windows(plan, arms)
    if windows and {"outcome", "timepoint_weeks"} <= set(frame.columns):
        _window_checks(frame, dict(windows), out)
    findings = pd.DataFrame(out, columns=FINDING_COLUMNS)
    findings["row"] = [rows[r - 2] for r in findings["row"]]
    findings = findings.sort_values(["row", "rule", "column"], kind="stable").reset_index(drop=True)
    return PlausibilityReport(findings)
