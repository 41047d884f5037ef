"""Intransitivity flags of every rated comparison of one evidence layer (inputs of the certainty rules).

Two flags (:mod:`netstrata.certainty.intransitivity` holds the rules and their levels):

* **strata**: the studies contributing to the estimate belong to more than one clinical stratum
  (the plan's ``[strata] variables``, read per study as the stratification does);
* **modifier**: for an indirect or mixed estimate, a declared effect modifier (the plan's
  ``[certainty.transitivity] modifiers``, else the review's usual ones) is imbalanced across the
  direct comparisons of its contributing studies beyond the plan's threshold: Cramér's V of the
  comparison x level table (``cramers_v``, default 0.3) or the largest |SMD| of a comparison's
  mean from the pooled mean (``smd``, default 0.5), the kernels of
  :mod:`~netstrata.synthesis.transitivity`. The stratification variables are left out here
  (the strata flag covers them).
"""
from __future__ import annotations

import math
import pandas as pd

from ..certainty.intransitivity import combine_flags, modifier_flag, strata_flag
from .strata import stratum_values
from .transitivity import REVIEW_MODIFIERS, _plan_section, _thresholds, comparison_key, cramers_v

__all__ = ["study_strata", "stratum_label", "node_namer", "layer_flags", "value_label", "modifier_label",
           "study_comparisons"]

_MISSING = ("", "nan", "None", "NR", "unclear")


def value_label(review, column: str, value) -> str:
    """The pack's label of a coded value of a studies/arms column (the code itself if none)."""
    pack = getattr(review, "pack", None)
    for b in (pack.columns if pack is not None else ()):
        if b.column == column and b.vocabulary in pack.vocabularies:
            code = pack.vocabularies[b.vocabulary].get(str(value))
            if code is not None and code.label:
                return code.label
    return str(value)


def modifier_label(review, column: str) -> str:
    """A modifier column as a reader names it: its pack vocabulary's label, else the column with
    underscores as spaces ("selection_threshold_pct" -> "selection threshold pct")."""
    pack = getattr(review, "pack", None)
    for b in (pack.columns if pack is not None else ()):
        if b.column == column and b.vocabulary in pack.vocabularies and pack.vocabularies[b.vocabulary].label:
            return pack.vocabularies[b.vocabulary].label
    return str(column).replace("_", " ")


def stratum_label(review, values) -> str:
    """A stratum's values, labelled ("Lumbar · Facet joint pain"); "all strata" when none."""
    return " \u00b7 ".join(value_label(review, v, x) for v, x in values) if values else "all strata"


def study_strata(review, studies, outcome: str) -> dict[str, str]:
    """Study -> its clinical stratum, labelled ("Lumbar · Facet joint pain")."""
    variables = tuple(review.plan.strata)
    return {s: stratum_label(review, stratum_values(variables, review, s, outcome))
            for s in sorted(map(str, studies))}


def node_namer(review, node_level: str | None):
    """Comparison key "A:B" -> "label A vs label B" at ``node_level`` (codes when no pack level)."""
    from .labels import node_label
    pack = getattr(review, "pack", None)
    try:
        level = pack.level(node_level or review.plan.node_level)
    except (AttributeError, KeyError):
        return lambda key: key.replace(":", " vs ")

    def name(key: str) -> str:
        a, _, b = key.partition(":")
        return f"{node_label(pack, level, a, short=True)} vs {node_label(pack, level, b, short=True)}"
    return name


# Not compared across comparisons by default: the comparator type is a property of each
# comparison's control arm, so it differs between comparisons with different controls by
# construction (exercise versus sham), not by patient mix. A plan that names it gets it.
_NOT_BY_DEFAULT = ("sham_subtype",)


def _modifiers(review, data: pd.DataFrame) -> list[str]:
    mods = _plan_section(review.plan).get("modifiers")
    mods = (list(mods) if mods is not None
            else [m for m in REVIEW_MODIFIERS if m in data and m not in _NOT_BY_DEFAULT])
    strata = set(review.plan.strata)
    return [m for m in mods if m in data.columns and m not in strata]


def _level(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return None if s in _MISSING else s


def _categorical(rows: pd.DataFrame, m: str, review, name) -> tuple[float, str]:
    vals = rows[m].map(_level)
    keep = vals.notna()
    if keep.sum() == 0:
        return 0.0, ""
    table = pd.crosstab(rows.loc[keep, "comparison"], vals[keep])
    v = cramers_v(table.to_numpy(dtype=float))[0]
    detail = "; ".join(f"{name(c)}: " + ", ".join(f"{value_label(review, m, lv)} {int(n)}" for lv, n in r.items() if n)
                       for c, r in table.iterrows())
    return v, detail


def _continuous(rows: pd.DataFrame, m: str) -> tuple[float, str]:
    x = pd.to_numeric(rows[m], errors="coerce")
    per_study = pd.Series(x.to_numpy(), index=rows["study"]).groupby(level=0).first().dropna()
    if per_study.size < 2:
        return 0.0, ""
    mean, sd = float(per_study.mean()), float(per_study.std(ddof=1))
    worst = 0.0
    for _, g in x.groupby(rows["comparison"]):
        g = g.dropna()
        if g.size and sd > 0:
            worst = max(worst, abs(float(g.mean()) - mean) / sd)
    return worst, ""


def _modifier_flags(review, rows: pd.DataFrame, evidence: str, mods, limits, name) -> list:
    """Flags of one indirect or mixed estimate: ``rows`` = its contributing study comparisons."""
    if rows["comparison"].nunique() < 2:
        return []
    out = []
    for m in mods:
        numeric = pd.to_numeric(rows[m], errors="coerce").notna().sum() == rows[m].map(_level).notna().sum() > 0
        if numeric:
            value, detail = _continuous(rows, m)
            out.append(modifier_flag(evidence, modifier_label(review, m), "max_abs_smd", value, limits["smd"], detail))
        else:
            value, detail = _categorical(rows, m, review, name)
            out.append(modifier_flag(evidence, modifier_label(review, m), "cramers_v", value, limits["cramers_v"],
                                     detail))
    return out


def layer_flags(review, evidence, comparisons: pd.DataFrame, outcome: str,
                node_level: str | None = None) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Comparison -> (level, flag texts) for every flagged comparison of one rated layer.

    ``evidence``: the layer's :class:`~netstrata.certainty.network.NetworkEvidence` (comparisons
    and contribution shares); ``comparisons``: its study comparisons with study-level columns
    (``study``, ``comparison`` as an order-free key, modifier columns).
    """
    shares = evidence.contributions
    strata = study_strata(review, shares.columns, outcome)
    mods = _modifiers(review, comparisons)
    limits, _ = _thresholds(None, review.plan)
    name = node_namer(review, node_level)
    out = {}
    for c in evidence.comparisons:
        row = shares.loc[c.comparison]
        flags = [strata_flag(row, strata, c.evidence)]
        if c.evidence in ("indirect", "mixed") and mods:
            contributing = set(map(str, row.index[row.to_numpy() > 0]))
            rows = comparisons[comparisons["study"].astype(str).isin(contributing)]
            flags += _modifier_flags(review, rows, c.evidence, mods, limits, name)
        combined = combine_flags(flags)
        if combined is not None:
            out[c.comparison] = combined
    return out


def study_comparisons(review, rows: pd.DataFrame) -> pd.DataFrame:
    """The layer's study comparisons (``study``, ``treat1``, ``treat2``) with an order-free
    ``comparison`` key, the study-level columns and ``sham_subtype``."""
    comp = pd.DataFrame({"study": rows["study"].astype(str).to_numpy(),
                         "comparison": [comparison_key(a, b) for a, b in zip(rows["treat1"], rows["treat2"])]})
    studies = review.studies.drop(columns=[c for c in ("notes",) if c in review.studies])
    studies = studies.assign(study=studies["study"].astype(str))
    arms = review.arms
    if "comparator_type" in arms:
        sham = {str(s): "|".join(sorted({str(v) for v in g["comparator_type"].dropna() if str(v) not in _MISSING}))
                for s, g in arms.groupby("study", sort=True)}
        comp["sham_subtype"] = [sham.get(s) or None for s in comp["study"]]
    return comp.drop_duplicates().merge(studies, on="study", how="left")
