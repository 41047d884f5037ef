"""Lumping is never rated up: a lumped analysis is capped at the stratified analyses of the same comparison.

A lumped network pools clinical strata (regions, diagnoses, ...) that the plan keeps apart, and
its estimate of A versus B is then used for the patients of every one of those strata. For the
patients of a stratum, the stratified analysis of A versus B is the direct answer; the lumped
estimate is indirect evidence about them (GRADE 8: indirectness of population). Pooling adds
precision, and it can shrink a prediction interval by borrowing heterogeneity from other strata,
so without a bound the lumped rating could exceed the stratified one on the same data, which
rewards exactly the pooling a guideline panel must question. netstrata's rule: a lumped rating is
at most the *lowest* rating of that comparison in the strata (same outcome, same evidence layer)
that rate it. The cap is recorded with the strata and ratings that set it.

References
----------
Guyatt GH, Oxman AD, Kunz R, et al. GRADE guidelines: 8. Rating the quality of evidence --
indirectness. J Clin Epidemiol 2011;64:1303-1310. doi:10.1016/j.jclinepi.2011.04.014
Nikolakopoulou A, et al. CINeMA. PLoS Med 2020;17:e1003082. doi:10.1371/journal.pmed.1003082
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .judgement import RATINGS
from .network import CertaintyTable
from .rating import Cap, with_cap

__all__ = ["LUMPING_RULE", "lumping_caps", "cap_lumped"]

LUMPING_RULE = "lumped not above stratified"
_SOURCE = ("netstrata rule; GRADE 8 (indirectness of population), doi:10.1016/j.jclinepi.2011.04.014")


def _pair(r) -> frozenset:
    return frozenset((r.treatment1, r.treatment2))


def lumping_caps(lumped: CertaintyTable, stratified: Mapping[str, CertaintyTable]) -> dict[str, Cap]:
    """Comparison of ``lumped`` -> the cap set by the strata that rate the same comparison.

    ``stratified``: stratum label -> its CertaintyTable (same outcome and evidence layer as the
    lumped table). Comparisons no stratum rates get no cap (their intransitivity is judged by
    the indirectness domain).
    """
    by_pair: dict[frozenset, list[tuple[str, str]]] = {}
    for name, table in sorted(stratified.items()):
        for r in table.ratings:
            by_pair.setdefault(_pair(r), []).append((name, r.rating))
    out = {}
    for r in lumped.ratings:
        found = by_pair.get(_pair(r))
        if not found:
            continue
        worst = max(found, key=lambda nr: RATINGS.index(nr[1]))[1]
        listed = "; ".join(f"{n}: {x}" for n, x in found)
        out[r.comparison] = Cap(worst, LUMPING_RULE,
                                f"a lumped analysis is not rated above the stratified analyses of the same comparison "
                                f"({listed})", _SOURCE)
    return out


def cap_lumped(lumped: CertaintyTable, stratified: Mapping[str, CertaintyTable]) -> CertaintyTable:
    """``lumped`` with every rating capped by :func:`lumping_caps` (the cap is recorded even
    when it does not lower the rating, so the report can show it was checked)."""
    caps = lumping_caps(lumped, stratified)
    if not caps:
        return lumped
    ratings = tuple(with_cap(r, caps[r.comparison]) if r.comparison in caps else r for r in lumped.ratings)
    return replace(lumped, ratings=ratings)
