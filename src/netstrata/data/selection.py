"""Which validated rows enter an analysis, and the exclusion-register rows for the others.

Order of the rules, per outcome row:
1. the study is listed in exclusions.csv              -> not selected (the study-level rows explain it);
   a decision (e.g. of the adjudication log) drops it   -> adjudicated drop
2. the numbers an analysis needs are missing or 'NR'   -> counts / n / dispersion not reported;
   they lie outside a plausibility bound (``bounds``)   -> implausible value
3. the plan has a time-window rule for the outcome:
   time point missing or 'NR'                          -> time point not reported
   no usable time point satisfies the rule             -> no time point in window
   another usable time point is the one chosen         -> time point not selected
4. a comparative study with data for fewer than 2 arms -> single arm in comparative layer
Without a time-window rule every usable row is selected.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .bounds import bound_problems
from .register import REASONS, Exclusion
from .spec import DESIGNS

__all__ = ["select_rows", "screening_rows", "known_trial_rows", "known_trial_status"]


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _num(x):
    return None if _missing(x) else (int(x) if float(x).is_integer() else float(x))


def screening_rows(exclusions: pd.DataFrame | None, file: str) -> list[Exclusion]:
    if exclusions is None:
        return []
    return [Exclusion(study=r.study, reason_code=r.reason_code, message=r.message, stage="screening",
                      file=file, row=int(row))
            for row, r in zip(exclusions.index, exclusions.itertuples(index=False))]


_ANALYSED = {"binary": ("n", "events"), "continuous": ("n", "mean", "sd"),
             "contrast": ("effect", "ci_low", "ci_high", "se")}


def _implausible(row, kind: str) -> str | None:
    """The plausibility-bound messages of the columns an analysis of this kind uses, or None."""
    cols = _ANALYSED.get(kind, ())
    found = bound_problems({c: row[c] for c in cols if c in row})
    return "; ".join(f"column '{c}': {m}" for c, _, m in found) or None


def _usability(row, kind: str) -> str | None:
    """Reason code if the row lacks what its outcome kind needs, else None."""
    if kind == "binary":
        if _missing(row["n"]):
            return "n_not_reported"
        return "counts_not_reported" if _missing(row["events"]) else None
    if kind == "continuous":
        if not _missing(row["mean"]) and _missing(row["sd"]):
            return "dispersion_not_reported"
        if _missing(row["n"]):
            return "n_not_reported"
        return "counts_not_reported" if _missing(row["mean"]) else None
    if "effect" in row:  # contrast rows
        has_ci = not (_missing(row.get("ci_low")) or _missing(row.get("ci_high")))
        return None if has_ci or not _missing(row.get("se")) else "dispersion_not_reported"
    return None


_MESSAGES = {
    "n_not_reported": "sample size not reported; the row cannot enter an analysis",
    "counts_not_reported": "events / mean not reported; the row cannot enter an analysis",
    "dispersion_not_reported": "no SD (or CI/SE for a contrast); the row cannot enter an analysis",
    "time_point_not_reported": "time point not reported, so the time-window rule '{rule}' cannot be applied",
    "no_time_point_in_window": "time point {t} weeks does not satisfy '{rule}'",
    "time_point_not_selected": "time point {t} weeks not used: {chosen} weeks is chosen by '{rule}'",
    "single_arm_in_comparative_layer": "only one arm of this comparative study has usable data at this time point",
    "implausible_value": "{detail}; the row cannot enter an analysis",
    "adjudicated_drop": "dropped by {source}",
}


def select_rows(frame: pd.DataFrame, file: str, plan, studies: pd.DataFrame, arms: pd.DataFrame,
                excluded: set[str], contrast: bool = False,
                dropped: dict | None = None) -> tuple[np.ndarray, list[Exclusion]]:
    """Boolean 'selected' per row of ``frame`` (outcomes or contrasts) and register rows.

    ``dropped`` maps row numbers to the decision that dropped them (``adjudicated_drop``).
    """
    dropped = dropped or {}
    selected = np.zeros(len(frame), dtype=bool)
    out: list[Exclusion] = []
    design: dict[str, str] = dict(zip(studies["study"], studies["design"]))
    families = _families(arms)
    rows = frame.reset_index()

    def exclude(i, code, **fmt):
        r = rows.iloc[i]
        arm = None if contrast else r["arm"]
        out.append(Exclusion(study=r["study"], reason_code=code, message=_MESSAGES[code].format(**fmt),
                             stage=REASONS[code].stage, arm=arm,
                             outcome=r["outcome"], timepoint_weeks=_num(r["timepoint_weeks"]),
                             file=file, row=int(r["row"])))

    for (study, oid), idx in rows.groupby(["study", "outcome"], sort=False).groups.items():
        if study in excluded or oid not in plan.outcome_ids:
            continue
        spec = plan.outcome(oid)
        usable = []
        kind = "contrast" if contrast else spec.kind
        for i in idx:
            if int(rows.at[i, "row"]) in dropped:
                exclude(i, "adjudicated_drop", source=dropped[int(rows.at[i, "row"])])
                continue
            code = _usability(rows.iloc[i], kind)
            detail = None if code else _implausible(rows.iloc[i], kind)
            if code:
                exclude(i, code)
            elif detail:
                exclude(i, "implausible_value", detail=detail)
            else:
                usable.append(i)
        window = spec.window_for(families.get(study, ()))
        if window is None:
            selected[usable] = True
        else:
            _apply_window(rows, usable, window, selected, exclude)
        if not contrast and DESIGNS.get(design.get(study, "single_arm"), DESIGNS["single_arm"]).comparative:
            picked = [i for i in idx if selected[i]]
            if len({rows.at[i, "arm"] for i in picked}) == 1:
                for i in picked:
                    selected[i] = False
                    exclude(i, "single_arm_in_comparative_layer")
    return selected, out


def _apply_window(rows: pd.DataFrame, usable: list[int], window, selected: np.ndarray, exclude) -> None:
    """Select the rows at the time point chosen by ``window``; register the others."""
    rule = window.text or window.describe()
    timed = []
    for i in usable:
        if _missing(rows.at[i, "timepoint_weeks"]):
            exclude(i, "time_point_not_reported", rule=rule)
        else:
            timed.append(i)
    chosen = window.choose([rows.at[i, "timepoint_weeks"] for i in timed])
    for i in timed:
        t = rows.at[i, "timepoint_weeks"]
        if chosen is None:
            exclude(i, "no_time_point_in_window", t=f"{t:g}", rule=rule)
        elif t != chosen:
            exclude(i, "time_point_not_selected", t=f"{t:g}", chosen=f"{chosen:g}", rule=rule)
        else:
            selected[i] = True


def _families(arms: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    if "family" not in arms:
        return {}
    out: dict[str, list[str]] = {}
    for s, f in zip(arms["study"], arms["family"]):
        if isinstance(f, str):
            out.setdefault(s, []).extend(p.strip() for p in f.split("|"))
    return {s: tuple(dict.fromkeys(v)) for s, v in out.items()}


def known_trial_status(plan, studies: pd.DataFrame, exclusions: pd.DataFrame | None) -> pd.DataFrame:
    """One row per known trial of the plan: included / excluded (with reasons) / not found."""
    included = set(studies["study"])
    reasons: dict[str, list[str]] = {}
    if exclusions is not None:
        for s, code in zip(exclusions["study"], exclusions["reason_code"]):
            reasons.setdefault(s, []).append(code)
    data = []
    for k in plan.known_trials:
        if k.study in reasons:
            status = "excluded"
        else:
            status = "included" if k.study in included else "not found"
        data.append({"study": k.study, "status": status, "reasons": "; ".join(reasons.get(k.study, [])),
                     "citation": k.citation, "note": k.note})
    return pd.DataFrame(data, columns=["study", "status", "reasons", "citation", "note"])


def known_trial_rows(status: pd.DataFrame, plan_file: str) -> list[Exclusion]:
    return [Exclusion(study=s, reason_code="known_trial_not_found", stage="omission_check", file=plan_file,
                      message="listed in the plan's known_trials but neither in studies nor in exclusions; "
                              "extract it or record why it was excluded")
            for s, st in zip(status["study"], status["status"]) if st == "not found"]
