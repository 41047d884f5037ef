"""Study-level inputs of the certainty ratings of one stratum: risk of bias, transitivity, indirectness.

* Risk of bias: the project's ``rob.csv`` (RoB 2 / ROBINS-I, :func:`netstrata.appraisal.appraise_table`)
  gives one level per contributing study and result: the assessment of the result named like
  the outcome, else the study's result-free assessment, else the worst of its assessments (noted).
  A contributing study without an assessment leaves the domain *not assessed* (the rating is then
  provisional) rather than inventing a level.
* Transitivity: the effect-modifier imbalance of the stratum's own network (its analysed study
  comparisons), not only of the lumped data; the stratification variables are constant within a
  split stratum and left out.
* Indirectness: :func:`netstrata.certainty.derive_indirectness` on the contributing studies with
  their fidelity tier (worst active arm, :func:`netstrata.certainty.fidelity_by_study`) and
  transitivity flag, against the stratum's target: its stratification values (region,
  diagnosis, ...) plus the plan's ``[certainty.target]`` (e.g. the selection paradigm a
  guideline question asks about).

Each function returns None (with a note) when its input is unavailable; nothing here stops a run.
"""
from __future__ import annotations

import warnings
from typing import Mapping

import pandas as pd

__all__ = ["risk_of_bias_table", "rob_levels", "stratum_transitivity", "stratum_indirectness", "plan_target"]

_MISSING_VALUES = ("NR", "", "nan")


def risk_of_bias_table(review, notes: list, *, strict: bool = False):
    """The review's ``rob`` table appraised (RiskOfBiasTable), or None if absent or invalid.

    ``strict=True`` (what ``validate`` and the checks before a run use): a table that cannot be
    appraised raises its error instead of adding a note."""
    frame = review.table("rob")
    if frame is None or frame.empty:     # a header without rows (netstrata init) = no assessments
        return None
    try:
        from ..appraisal import appraise_table
        text = frame.astype(object).where(frame.notna(), "").astype(str)
        return appraise_table(text.reset_index(drop=True), review.studies, file="rob.csv")
    except Exception as exc:  # noqa: BLE001 - recorded; certainty then says "not assessed"
        if strict:
            raise
        notes.append(f"risk of bias: rob.csv could not be appraised ({type(exc).__name__}: {exc}); "
                     "within-study bias not assessed")
        return None


def rob_levels(table, outcome: str, studies, name: str, notes: list) -> pd.Series | None:
    """Study -> level 1/2/3 for the ``outcome`` result of every study in ``studies`` (None, with
    a note, when any study has no comparative assessment)."""
    from ..certainty.judgement import study_level
    if table is None:
        return None
    frame = table.frame[~table.frame["tool"].astype(str).str.startswith("JBI")]
    out, missing, worst = {}, [], []
    for s in sorted(map(str, studies)):
        rows = frame[frame["study"].astype(str) == s]
        if rows.empty:
            missing.append(s)
            continue
        pick = rows[rows["result"].astype(str) == outcome]
        if pick.empty:
            pick = rows[rows["result"].astype(str) == ""]
        if pick.empty:
            pick = rows
            worst.append(s)
        out[s] = max(study_level(v, name=f"rob[{s}]", caller="rob.csv") for v in pick["overall"])
    if missing:
        notes.append(f"certainty: {name}: no risk-of-bias assessment in rob.csv for {', '.join(missing)}; "
                     "within-study bias not assessed")
        return None
    if worst:
        notes.append(f"certainty: {name}: rob.csv has no result named {outcome!r} (nor a result-free one) for "
                     f"{', '.join(worst)}; the worst of its assessed results is used")
    return pd.Series(out, name="rob", dtype=int)


def _plan_modifiers(plan):
    sections = getattr(plan, "sections", None) or {}
    section = sections.get("transitivity") or (sections.get("certainty", {}) or {}).get("transitivity", {}) or {}
    return section.get("modifiers")


def _study_comparisons(review, net) -> pd.DataFrame:
    """The network's study comparisons with the study-level columns and ``sham_subtype``."""
    from .transitivity import comparison_key
    rows = net.rows[["study", "treat1", "treat2"]]
    comp = pd.DataFrame({"study": rows["study"].astype(str),
                         "comparison": [comparison_key(a, b) for a, b in zip(rows["treat1"], rows["treat2"])]})
    studies = review.studies.drop(columns=[c for c in ("notes",) if c in review.studies])
    studies = studies.assign(study=studies["study"].astype(str))
    arms = review.arms
    if "comparator_type" in arms:
        sham = {str(s): "|".join(sorted({str(v) for v in g["comparator_type"].dropna() if str(v) not in _MISSING_VALUES}))
                for s, g in arms.groupby("study", sort=True)}
        comp["sham_subtype"] = [sham.get(s) or None for s in comp["study"]]
    return comp.drop_duplicates().merge(studies, on="study", how="left")


def stratum_transitivity(review, res, notes: list):
    """Transitivity of the stratum's primary network (TransitivityResult), or None."""
    from .transitivity import REVIEW_MODIFIERS, transitivity
    lay = res.primary
    if lay is None or lay.network is None:
        return None
    try:
        data = _study_comparisons(review, lay.network)
        constant = {v for v, _ in res.stratum.values}
        mods = _plan_modifiers(review.plan)
        if mods is None:
            mods = [m for m in REVIEW_MODIFIERS if m in data]
        if isinstance(mods, Mapping):
            mods = {m: k for m, k in mods.items() if m not in constant and m in data}
        else:
            mods = [m for m in mods if m not in constant and m in data]
        if not mods:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return transitivity(data, mods, comparison="comparison", plan=review.plan)
    except Exception as exc:  # noqa: BLE001 - recorded, never fatal
        notes.append(f"transitivity: {res.name}: {type(exc).__name__}: {exc}")
        return None


def plan_target(plan) -> dict:
    """The plan's ``[certainty.target]``: study-level fields the guideline question fixes
    (e.g. ``selection_control = "placebo_controlled"``), used by every stratum."""
    section = (getattr(plan, "sections", None) or {}).get("certainty", {}) or {}
    return dict(section.get("target", {}) or {})


def stratum_indirectness(review, res, fidelity, trans, notes: list) -> pd.DataFrame | None:
    """:func:`~netstrata.certainty.derive_indirectness` for the studies of the stratum's primary network."""
    from ..certainty import derive_indirectness, fidelity_by_study, transitivity_flags
    lay = res.primary
    try:
        studies = sorted(map(str, lay.network.studies))
        frame = review.studies.assign(study=review.studies["study"].astype(str))
        frame = frame[frame["study"].isin(studies)].sort_values("study").reset_index(drop=True)
        if fidelity is not None:
            from ..appraisal import with_fidelity
            arms = with_fidelity(review.arms, fidelity)
            tiers = fidelity_by_study(arms[arms["study"].astype(str).isin(studies)].sort_values(["study", "arm"]))
            frame["fidelity_tier"] = [tiers.get(s, "NR") for s in frame["study"]]
        if trans is not None:
            flags = transitivity_flags(trans, lay.network.rows)
            frame["transitivity_flag"] = [flags.get(s, "") for s in frame["study"]]
        target = {v: x for v, x in res.stratum.values if x not in _MISSING_VALUES} | plan_target(review.plan)
        return derive_indirectness(frame, target)
    except Exception as exc:  # noqa: BLE001 - recorded; certainty then says "not assessed"
        notes.append(f"certainty: {res.name}: indirectness could not be derived ({type(exc).__name__}: {exc})")
        return None
