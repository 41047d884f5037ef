"""Study-level inputs of the certainty ratings of one evidence layer: risk of bias, transitivity,
indirectness, and the panel's overrides.

* Risk of bias: the project's ``rob.csv`` (:func:`netstrata.appraisal.appraise_table`: an overall
  judgement, domain judgements or signalling answers per study and result) gives one level per
  contributing study: the assessment of the result named like the outcome, else the study's
  result-free assessment, else the worst of its assessments (noted). A contributing study
  without an assessment leaves the domain *not assessed* (the rating is then provisional) rather
  than inventing a level. A rob.csv that breaks the rules is a DataError, in ``run`` and
  ``validate`` alike (it is never silently ignored).
* Transitivity: the effect-modifier imbalance of the stratum's own network (its analysed study
  comparisons), not only of the lumped data; the stratification variables are constant within a
  split stratum and left out.
* Indirectness: :func:`netstrata.certainty.derive_indirectness` on the layer's own studies with
  their fidelity tier (worst active arm, :func:`netstrata.certainty.fidelity_by_study`) and
  transitivity flag, against the stratum's target: its stratification values (region,
  diagnosis, ...) plus the plan's ``[certainty.target]``.
* Overrides: ``certainty-overrides.csv`` (stratum, layer, comparison, domain, judgement, reason):
  checked against the analysis (unknown strata, comparisons, domains and words are DataErrors
  naming the row).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..appraisal import appraise_table, with_fidelity
from ..certainty import derive_indirectness, fidelity_by_study, transitivity_flags
from ..certainty.judgement import JUDGEMENTS, RATINGS, study_level
from ..errors import DataError, Problem, closest
from .intransitivity import modifier_label, study_comparisons
from .transitivity import REVIEW_MODIFIERS, transitivity

__all__ = ["risk_of_bias_table", "RobLevels", "rob_levels", "stratum_transitivity", "stratum_indirectness",
           "plan_target", "Overrides", "certainty_overrides", "check_override_comparisons", "check_overrides_used"]

_MISSING_VALUES = ("NR", "", "nan")
ROB_FILE, OVERRIDES_FILE = "rob.csv", "certainty-overrides.csv"


def risk_of_bias_table(review):
    """The review's ``rob`` table appraised (RiskOfBiasTable), None without one; DataError
    (file, row, column, study, found, expected) when it breaks the rules."""
    frame = review.table("rob")
    if frame is None:
        return None
    return appraise_table(frame, review.studies, file=ROB_FILE)


@dataclass(frozen=True, slots=True)
class RobLevels:
    """Risk of bias of a layer's studies: levels 1/2/3 (None when a study is not assessed), the
    tool of each study's assessment and the studies at critical risk (ROBINS-I)."""

    levels: pd.Series | None
    tools: Mapping[str, str] = field(default_factory=dict)
    critical: tuple[str, ...] = ()


def _pick(rows: pd.DataFrame, outcome: str) -> tuple[pd.DataFrame, bool]:
    pick = rows[rows["result"].astype(str) == outcome]
    if pick.empty:
        pick = rows[rows["result"].astype(str) == ""]
    return (rows, True) if pick.empty else (pick, False)


def rob_levels(table, outcome: str, studies, name: str, notes: list) -> RobLevels:
    """Levels for the ``outcome`` result of every study in ``studies`` (``levels`` None, with a
    note, when any study has no comparative assessment)."""
    if table is None:
        return RobLevels(None)
    frame = table.frame[~table.frame["tool"].astype(str).str.startswith("JBI")]
    out, tools, critical, missing, worst = {}, {}, [], [], []
    study_text = frame["study"].astype(str)          # converted once, not once per study
    for s in sorted(map(str, studies)):
        rows = frame[study_text == s]
        if rows.empty:
            missing.append(s)
            continue
        pick, fallback = _pick(rows, outcome)
        if fallback:
            worst.append(s)
        out[s] = max(study_level(v, name=f"rob[{s}]", caller=ROB_FILE) for v in pick["overall"])
        tools[s] = "/".join(sorted(set(pick["tool"].astype(str))))
        if (pick["overall"].astype(str).str.casefold() == "critical").any():
            critical.append(s)
    if missing:
        notes.append(f"certainty: {name}: no risk-of-bias assessment in rob.csv for {', '.join(missing)}; "
                     "within-study bias not assessed")
    if worst:
        notes.append(f"certainty: {name}: rob.csv has no result named {outcome!r} (nor a result-free one) for "
                     f"{', '.join(worst)}; the worst of its assessed results is used")
    levels = None if missing else pd.Series(out, name="rob", dtype=int)
    return RobLevels(levels, tools, tuple(critical))


def _plan_modifiers(plan):
    sections = getattr(plan, "sections", None) or {}
    section = sections.get("transitivity") or (sections.get("certainty", {}) or {}).get("transitivity", {}) or {}
    return section.get("modifiers")


def stratum_transitivity(review, res, notes: list):
    """Transitivity of the stratum's primary network (TransitivityResult), or None when it has
    no network or no modifier varies. Failures of the computation itself propagate."""
    lay = res.primary
    if lay is None or lay.network is None:
        return None
    data = study_comparisons(review, lay.network.rows)
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
    return transitivity(data, mods, comparison="comparison", plan=review.plan)


def plan_target(plan) -> dict:
    """The plan's ``[certainty.target]``: study-level fields the guideline question fixes
    (e.g. ``selection_control = "placebo_controlled"``), used by every stratum."""
    section = (getattr(plan, "sections", None) or {}).get("certainty", {}) or {}
    return dict(section.get("target", {}) or {})


def stratum_indirectness(review, res, lay, fidelity, trans, label=None) -> pd.DataFrame:
    """:func:`~netstrata.certainty.derive_indirectness` for the studies of one evidence layer."""
    studies = sorted(map(str, lay.studies))
    frame = review.studies.assign(study=review.studies["study"].astype(str))
    frame = frame[frame["study"].isin(studies)].sort_values("study").reset_index(drop=True)
    if fidelity is not None:
        arms = with_fidelity(review.arms, fidelity)
        tiers = fidelity_by_study(arms[arms["study"].astype(str).isin(studies)].sort_values(["study", "arm"]))
        frame["fidelity_tier"] = [tiers.get(s, "NR") for s in frame["study"]]
    if trans is not None and lay.network is not None:
        flags = transitivity_flags(trans, lay.network.rows, label=label,
                                   modifier_label=lambda m: modifier_label(review, m))
        frame["transitivity_flag"] = [flags.get(s, "") for s in frame["study"]]
    target = {v: x for v, x in res.stratum.values if x not in _MISSING_VALUES} | plan_target(review.plan)
    return derive_indirectness(frame, target)


# ------------------------------------------------------------------------------------ overrides
@dataclass(frozen=True, slots=True)
class Overrides:
    """The panel's overrides by (stratum, layer): ``domains`` comparison -> {domain: (judgement,
    reason)} and ``ratings`` comparison -> (rating, reason); ``rows`` keeps each row's
    spreadsheet number to name unused ones."""

    by_layer: Mapping[tuple[str, str], dict]
    rows: Mapping[tuple[str, str, str, str], int]

    def for_layer(self, stratum: str, layer: str) -> tuple[dict, dict]:
        got = self.by_layer.get((stratum, layer), {})
        return got.get("domains", {}), got.get("ratings", {})


def _words(domain: str, value: str, domains) -> tuple[str | None, str]:
    """(canonical word or None, what was expected)."""
    v = " ".join(str(value).strip().casefold().split())
    if domain == "rating":
        hit = next((r for r in RATINGS if r.casefold() == v), None)
        return hit, ", ".join(RATINGS)
    short = {"no": "no concerns", "some": "some concerns", "major": "major concerns"}
    v = short.get(v, v)
    return (v if v in JUDGEMENTS else None), ", ".join(JUDGEMENTS)


def certainty_overrides(review, domains) -> Overrides:
    """Parse ``certainty-overrides.csv`` (None-safe: no table, no overrides); ``domains``: the
    framework's domain names. Word and domain problems are DataErrors naming the row."""
    frame = review.table("certainty-overrides")
    by: dict[tuple[str, str], dict] = {}
    rows: dict[tuple[str, str, str, str], int] = {}
    problems: list[Problem] = []
    if frame is None:
        return Overrides({}, {})
    frame = frame.astype(object).where(frame.notna(), "")
    for row, r in frame.iterrows():
        layer = str(r.get("layer", "")).strip() or "randomised"
        domain = str(r["domain"]).strip()
        if domain != "rating" and domain not in domains:
            best = closest(domain, (*domains, "rating"))
            problems.append(Problem("unknown certainty domain", column="domain", found=domain,
                                    expected=", ".join((*domains, "rating")),
                                    hint=f"did you mean {best!r}?" if best else None,
                                    file=OVERRIDES_FILE, row=int(row)))
            continue
        word, expected = _words(domain, r["judgement"], domains)
        if word is None:
            problems.append(Problem("unknown judgement", column="judgement", found=r["judgement"], expected=expected,
                                    file=OVERRIDES_FILE, row=int(row)))
            continue
        comparison = str(r["comparison"]).strip().replace(" vs ", ":")
        entry = by.setdefault((str(r["stratum"]).strip(), layer), {"domains": {}, "ratings": {}})
        reason = str(r["reason"]).strip() + (f" (decided by {r['decided_by']})" if str(r.get("decided_by", "")) else "")
        if domain == "rating":
            entry["ratings"][comparison] = (word, reason)
        else:
            entry["domains"].setdefault(comparison, {})[domain] = (word, reason)
        rows[(str(r["stratum"]).strip(), layer, comparison, domain)] = int(row)
    if problems:
        raise DataError(problems)
    return Overrides(by, rows)


def _unknown_comparison(comparison: str, known, row: int) -> Problem | None:
    a, _, b = comparison.partition(":")
    if comparison in known or f"{b}:{a}" in known:
        return None
    return Problem("comparison not in this analysis", file=OVERRIDES_FILE, row=row, column="comparison",
                   found=comparison, expected="one of " + ", ".join(known))


def check_override_comparisons(overrides: Overrides, stratum: str, layer: str, known) -> None:
    """DataError for override rows of (stratum, layer) naming a comparison it does not rate."""
    problems = [p for (s, lay, comparison, _), row in sorted(overrides.rows.items(), key=lambda kv: kv[1])
                if (s, lay) == (stratum, layer) for p in (_unknown_comparison(comparison, list(known), row),) if p]
    if problems:
        raise DataError(problems)


def check_overrides_used(overrides: Overrides, rated: Mapping[tuple[str, str], object]) -> None:
    """DataError for override rows naming a stratum/layer that was not rated (found, expected)."""
    problems = []
    for (stratum, layer, comparison, domain), row in sorted(overrides.rows.items(), key=lambda kv: kv[1]):
        table = rated.get((stratum, layer))
        if table is None:
            names = sorted({s for s, _ in rated})
            best = closest(stratum, names)
            problems.append(Problem("no rated analysis of this stratum and layer", column="stratum",
                                    found=f"{stratum} [{layer}]", expected="one of " + "; ".join(names),
                                    hint=f"did you mean {best!r}?" if best else None,
                                    file=OVERRIDES_FILE, row=row))
    if problems:
        raise DataError(problems)
