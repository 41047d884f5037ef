"""GRADE for network meta-analysis: the second rating framework, from the same inputs as CINeMA.

The GRADE Working Group's approach (Puhan 2014; Brignardello-Petersen 2018) rates each
comparison in four steps, each a small rule here:

1. **Direct estimate** of every directly compared pair: the design's start level
   (:mod:`~netstrata.certainty.start`), rated down for risk of bias, inconsistency,
   indirectness and publication bias. Imprecision is *not* rated at this step (2018, advance 1).
2. **Indirect estimate** through the dominant first-order loop (the intermediate treatment C
   with direct A:C and C:B whose indirect variance var(A:C) + var(C:B) is smallest; without a
   first-order loop the shortest, most precise path): the *lowest* certainty of the direct
   estimates on the path, rated down for intransitivity (the same flags as CINeMA's, level 2 one
   level, level 3 two). Not rated when the direct estimate is High and gives at least half of the
   network estimate (2018, advance 2).
3. **Network estimate**: the *higher* of the direct and indirect certainty where both exist,
   rated down for incoherence (side-splitting p of that comparison, never the global test: 2018,
   advance 3; bands ``p_thresholds``: below the lower two levels, between one level).
4. **Imprecision** of the network estimate, against the null (minimally contextualised
   framework, Brignardello-Petersen 2020 m3900): one level when the CI includes the null effect,
   two when it spans both an important benefit and an important harm (both limits of the MID
   zone). ``imprecision_threshold="mid"`` uses the MID zone instead (partially contextualised,
   m3907; CINeMA's crossing count).

Inconsistency of a direct estimate: "not applicable" for one study; with three or more studies
the CINeMA concordance of its CI and prediction interval (t, k − 2 df) with the MID zone; with two
studies, I² bands (Cochrane Handbook ch. 10: ≥ 50% some, ≥ 75% major concerns).

References
----------
Puhan MA, Schünemann HJ, Murad MH, et al. A GRADE Working Group approach for rating the quality
of treatment effect estimates from network meta-analysis. BMJ 2014;349:g5630. doi:10.1136/bmj.g5630
Brignardello-Petersen R, Bonner A, Alexander PE, et al. Advances in the GRADE approach to rate the
certainty in estimates from a network meta-analysis. J Clin Epidemiol 2018;93:36-44.
doi:10.1016/j.jclinepi.2017.10.005
Brignardello-Petersen R, Florez ID, Izcovich A, et al. GRADE approach to drawing conclusions from
a network meta-analysis using a minimally contextualised framework. BMJ 2020;371:m3900.
doi:10.1136/bmj.m3900
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd
from scipy.special import ndtri, stdtrit

from .judgement import (DOWNGRADE, MAJOR, NO, NOT_APPLICABLE, NOT_ASSESSABLE, RATINGS, SOME, DomainJudgement,
                        lowest, rating_after)
from .rating import CertaintyRating, contribution_domain, overall_override
from .rules import heterogeneity, imprecision, pvalue_band, reporting_bias

__all__ = ["GRADE_DOMAINS", "DIRECT_DOMAINS", "grade_ratings", "I2_BANDS", "null_imprecision"]

GRADE_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "publication_bias", "intransitivity",
                 "incoherence", "imprecision")
DIRECT_DOMAINS = GRADE_DOMAINS[:4]
I2_BANDS = MappingProxyType({50.0: SOME, 75.0: MAJOR})   # percent, lower bounds (Cochrane Handbook ch. 10)
_FLAG_DOWNGRADE = {2: SOME, 3: MAJOR}


def _renamed(d: DomainJudgement, domain: str, scope: str) -> DomainJudgement:
    return DomainJudgement(domain, d.judgement, d.algorithm, d.rule, dict(d.inputs) | {"estimate": scope}, d.note,
                           d.override_reason)


def _i2_band(i2: float) -> str:
    out = NO
    for bound, judgement in I2_BANDS.items():
        if i2 >= bound:
            out = judgement
    return out


def inconsistency(row, zone, level: float) -> DomainJudgement:
    """Inconsistency of one direct estimate (``row``: k, effect, se, tau2, i2)."""
    k = int(row.k)
    if k == 1:
        return DomainJudgement("inconsistency", NOT_APPLICABLE, NOT_APPLICABLE, "one study", {"k": 1},
                               note="one study: no inconsistency to judge")
    if k == 2:
        i2 = float(row.i2)
        if not math.isfinite(i2):
            return DomainJudgement("inconsistency", NOT_ASSESSABLE, NOT_ASSESSABLE, "I² bands", {"k": 2})
        out = _i2_band(i2)
        return DomainJudgement("inconsistency", out, out, "I² bands (two studies)", {"k": 2, "i2": i2})
    q = float(stdtrit(k - 2, 0.5 + level / 2))        # t quantile, k − 2 df (netmeta's prediction df)
    e, se, tau2 = float(row.effect), float(row.se), float(row.tau2)
    z = float(ndtri(0.5 + level / 2))
    sp = math.sqrt(se ** 2 + (tau2 if math.isfinite(tau2) else 0.0))
    d = heterogeneity(e - z * se, e + z * se, e - q * sp, e + q * sp, zone, effect=e)
    return DomainJudgement("inconsistency", d.judgement, d.algorithm, "CI x PI crossings (direct studies)",
                           dict(d.inputs) | {"k": k, "i2": float(row.i2)}, d.note)


def null_imprecision(ci_low: float, ci_high: float, zone) -> DomainJudgement:
    """Imprecision against the null: CI includes 0 → some concerns; CI spans both limits of the
    MID zone (important benefit and important harm) → major concerns."""
    inputs = {"ci_low": ci_low, "ci_high": ci_high, "zone_low": zone.low, "zone_high": zone.high}
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return DomainJudgement("imprecision", NOT_ASSESSABLE, NOT_ASSESSABLE, "CI vs null", inputs)
    both = ci_low < zone.low and ci_high > zone.high
    out = MAJOR if both else (SOME if ci_low <= 0 <= ci_high else NO)
    return DomainJudgement("imprecision", out, out, "CI vs null (minimally contextualised)",
                           inputs | {"includes_null": bool(ci_low <= 0 <= ci_high), "spans_zone": both})


@dataclass(frozen=True, slots=True)
class _Direct:
    """A direct estimate's GRADE rating and its four domain judgements."""

    comparison: str
    pair: frozenset
    se: float
    domains: tuple[DomainJudgement, ...]
    rating: str


class _Inputs:
    """What the GRADE rules read, gathered once per network."""

    def __init__(self, ev, zone, opts):
        self.ev, self.zone, self.opts = ev, zone, opts
        self.shares_by_pair = self._pair_shares(ev.study_rows)
        self.direct = {}
        for row in ev.direct.itertuples(index=False):
            pair = frozenset((row.treatment1, row.treatment2))
            self.direct[pair] = self._rate_direct(row, pair, opts["overrides"].get(row.comparison, {}))

    @staticmethod
    def _pair_shares(rows: pd.DataFrame) -> dict:
        """Directly compared pair -> each study's share of its inverse-variance weight."""
        weights: dict[frozenset, dict[str, float]] = {}
        for s, a, b, w in zip(rows["study"], rows["treatment1"], rows["treatment2"], rows["weight"]):
            per = weights.setdefault(frozenset((a, b)), {})
            per[str(s)] = per.get(str(s), 0.0) + float(w)
        return {pair: pd.Series(w, dtype=float).sort_index() / sum(w.values()) for pair, w in weights.items()}

    def _rate_direct(self, row, pair, overrides) -> _Direct:
        o = self.opts
        shares = self.shares_by_pair[pair]
        doms = {
            "risk_of_bias": _renamed(contribution_domain("within_study_bias", shares, o["rob"], o["rob_rule"], None),
                                     "risk_of_bias", "direct"),
            "inconsistency": inconsistency(row, self.zone, self.ev.level),
            "indirectness": _renamed(contribution_domain("indirectness", shares, o["indirectness"],
                                                         o["indirectness_rule"], o["indirectness_reasons"]),
                                     "indirectness", "direct"),
            "publication_bias": _renamed(reporting_bias(*o["reporting"].get(row.comparison, (None, ""))),
                                         "publication_bias", "direct"),
        }
        for name, (judgement, reason) in overrides.items():
            if name in doms:
                doms[name] = doms[name].override(judgement, reason, caller="rate_network")
        down = sum(DOWNGRADE[d.judgement] for d in doms.values())
        return _Direct(row.comparison, pair, float(row.se), tuple(doms[d] for d in DIRECT_DOMAINS),
                       rating_after(o["start"].level, down))


def _path(direct: dict[frozenset[str], _Direct], a: str, b: str) -> list[frozenset[str]] | None:
    """Dominant indirect path from a to b avoiding the direct edge: first-order loops first
    (fewest edges), then the smallest summed variance (Dijkstra on (edges, variance))."""
    graph: dict[str, list[tuple[str, float, frozenset[str]]]] = {}
    for pair, d in direct.items():
        x, y = sorted(pair)
        graph.setdefault(x, []).append((y, d.se ** 2, pair))
        graph.setdefault(y, []).append((x, d.se ** 2, pair))
    skip = frozenset((a, b))
    # (edges so far, summed variance, node, path): popped fewest edges first, then least variance
    heap: list[tuple[int, float, str, tuple[frozenset[str], ...]]] = [(0, 0.0, a, ())]
    seen: set[str] = set()
    while heap:
        hops, var, node, edges = heapq.heappop(heap)
        if node == b:
            return list(edges)
        if node in seen:
            continue
        seen.add(node)
        for nxt, v, pair in sorted(graph.get(node, ()), key=lambda e: e[0]):
            if pair != skip and nxt not in seen:
                heapq.heappush(heap, (hops + 1, var + v, nxt, edges + (pair,)))
    return None


def _indirect(inp: _Inputs, c, flags) -> tuple[str | None, DomainJudgement, list[str], _Direct | None]:
    """(indirect rating, intransitivity judgement, steps, weakest edge) of comparison ``c``."""
    edges = _path(inp.direct, c.treatment1, c.treatment2)
    level, texts = (flags or (1, ()))
    judged = _FLAG_DOWNGRADE.get(int(level), NO) if texts else NO
    intrans = DomainJudgement("intransitivity", judged, judged, "intransitivity flags",
                              {"flags": list(texts), "estimate": "indirect"}, note="; ".join(texts))
    if not edges:
        return None, intrans, ["no indirect path"], None
    on_path = [inp.direct[e] for e in edges]
    weakest = max(on_path, key=lambda d: RATINGS.index(d.rating))
    base = lowest(*(d.rating for d in on_path))
    rating = rating_after(base, DOWNGRADE[judged])
    kind = "first-order loop" if len(edges) == 2 else f"path of {len(edges)} comparisons"
    via = ", ".join(f"{d.comparison} {d.rating}" for d in on_path)
    steps = [f"indirect estimate ({kind}: {via}): lowest {base}"
             + (f", intransitivity {judged}: {rating}" if judged != NO else "")]
    return rating, intrans, steps, weakest


def _imprecision(c, zone, threshold: str) -> DomainJudgement:
    if threshold == "mid":
        return imprecision(c.ci_low, c.ci_high, zone, effect=c.effect)
    return null_imprecision(c.ci_low, c.ci_high, zone)


def _incoherence(c, p_thresholds) -> DomainJudgement:
    if c.evidence != "mixed":
        return DomainJudgement("incoherence", NOT_APPLICABLE, NOT_APPLICABLE, "side-splitting p",
                               {"evidence": c.evidence}, note=f"{c.evidence} evidence only")
    p = c.difference_pvalue
    if not math.isfinite(p):
        return DomainJudgement("incoherence", NOT_ASSESSABLE, NOT_ASSESSABLE, "side-splitting p", {"evidence": "mixed"})
    out = pvalue_band(p, p_thresholds)
    return DomainJudgement("incoherence", out, out, "side-splitting p",
                           {"evidence": "mixed", "difference_pvalue": p, "p_thresholds": tuple(p_thresholds)})


def _rate_one(inp: _Inputs, c, flags, caps, override) -> CertaintyRating:
    o = inp.opts
    d = inp.direct.get(frozenset((c.treatment1, c.treatment2)))
    steps = []
    if d is not None:
        steps.append(f"direct estimate ({c.comparison}): {d.rating}")
    skip = d is not None and d.rating == "High" and c.prop_direct >= 0.5
    ind_rating: str | None = None
    intrans: DomainJudgement | None = None
    ind_steps: list[str] = []
    weakest: _Direct | None = None
    if c.evidence in ("indirect", "mixed") and not skip:
        ind_rating, intrans, ind_steps, weakest = _indirect(inp, c, flags)
        steps += ind_steps
    elif skip:
        steps.append("indirect estimate not rated: the direct estimate is High and gives at least half of the "
                     "network estimate (Brignardello-Petersen 2018)")
    if intrans is None:
        intrans = DomainJudgement("intransitivity", NOT_APPLICABLE, NOT_APPLICABLE, "intransitivity flags",
                                  {"estimate": "indirect"}, note="no indirect estimate rated")
    candidates = [r for r in (d.rating if d else None, ind_rating) if r]
    base = RATINGS[min(RATINGS.index(r) for r in candidates)] if candidates else o["start"].level
    if d is not None and ind_rating:
        steps.append(f"network estimate: the higher of direct and indirect certainty, {base}")
    incoh, impr = _incoherence(c, o["p_thresholds"]), _imprecision(c, inp.zone, o["imprecision_threshold"])
    for name, (judgement, reason) in o["overrides"].get(c.comparison, {}).items():
        if name == "incoherence":
            incoh = incoh.override(judgement, reason, caller="rate_network")
        elif name == "imprecision":
            impr = impr.override(judgement, reason, caller="rate_network")
        elif name == "intransitivity":
            intrans = intrans.override(judgement, reason, caller="rate_network")
    uncapped = rating_after(base, DOWNGRADE[incoh.judgement] + DOWNGRADE[impr.judgement])
    steps.append(f"incoherence {incoh.judgement}, imprecision {impr.judgement}: {uncapped}")
    if d is not None:
        direct_doms = d.domains
    elif weakest is not None:     # indirect only: the lowest-rated direct comparison on the path
        scope = f"{weakest.comparison} (the lowest-rated direct comparison on the indirect path)"
        direct_doms = tuple(_renamed(x, x.domain, scope) for x in weakest.domains)
    else:
        direct_doms = tuple(DomainJudgement(n, NOT_ASSESSABLE, NOT_ASSESSABLE, "no direct evidence", {})
                            for n in DIRECT_DOMAINS)
    domains = direct_doms + (intrans, incoh, impr)
    rating, algorithm, reason = overall_override(uncapped, caps, override)
    missing = tuple(x.domain for x in domains if x.judgement == NOT_ASSESSABLE)
    down = RATINGS.index(uncapped) - RATINGS.index(o["start"].level)
    return CertaintyRating(c.comparison, c.treatment1, c.treatment2, c.evidence, float(c.effect), float(c.ci_low),
                           float(c.ci_high), domains, rating, algorithm, max(down, 0), reason, c,
                           provisional=bool(missing), not_assessed=missing, start=o["start"], caps=tuple(caps),
                           layer=o["start"].design, framework="grade_nma", uncapped=uncapped, steps=tuple(steps))


def grade_ratings(ev, zone, opts: dict) -> tuple[CertaintyRating, ...]:
    """GRADE-for-NMA ratings of every comparison of ``ev`` (a NetworkEvidence with ``direct``
    and ``study_rows``). ``opts``: rob / indirectness levels and rules, reporting, overrides,
    rating_overrides, start, flags, caps, p_thresholds, imprecision_threshold (prepared by
    :func:`~netstrata.certainty.network.rate_network`)."""
    inp = _Inputs(ev, zone, opts)
    return tuple(_rate_one(inp, c, opts["flags"].get(c.comparison), tuple(opts["caps"].get(c.comparison, ())),
                           opts["rating_overrides"].get(c.comparison))
                 for c in ev.comparisons)
