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

import functools
import math

import numpy as np
import pandas as pd

from ..certainty.intransitivity import combine_flags, modifier_flag, strata_flag
from .labels import node_label
from .strata import stratum_values
from .transitivity import (
    REVIEW_MODIFIERS,
    _plan_section,
    _thresholds,
    comparison_key,
    cramers_v,
)

__all__ = ["study_strata", "stratum_label", "node_namer", "node_labeler", "layer_flags", "value_label", "modifier_label",
           "study_comparisons"]

_MISSING = ("", "nan", "None", "NR", "unclear")

#: A modifier flag lists the level counts of each informing comparison up to this many comparisons:
#: beyond that (a lumped network of a large review: 30 and more) the list repeats the transitivity
#: table in every rating's footnote (98 KB per rating, 35 MB of a 100-trial review's results).
DETAIL_COMPARISONS = 8


def value_label(review, column: str, value) -> str:
    """The pack's label of a coded value of a studies/arms column (the code itself if none)."""
    pack = getattr(review, "pack", None)
    if pack is None:
        return str(value)
    for b in pack.columns:
        if b.column == column and b.vocabulary in pack.vocabularies:
            code = pack.vocabularies[b.vocabulary].get(str(value))
            if code is not None and code.label:
                return code.label
    return str(value)


def modifier_label(review, column: str) -> str:
    """A modifier column as a reader names it: its pack vocabulary's label, else the column with
    underscores as spaces ("selection_threshold_pct" -> "selection threshold pct")."""
    pack = getattr(review, "pack", None)
    if pack is None:
        return str(column).replace("_", " ")
    for b in pack.columns:
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


def node_labeler(review, node_level: str | None):
    """Node -> its short pack label at ``node_level`` (the node itself when no pack level)."""
    pack = getattr(review, "pack", None)
    if pack is None:
        return str
    try:
        level = pack.level(node_level or review.plan.node_level)
    except (AttributeError, KeyError):
        return str
    return functools.lru_cache(maxsize=None)(lambda node: node_label(pack, level, node, short=True))


def node_namer(review, node_level: str | None):
    """Comparison key "A:B" -> "label A vs label B" at ``node_level`` (codes when no pack level)."""
    label = node_labeler(review, node_level)

    def name(key: str) -> str:
        a, _, b = key.partition(":")
        return f"{label(a)} vs {label(b)}"
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


class _Modifiers:
    """The layer's study comparisons coded once as integer arrays, so each rated comparison's
    imbalance is a few NumPy operations on the rows of its contributing studies.

    ``study``/``comparison``: row -> study / comparison index; per modifier either ``codes``
    (level index, -1 = missing) with its ``levels``, or ``values`` (float, NaN = missing).
    """

    def __init__(self, rows: pd.DataFrame, mods, review):
        self.review = review
        self.studies, study = np.unique(rows["study"].astype(str).to_numpy(), return_inverse=True)
        self.comparisons, comparison = np.unique(rows["comparison"].astype(str).to_numpy(), return_inverse=True)
        self.study, self.comparison = study, comparison
        self.kind, self.codes, self.levels, self.values = {}, {}, {}, {}
        for m in mods:
            text = rows[m].map(_level)
            num = pd.to_numeric(text, errors="coerce")
            if text.notna().sum() > 0 and num.notna().sum() == text.notna().sum():
                self.kind[m], self.values[m] = "continuous", num.to_numpy(dtype=float)
            else:
                self.kind[m] = "categorical"
                levels = sorted(set(text.dropna()))
                index = {lv: i for i, lv in enumerate(levels)}
                self.levels[m] = levels
                self.codes[m] = np.array([index.get(v, -1) if v is not None else -1 for v in text], dtype=int)

    def rows_of(self, studies) -> np.ndarray:
        return np.isin(self.studies[self.study], np.asarray(sorted(studies), dtype=object))

    def imbalance(self, m: str, keep: np.ndarray) -> tuple[str, float, np.ndarray | None]:
        """(measure, value, comparison x level counts or None) over the rows ``keep``."""
        comp = self.comparison[keep]
        if self.kind[m] == "categorical":
            code = self.codes[m][keep]
            ok = code >= 0
            n_lv = len(self.levels[m])
            counts = np.bincount(comp[ok] * n_lv + code[ok], minlength=len(self.comparisons) * n_lv)
            counts = counts.reshape(len(self.comparisons), n_lv).astype(float)
            return "cramers_v", (cramers_v(counts)[0] if ok.any() else 0.0), counts
        x, study = self.values[m][keep], self.study[keep]
        ok = ~np.isnan(x)
        _, first = np.unique(study[ok], return_index=True)        # every study once
        per_study = x[ok][first]
        if per_study.size < 2:
            return "max_abs_smd", 0.0, None
        mean, sd = float(per_study.mean()), float(per_study.std(ddof=1))
        sums = np.bincount(comp[ok], weights=x[ok], minlength=len(self.comparisons))
        ns = np.bincount(comp[ok], minlength=len(self.comparisons))
        means = sums[ns > 0] / ns[ns > 0]
        return "max_abs_smd", (float(np.max(np.abs(means - mean)) / sd) if sd > 0 else 0.0), None

    def detail(self, m: str, counts: np.ndarray | None, name) -> str:
        """The comparison x level counts behind a flag, spelled out up to :data:`DETAIL_COMPARISONS`
        informing comparisons; beyond that their number and where the counts are tabulated."""
        if counts is None:
            return ""
        n = int((counts.sum(axis=1) > 0).sum())
        if n > DETAIL_COMPARISONS:
            return (f"{n} informing comparisons; the distribution of the modifier in each is in the "
                    "transitivity table of this analysis")
        parts = []
        for c, row in zip(self.comparisons, counts):
            if row.sum():
                parts.append(f"{name(c)}: " + ", ".join(f"{value_label(self.review, m, lv)} {int(n)}"
                                                        for lv, n in zip(self.levels[m], row) if n))
        return "; ".join(parts)


def _modifier_flags(coded: _Modifiers, studies, evidence: str, limits, name) -> list:
    """Flags of one indirect or mixed estimate whose contributing studies are ``studies``."""
    keep = coded.rows_of(studies)
    if len(np.unique(coded.comparison[keep])) < 2:
        return []
    out = []
    for m in coded.kind:
        measure, value, counts = coded.imbalance(m, keep)
        threshold = limits["cramers_v"] if measure == "cramers_v" else limits["smd"]
        if value > threshold:
            out.append(modifier_flag(evidence, modifier_label(coded.review, m), measure, value, threshold,
                                     coded.detail(m, counts, name)))
    return out


def layer_flags(review, evidence, comparisons: pd.DataFrame, outcome: str,
                node_level: str | None = None) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Comparison -> (level, flag texts) for every flagged comparison of one rated layer.

    ``evidence``: the layer's :class:`~netstrata.certainty.network.NetworkEvidence` (comparisons
    and contribution shares); ``comparisons``: its study comparisons with study-level columns
    (``study``, ``comparison`` as an order-free key, modifier columns). Flags depend only on the
    set of contributing studies, so each distinct set is assessed once.
    """
    shares = evidence.contributions
    strata = study_strata(review, shares.columns, outcome)
    mods = _modifiers(review, comparisons)
    limits, _ = _thresholds(None, review.plan)
    name = functools.lru_cache(maxsize=None)(node_namer(review, node_level))
    coded = _Modifiers(comparisons, mods, review) if mods else None
    columns = np.asarray(shares.columns.astype(str), dtype=object)
    matrix = shares.to_numpy(dtype=float)
    cache: dict[tuple, list] = {}
    out = {}
    for c, row in zip(evidence.comparisons, matrix):
        contributing = frozenset(columns[row > 0])
        flags = [strata_flag(pd.Series(row, index=columns), strata, c.evidence)]
        if c.evidence in ("indirect", "mixed") and coded is not None:
            key = (c.evidence, contributing)
            if key not in cache:
                cache[key] = _modifier_flags(coded, contributing, c.evidence, limits, name)
            flags += cache[key]
        combined = combine_flags(flags)
        if combined is not None:
            out[c.comparison] = combined
    return out


def _sham_subtypes(arms: pd.DataFrame) -> dict[str, str]:
    """Study -> its arms' comparator types, sorted and joined by ``|`` (missing ones left out):
    one pass over two columns, not a groupby and a Series per study."""
    found: dict[str, set[str]] = {}
    for study, value in zip(arms["study"].tolist(), arms["comparator_type"].tolist()):
        if pd.isna(study):                       # groupby leaves out rows without a study
            continue
        kinds = found.setdefault(str(study), set())
        if not pd.isna(value) and str(value) not in _MISSING:
            kinds.add(str(value))
    return {study: "|".join(sorted(kinds)) for study, kinds in found.items()}


def study_comparisons(review, rows: pd.DataFrame) -> pd.DataFrame:
    """The layer's study comparisons (``study``, ``treat1``, ``treat2``) with an order-free
    ``comparison`` key, the study-level columns and ``sham_subtype``."""
    comp = pd.DataFrame({"study": rows["study"].astype(str).to_numpy(),
                         "comparison": [comparison_key(a, b) for a, b in zip(rows["treat1"], rows["treat2"])]})
    studies = review.studies.drop(columns=[c for c in ("notes",) if c in review.studies])
    studies = studies.assign(study=studies["study"].astype(str))
    arms = review.arms
    if "comparator_type" in arms:
        sham = _sham_subtypes(arms)
        comp["sham_subtype"] = [sham.get(s) or None for s in comp["study"]]
    return comp.drop_duplicates().merge(studies, on="study", how="left")
