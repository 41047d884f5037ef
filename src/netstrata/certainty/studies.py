"""Study-level inputs of the contribution-weighted domains: risk of bias and indirectness levels.

Risk of bias comes from the appraisal layer (RoB 2 / ROBINS-I records) or a plain table.
Indirectness is *derived* from each study's population frame and technical fidelity relative to
the stratum's question, by a rule table (condition → level, with a reason), and may be overridden
per study with a recorded reason. Levels are CINeMA's 1/2/3 = low / some / high concerns.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from ..errors import DataError, ParameterError, Problem
from .judgement import check_reason, study_level

__all__ = ["IndirectnessRule", "DEFAULT_INDIRECTNESS_RULES", "CONDITIONS", "MISSING_VALUES",
           "derive_indirectness", "study_levels", "fidelity_by_study", "transitivity_flags"]

# Values that mean "we do not know" (schema.md: "NR" and "unclear" are distinct, both unknown here).
MISSING_VALUES = frozenset({"", "nr", "unclear", "not_reported", "not reported", "nan", "none"})


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip().lower() in MISSING_VALUES


def _code(value) -> str:
    """Tier codes match on their prefix: 'T3_nonconforming' is 'T3'."""
    return str(value).strip().split("_")[0].upper()


@dataclass(frozen=True, slots=True)
class IndirectnessRule:
    """One row of the derivation table: if ``field`` meets ``when`` (against ``value`` or the
    stratum's target) the study gets at least ``level``.

    when : {"differs", "missing", "is", "flagged"}
        "differs": a known value outside the target's values (skipped if the target does not
        name ``field``); "missing": not reported / unclear; "is": equals ``value`` (prefix before
        "_" for tier codes); "flagged": a true or non-empty value other than false/0/no (a
        study-level flag, e.g. from :func:`transitivity_flags`).
    """

    field: str
    when: str
    level: int
    reason: str
    value: str | None = None


def _differs(v, rule, target) -> bool:
    if rule.field not in target or _missing(v):
        return False
    wanted = target[rule.field]
    wanted = {str(w) for w in ([wanted] if isinstance(wanted, str) or not isinstance(wanted, Iterable) else wanted)}
    return str(v) not in wanted


CONDITIONS = {
    "differs": _differs,
    "missing": lambda v, rule, target: _missing(v),
    "is": lambda v, rule, target: not _missing(v) and (str(v) == rule.value or _code(v) == _code(rule.value)),
    "flagged": lambda v, rule, target: not _missing(v) and str(v).strip().lower() not in {"false", "0", "no", "n"},
}

# netstrata's default derivation (domain brief D3 item 3, B4, B7, B9, C); a panel should review
# and record its own table. Region or diagnosis other than the target's: another population
# (high); other selection paradigm, partial or unreported fidelity: some; non-conforming: high.
DEFAULT_INDIRECTNESS_RULES: tuple[IndirectnessRule, ...] = (
    IndirectnessRule("region", "differs", 3, "spinal region differs from the stratum's target"),
    IndirectnessRule("region", "missing", 2, "spinal region not reported"),
    IndirectnessRule("diagnosis", "differs", 3, "diagnosis differs from the stratum's target"),
    IndirectnessRule("diagnosis", "missing", 2, "diagnosis not reported"),
    IndirectnessRule("selection_block_type", "differs", 2, "selection block type differs from the target paradigm"),
    IndirectnessRule("selection_n_blocks", "differs", 2, "number of selection blocks differs from the target paradigm"),
    IndirectnessRule("selection_threshold_pct", "differs", 2, "selection relief threshold differs from the target"),
    IndirectnessRule("selection_control", "differs", 2, "selection block control differs from the target"),
    IndirectnessRule("fidelity_tier", "is", 3, "technique non-conforming (fidelity T3)", "T3"),
    IndirectnessRule("fidelity_tier", "is", 2, "technique insufficiently reported (fidelity TU)", "TU"),
    IndirectnessRule("fidelity_tier", "is", 2, "technique partially conforming (fidelity T2)", "T2"),
    IndirectnessRule("transitivity_flag", "flagged", 2, "flagged by the transitivity assessment"),
)


def _why(rule: IndirectnessRule, value) -> str:
    shown = f": {value}" if rule.when in ("differs", "flagged") and not isinstance(value, bool) else ""
    return f"{rule.reason}{shown} (level {rule.level})"


def _check_rules(rules) -> tuple[IndirectnessRule, ...]:
    rules = tuple(rules)
    for r in rules:
        if not isinstance(r, IndirectnessRule) or r.when not in CONDITIONS or r.level not in (1, 2, 3):
            raise ParameterError(f"The 'rules' parameter of derive_indirectness must hold IndirectnessRule "
                                 f"entries with when in {sorted(CONDITIONS)} and level 1/2/3. Got {r!r} instead.")
    return rules


def _study_frame(studies: pd.DataFrame, caller: str) -> pd.DataFrame:
    if not isinstance(studies, pd.DataFrame):
        raise ParameterError(f"The 'studies' parameter of {caller} must be a DataFrame. Got {type(studies).__name__}.")
    frame = studies if "study" in studies.columns else studies.rename_axis("study").reset_index()
    dup = frame["study"][frame["study"].duplicated()].astype(str).tolist()
    if dup:
        raise DataError([Problem("study listed more than once", study=s, column="study") for s in dup])
    return frame


def derive_indirectness(studies: pd.DataFrame, target: Mapping, *, rules=DEFAULT_INDIRECTNESS_RULES,
                        overrides: Mapping | None = None) -> pd.DataFrame:
    """Study-level indirectness (1/2/3) relative to the stratum's target question.

    Parameters
    ----------
    studies : DataFrame
        One row per study (column ``study`` or the index) with population-frame columns
        (``region``, ``diagnosis``, ``selection_*``), ``fidelity_tier`` (see
        :func:`fidelity_by_study`) and optional study-level flags.
    target : mapping field -> value or collection of values
        The stratum's question, e.g. ``{"region": "lumbar", "diagnosis": "facet_joint_pain"}``.
    rules : sequence of IndirectnessRule
        The derivation table; a study's level is the highest level among the rules it meets (1 if
        none).
    overrides : mapping study -> (level, reason), optional
        Reviewer judgements replacing the derived level; the reason is recorded.

    Returns
    -------
    DataFrame
        ``study, level, derived_level, reasons, override_reason``.
    """
    frame = _study_frame(studies, "derive_indirectness")
    rules, target, overrides = _check_rules(rules), dict(target or {}), dict(overrides or {})
    unknown = set(map(str, overrides)) - set(frame["study"].astype(str))
    if unknown:
        raise ParameterError(f"The 'overrides' parameter of derive_indirectness names unknown studies {sorted(unknown)}.")
    rows = []
    for rec in frame.to_dict("records"):
        hits = [r for r in rules if r.field in rec and CONDITIONS[r.when](rec[r.field], r, target)]
        derived = max((r.level for r in hits), default=1)
        level, why = derived, ""
        if str(rec["study"]) in map(str, overrides):
            spec = overrides[next(k for k in overrides if str(k) == str(rec["study"]))]
            if not (isinstance(spec, (tuple, list)) and len(spec) == 2):
                raise ParameterError("The 'overrides' parameter of derive_indirectness must map study -> "
                                     f"(level, reason). Got {spec!r} for {rec['study']!r}.")
            level = study_level(spec[0], name=f"overrides[{rec['study']}]", caller="derive_indirectness")
            why = check_reason(spec[1], name=f"overrides[{rec['study']}]", caller="derive_indirectness")
        rows.append({"study": rec["study"], "level": level, "derived_level": derived,
                     "reasons": "; ".join(_why(r, rec[r.field]) for r in hits), "override_reason": why})
    return pd.DataFrame(rows, columns=["study", "level", "derived_level", "reasons", "override_reason"])


def study_levels(values, *, name: str = "rob", caller: str = "rate_network", result: str | None = None) -> pd.Series:
    """Study levels 1/2/3 as a Series indexed by study.

    Accepts a mapping study -> level, a Series, a DataFrame with ``study`` and ``level`` (or
    ``rob`` / ``indirectness`` / ``overall``) columns (e.g. from :func:`derive_indirectness`), an
    appraisal table with a ``frame`` (``netstrata.appraisal`` ``RiskOfBiasTable``), or an iterable
    of records with ``.study`` and ``.overall`` (RoB 2, ROBINS-I). Case-series appraisals (JBI)
    have no comparative risk of bias and are skipped. RoB 2 and ROBINS-I judge a *result*: pass
    ``result`` to pick one when a table holds several per study.
    """
    if isinstance(getattr(values, "frame", None), pd.DataFrame):
        values = values.frame
    if isinstance(values, pd.DataFrame):
        col = next((c for c in ("level", name, "overall") if c in values.columns), None)
        if "study" not in values.columns or col is None:
            raise ParameterError(f"The '{name}' table of {caller} needs columns 'study' and 'level'.")
        if "tool" in values.columns:
            values = values[~values["tool"].astype(str).str.startswith("JBI")]
        if result is not None and "result" in values.columns:
            values = values[values["result"].astype(str) == str(result)]
        pairs = list(zip(values["study"], values[col]))
    elif isinstance(values, (pd.Series, Mapping)):
        pairs = list(values.items())
    elif isinstance(values, Iterable):
        pairs = [(r.study, r.overall) for r in values
                 if hasattr(r, "overall") and (result is None or getattr(r, "result", result) == result)]
    else:
        raise ParameterError(f"The '{name}' parameter of {caller} must be a mapping study -> level, a table "
                             f"or risk-of-bias records. Got {type(values).__name__} instead.")
    out = {}
    for study, level in pairs:
        if str(study) in out:
            raise DataError(Problem(f"two {name} levels for one study (several results? pass result=...)",
                                    study=str(study), column=name))
        out[str(study)] = study_level(level, name=f"{name}[{study}]", caller=caller)
    return pd.Series(out, name=name, dtype=int)


_TIER_ORDER = ("T1", "T2", "TU", "T3")   # best -> worst for a study-level summary


def fidelity_by_study(arms: pd.DataFrame, *, tier: str = "fidelity_tier") -> pd.Series:
    """Study-level fidelity tier: the worst tier over a study's arms that have one (controls have
    none), order T1 < T2 < TU < T3."""
    rank = {t: i for i, t in enumerate(_TIER_ORDER)}
    out = {}
    for study, sub in arms.groupby("study", sort=False):
        tiers = [t for t in sub[tier] if not _missing(t) and _code(t) in rank]
        out[str(study)] = max(tiers, key=lambda t: rank[_code(t)]) if tiers else "NR"
    return pd.Series(out, name="fidelity_tier")


def transitivity_flags(flagged, contrasts: pd.DataFrame, *, study: str = "study", treat1: str = "treat1",
                       treat2: str = "treat2", label=None, modifier_label=None) -> pd.Series:
    """Study-level ``transitivity_flag`` from comparison-level imbalance flags.

    ``flagged``: rows (comparison, modifier) over their imbalance threshold — a DataFrame, or an
    object with a ``flagged`` DataFrame such as ``netstrata.synthesis.transitivity``'s result;
    comparisons are order-free ``"A:B"`` keys. ``contrasts``: the study comparisons (``study``,
    ``treat1``, ``treat2``), e.g. ``NetworkResult.rows``. A study is flagged with the text
    ``"A:B: region, diagnosis"`` for each flagged comparison it informs, "" otherwise; add the
    Series to the studies table given to :func:`derive_indirectness` (rule "flagged").
    ``label``: optional callable turning an "A:B" key into readable text (modifier names are
    then shown with spaces for underscores, or as ``modifier_label(name)`` when that callable is
    given, e.g. the pack's label of the column).
    """
    table = getattr(flagged, "flagged", flagged)
    if not isinstance(table, pd.DataFrame) or not {"comparison", "modifier"} <= set(table.columns):
        raise ParameterError("The 'flagged' parameter of transitivity_flags must be a table with columns "
                             "'comparison' and 'modifier' (or a transitivity result).")
    by_comp: dict[str, list[str]] = {}
    for c, m in zip(table["comparison"].astype(str), table["modifier"].astype(str)):
        by_comp.setdefault(":".join(sorted(c.split(":", 1))), []).append(m)
    out: dict[str, list[str]] = {}
    for s, a, b in zip(contrasts[study].astype(str), contrasts[treat1].astype(str), contrasts[treat2].astype(str)):
        key = ":".join(sorted((a, b)))
        notes = out.setdefault(s, [])
        shown = label(key) if label is not None else key
        if key in by_comp and not any(n.startswith(shown + ":") for n in notes):
            readable = modifier_label or (lambda m: m.replace("_", " "))
            mods = dict.fromkeys(readable(m) if label is not None else m for m in by_comp[key])
            notes.append(f"{shown}: {', '.join(mods)}")
    return pd.Series({s: "; ".join(v) for s, v in out.items()}, name="transitivity_flag", dtype=object)
