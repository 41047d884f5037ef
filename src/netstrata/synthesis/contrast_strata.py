"""Stratified versus lumped, per comparison: the letter's central question in one result.

For every direct comparison (treat1 versus treat2 of one outcome) of the *lumped* analysis, the
same study results are pooled three ways with :func:`netstrata.ma.subgroups` (metafor's
``rma`` per subgroup, Cochran's Q between subgroup estimates):

* by **stratum** (the plan's stratification variables, e.g. region x diagnosis): one diamond per
  stratum, the test for subgroup differences (Q between, df, p) and I² between strata;
* by **technique** (the node of each study's treat1 arms at the next finer node level of the
  pack, e.g. approach and energy within a procedure family) and by **technical-fidelity tier**,
  when the studies differ in them;
* **lumped**: all the studies in one random-effects model (``netstrata.pairwise``), next to the
  lumped network estimate the unstratified analysis reports.

Each study row carries its stratum, technique and fidelity tier, so a forest plot can say where
every study comes from (the BMJ NMA's eFig 2 problem).

I² between subgroups is Higgins' I² of the Q between statistic, ``max(0, (Q - df) / Q)``
(Borenstein & Higgins 2013; RevMan's "test for subgroup differences").

References
----------
Borenstein M, Higgins JPT. Meta-analysis and subgroups. Prev Sci 2013;14:134-43.
doi:10.1007/s11121-013-0377-7
Richardson M, Garner P, Donegan S. Interpretation of subgroup analyses in systematic reviews: a
tutorial. Clin Epidemiol Glob Health 2019;7:192-8. doi:10.1016/j.cegh.2018.05.005
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import StatisticalWarning
from ..ma import pairwise, subgroups
from .jsontext import jsonable
from .labels import node_label

__all__ = [
    "Diamond",
    "StrataContrast",
    "StudyRow",
    "SubgroupTest",
    "contrast_strata",
    "contrast_text",
    "finer_level",
    "i2_between",
]

NAN = float("nan")


def i2_between(q: float, df: int) -> float:
    """Higgins' I² (percent) of a test for subgroup differences: ``100 * max(0, (Q - df) / Q)``."""
    if not (df >= 1 and math.isfinite(q)) or q <= 0:
        return NAN if not math.isfinite(q) or df < 1 else 0.0
    return 100.0 * max(0.0, (q - df) / q)


@dataclass(frozen=True, slots=True)
class StudyRow:
    """One study's result for the comparison (analysis scale), with where it comes from."""

    study: str
    stratum: str
    values: tuple[tuple[str, str], ...]
    technique: str
    technique_label: str
    fidelity: str
    effect: float
    se: float
    weight: float = NAN          # percent of the study's stratum (random-effects weights)


@dataclass(frozen=True, slots=True)
class Diamond:
    """A pooled estimate of one subgroup (analysis scale)."""

    group: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float = NAN
    pi_high: float = NAN
    tau2: float = NAN
    i2: float = NAN


@dataclass(frozen=True, slots=True)
class SubgroupTest:
    """Diamonds of one grouping and the test for subgroup differences (separate τ² per group)."""

    by: str
    diamonds: tuple[Diamond, ...]
    q_between: float = NAN
    df: int = 0
    pvalue: float = NAN
    i2_between: float = NAN

    @property
    def testable(self) -> bool:
        return self.df >= 1 and math.isfinite(self.q_between)


@dataclass(frozen=True, slots=True, eq=False)
class StrataContrast:
    """treat1 versus treat2 of one outcome: stratified and lumped side by side."""

    outcome: str
    treat1: str
    treat2: str
    measure: str
    layer: str
    node_level: str
    small_values: str
    method: str
    studies: tuple[StudyRow, ...]
    by_stratum: SubgroupTest
    lumped: Diamond
    lumped_stratum: str
    lumped_network: Diamond | None = None
    by_technique: SubgroupTest | None = None
    by_fidelity: SubgroupTest | None = None
    technique_level: str | None = None

    @property
    def label(self) -> str:
        return f"{self.treat1} vs {self.treat2}"

    @property
    def n_strata(self) -> int:
        return len(self.by_stratum.diamonds)

    def to_dict(self) -> dict:
        out = {f: jsonable(getattr(self, f)) for f in self.__slots__}
        out["studies"] = [{**jsonable(s), "values": dict(s.values)} for s in self.studies]
        out["label"] = self.label
        return out

    def __repr__(self) -> str:
        t = self.by_stratum
        return (f"StrataContrast({self.outcome}: {self.label}, strata={self.n_strata}, k={self.lumped.k}, "
                f"Q_between={t.q_between:.3f}, df={t.df})")


# ----------------------------------------------------------------- inputs
def finer_level(pack, level: str | None) -> str | None:
    """The pack level just finer than ``level`` (its fields a strict superset), or None."""
    try:
        current = pack.level(level) if level else None
    except KeyError:
        return None
    fields = set(getattr(current, "fields", ()) or (getattr(current, "field", "family"),))
    for lv in pack.node_levels:
        if set(lv.fields) > fields:
            return lv.name
    return None


def _layer_rows(lay) -> pd.DataFrame:
    """study, treat1, treat2, effect, se of a layer (network rows or its single study result)."""
    cols = ["study", "treat1", "treat2", "effect", "se"]
    if lay.network is not None:
        return lay.network.rows[cols].copy()
    rows = [(c.studies[0], c.treat1, c.treat2, c.estimate, c.se) for c in lay.comparisons if c.source == "study"]
    return pd.DataFrame(rows, columns=cols)


def _arm_facts(review, level, finer, fidelity) -> tuple[dict, dict, dict]:
    """(study, node) -> technique code, technique label and fidelity tier of the node's arms."""
    pack = review.pack
    assign = review.node_map(level).assignment
    fine = review.node_map(finer).assignment if finer else {}
    n_fields = len(getattr(pack.level(level), "fields", ()) or ()) if level in pack.level_names else 0
    tiers = {}
    if fidelity is not None and len(fidelity.arms):
        tiers = {(s, a): str(t) for s, a, t in zip(fidelity.arms["study"], fidelity.arms["arm"], fidelity.arms["tier"])}
    tech: dict[tuple[str, str], set[str]] = {}
    tech_label: dict[tuple[str, str], set[str]] = {}
    tier: dict[tuple[str, str], set[str]] = {}
    for (study, arm), node in assign.items():
        key = (study, node)
        code = fine.get((study, arm))
        if code is not None and ":" in code:
            extra = code.split(":")[n_fields:] if n_fields else code.split(":")
            lv = pack.level(finer)
            sub = type("Extra", (), {"fields": tuple(lv.fields[n_fields:])})() if n_fields else lv
            tech.setdefault(key, set()).add(":".join(extra))
            text = node_label(pack, sub, ":".join(extra), short=True)
            tech_label.setdefault(key, set()).add("not reported" if set(extra) <= {"NR", "-"} else text)
        t = tiers.get((study, arm))
        if t is not None and t != "NA":
            tier.setdefault(key, set()).add(t)
    join = (lambda d: {k: " / ".join(sorted(v)) for k, v in d.items()})
    return join(tech), join(tech_label), join(tier)


def _diamond(group: str, fit) -> Diamond:
    return Diamond(str(group), int(fit.k), float(fit.estimate), float(fit.se), float(fit.ci_low), float(fit.ci_high),
                   float(fit.pi_low), float(fit.pi_high), float(fit.tau2), float(fit.i2))


def _grouped(by: str, y, v, groups, settings) -> SubgroupTest:
    """:func:`netstrata.ma.subgroups` over ``groups`` (one pairwise fit when there is one group)."""
    levels = list(dict.fromkeys(groups))
    with warnings.catch_warnings():
        # a one-study stratum's diamond is that study's result; the stratum's own notes say so
        warnings.simplefilter("ignore", StatisticalWarning)
        if len(levels) < 2:
            fit = pairwise(y, v, method=settings.pairwise, ci=settings.ci, level=settings.level)
            return SubgroupTest(by, (_diamond(levels[0], fit),))
        res = subgroups(y, v, pd.Categorical(groups, categories=levels), method=settings.pairwise,
                        ci=settings.ci, level=settings.level)
    diamonds = tuple(_diamond(lv, f) for lv, f in zip(res.levels, res.fits))
    return SubgroupTest(by, diamonds, float(res.q_between), int(res.q_between_df), float(res.q_between_pvalue),
                        i2_between(res.q_between, res.q_between_df))


def _weights(y, v, groups, settings) -> np.ndarray:
    """Percent random-effects weight of each study within its own group."""
    w = np.full(len(y), NAN)
    g = np.asarray(groups, dtype=object)
    for lv in dict.fromkeys(groups):
        idx = np.flatnonzero(g == lv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)   # as in _grouped: said in the stratum's notes
            fit = pairwise(y[idx], v[idx], method=settings.pairwise, ci=settings.ci, level=settings.level)
        w[idx] = np.asarray(fit.weights, dtype=float)
    return w


def _network_diamond(lay, a: str, b: str, lumped_name: str) -> Diamond | None:
    c = next((c for c in lay.comparisons if (c.treat1, c.treat2) == (a, b)), None)
    if c is None or c.source != "network":
        return None
    return Diamond(lumped_name, int(c.k), c.estimate, c.se, c.ci_low, c.ci_high, c.pi_low, c.pi_high, c.tau2, c.i2)


# ----------------------------------------------------------------- front door
def contrast_strata(review, split, lumped, settings, *, node_level: str | None, fidelity=None) -> tuple[StrataContrast, ...]:
    """Every direct comparison of each lumped analysis, stratified versus lumped (see the module
    docstring). ``split`` / ``lumped``: the run's StratumResults; ``settings``: ModelSettings.

    Returns an empty tuple when the plan has no stratification variables.
    """
    if not split:
        return ()
    level = node_level or review.plan.node_level or review.pack.default_node_level
    finer = finer_level(review.pack, level)
    tech, tech_label, tier = _arm_facts(review, level, finer, fidelity)
    out = []
    for whole in lumped:
        lay = whole.primary
        if lay is None or lay.layer == "single_arm" or not lay.comparisons:
            continue
        where = {s: res for res in split if res.stratum.outcome == whole.stratum.outcome
                 for l2 in res.layers if l2.layer == lay.layer for s in l2.studies}
        rows = _layer_rows(lay)
        spec = review.plan.outcome(whole.stratum.outcome)
        for c in lay.comparisons:
            if c.k < 1:
                continue
            out.append(_one(c, rows, where, lay, whole, spec, settings, level, finer, tech, tech_label, tier))
    return tuple(x for x in out if x is not None)


def _one(c, rows, where, lay, whole, spec, settings, level, finer, tech, tech_label, tier):
    a, b = c.treat1, c.treat2
    pair = rows[((rows["treat1"] == a) & (rows["treat2"] == b)) | ((rows["treat1"] == b) & (rows["treat2"] == a))]
    if not len(pair):
        return None
    sign = np.where(pair["treat1"].to_numpy() == a, 1.0, -1.0)
    y = sign * pair["effect"].to_numpy(float)
    v = pair["se"].to_numpy(float) ** 2
    studies = pair["study"].astype(str).tolist()
    strata = [where[s].name if s in where else whole.name for s in studies]
    order = np.lexsort((studies, strata))           # strata in name order, studies within
    y, v = y[order], v[order]
    studies, strata = [studies[i] for i in order], [strata[i] for i in order]
    t_codes = [tech.get((s, a), "") for s in studies]
    tiers = [tier.get((s, a), "") for s in studies]
    w = _weights(y, v, strata, settings)
    study_rows = tuple(StudyRow(s, st, where[s].stratum.values if s in where else (), tc,
                                tech_label.get((s, a), ""), tr, float(e), float(np.sqrt(var)), float(wi))
                       for s, st, tc, tr, e, var, wi in zip(studies, strata, t_codes, tiers, y, v, w))
    by_stratum = _grouped("stratum", y, v, strata, settings)
    lumped = _grouped("lumped", y, v, [whole.name] * len(y), settings).diamonds[0]
    by_tech = _optional_group("technique", y, v, t_codes, settings)
    by_tier = _optional_group("fidelity", y, v, tiers, settings)
    return StrataContrast(whole.stratum.outcome, a, b, c.measure, lay.layer, level, spec.small_values,
                          settings.pairwise, study_rows, by_stratum, lumped, whole.name,
                          _network_diamond(lay, a, b, whole.name), by_tech, by_tier, finer)


def _optional_group(by: str, y, v, groups, settings) -> SubgroupTest | None:
    """A grouping shown only when every study has a value and there are at least two values."""
    if any(g == "" for g in groups) or len(set(groups)) < 2:
        return None
    return _grouped(by, y, v, groups, settings)


# ----------------------------------------------------------------- text (CLI)
def contrast_text(contrasts, labels: dict | None = None, *, natural=None) -> list[str]:
    """The stratified-versus-lumped view as text lines (for the CLI): per comparison, each
    stratum's estimate, the lumped one and the test for subgroup differences.

    ``natural(measure, values)`` back-transforms (ratio measures); ``labels``: the glossary.
    """
    labels = labels or {}
    tl = (labels.get("treatments") or {})
    sl = (labels.get("strata") or {})
    name = (lambda d, k: (d.get(k) or {}).get("short", k))
    natural = natural or (lambda m, xs: xs)
    lines = []
    for x in sorted(contrasts, key=lambda x: (-x.n_strata, x.outcome, x.treat1, x.treat2)):
        lines.append(f"  {name(tl, x.treat1)} vs {name(tl, x.treat2)} "
                     f"({name(labels.get('outcomes') or {}, x.outcome)}, {x.measure}, {x.lumped.k} "
                     f"{'study' if x.lumped.k == 1 else 'studies'})")
        for d in x.by_stratum.diamonds:
            where = (sl.get(d.group) or {}).get("values", d.group)
            lines.append(f"      {where[:56]:<56} {_est(x.measure, d, natural)}  k={d.k}")
        lines.append(f"      {'LUMPED (all strata pooled)':<56} {_est(x.measure, x.lumped, natural)}  k={x.lumped.k}")
        t = x.by_stratum
        if t.testable:
            lines.append(f"      test for subgroup differences: Q = {t.q_between:.2f}, df = {t.df}, "
                         f"p = {_p(t.pvalue)}; I\u00b2 between strata = {t.i2_between:.0f}%")
        else:
            lines.append("      one stratum: no test for subgroup differences")
    return lines


def _est(measure, d: Diamond, natural) -> str:
    e, lo, hi = natural(measure, [d.estimate, d.ci_low, d.ci_high])
    return f"{e:6.2f} [{lo:.2f}, {hi:.2f}]"


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"
