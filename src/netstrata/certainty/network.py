"""Certainty of every comparison of a network: ``rate_network`` and its adapter from the NMA layer.

:func:`network_evidence` reads a :class:`~netstrata.nma.NetworkResult` once (node splitting for
direct / indirect / network estimates and prediction intervals, the study-level contribution
matrix, the design-by-treatment test) into a frozen :class:`NetworkEvidence`; :func:`rate_network`
applies the CINeMA rules of :mod:`netstrata.certainty.rules` to each comparison.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import permutations
from typing import TypeVar

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .._summary import Summary
from .._validate import check_option
from ..errors import DataError, ParameterError, Problem, StatisticalWarning
from ..nma.contrib import contribution_frame
from .grade_nma import GRADE_DOMAINS, grade_ratings
from .judgement import DOMAINS, RATINGS, not_assessed_text
from .minimal_context import minimally_contextualised
from .rating import CertaintyRating, ComparisonEvidence, critical_cap, rate_comparison
from .rules import AGGREGATION_RULES, DEFAULT_P_THRESHOLDS, LIMIT_RULES, REPORTING_BIAS
from .start import COMPARATIVE_LAYERS, StartLevel, start_level
from .studies import study_levels
from .zone import MIDZone, mid_zone

_V = TypeVar("_V")

__all__ = ["NetworkEvidence", "CertaintyTable", "network_evidence", "rate_network", "single_study_evidence",
           "PI_DEFINITION"]

FRAMEWORKS = ("cinema", "grade_nma")
FRAMEWORK_DOMAINS = {"cinema": DOMAINS, "grade_nma": GRADE_DOMAINS}
_EVIDENCE_OF_SPLIT = {"direct and indirect evidence": "mixed", "no direct evidence": "indirect",
                      "no indirect evidence": "direct"}
MODELS = ("common", "random")


@dataclass(frozen=True, slots=True)
class NetworkEvidence:
    """Everything the certainty rules read from one network fit.

    ``contributions``: comparison × study shares (rows named as ``comparisons``, each summing to
    1); ``dbt_pvalue``: comparison -> p of the global design-by-treatment test of its
    (sub-)network, NaN when the network has no loops.
    """

    comparisons: tuple[ComparisonEvidence, ...]
    contributions: pd.DataFrame
    dbt_pvalue: Mapping[str, float]
    model: str
    level: float
    source: str = ""
    #: one study only: its heterogeneity is "not applicable" (see :func:`single_study_evidence`)
    single_study: bool = False
    #: direct evidence per directly compared pair (GRADE for NMA rates it first): comparison,
    #: treatment1, treatment2, k, effect, se, tau2, i2 (percent)
    direct: pd.DataFrame | None = field(default=None, repr=False)
    #: study comparisons of the network: study, treatment1, treatment2, comparison, weight (1/se²)
    study_rows: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"NetworkEvidence(comparisons={len(self.comparisons)}, studies={self.contributions.shape[1]}, "
                f"model={self.model!r})")


def _dbt_pvalues(fit, model: str) -> dict[str, float]:
    """Design-by-treatment p per treatment (its sub-network's test): random effects use netmeta's
    Q.inc.random (full interaction model with tau.within), common effects Q between designs."""
    decomp = fit.decomp_design()
    parts = (decomp,) if fit.is_connected else decomp
    out: dict[str, float] = {}
    for comp, d in zip(fit.components, parts):
        p = math.nan
        if d is not None:
            tab = d.q_inc_random.iloc[0] if model == "random" else d.q_decomp.loc["Between designs"]
            p = float(tab["pvalue"]) if tab["df"] > 0 else math.nan
        out |= {t: p for t in comp}
    return out


def _contribution_rows(matrix: pd.DataFrame, treatments) -> dict[frozenset, str]:
    names = {f"{a}:{b}": frozenset((a, b)) for a, b in permutations(treatments, 2)}
    return {names[r]: r for r in matrix.index if r in names}


def network_evidence(fit, model: str = "random", *, contribution_method: str = "shortestpath") -> NetworkEvidence:
    """Collect the inputs of the certainty rules from a ``NetworkResult``.

    Uses ``fit.split(model)`` (the node-split table, netmeta ``netsplit``, back-calculation), the study-level
    contribution matrix of ``netstrata.nma.contrib.contributions`` and ``fit.decomp_design()``.
    Comparisons across sub-networks are not estimable and are left out.
    """

    model = check_option(model, name="model", allowed=MODELS, caller="network_evidence")
    table = fit.split(model)
    contrib = contribution_frame(fit, model, "study", contribution_method)
    rows = _contribution_rows(contrib, fit.treatments)
    dbt_by_treatment = _dbt_pvalues(fit, model)
    comps, labels, dbt = [], [], {}
    for r in table.itertuples(index=False):
        if r.evidence not in _EVIDENCE_OF_SPLIT:
            continue
        comps.append(ComparisonEvidence(
            r.comparison, r.treatment1, r.treatment2, _EVIDENCE_OF_SPLIT[r.evidence], r.network_effect,
            r.network_ci_low, r.network_ci_high, r.pi_low, r.pi_high, r.direct_ci_low, r.direct_ci_high,
            r.indirect_ci_low, r.indirect_ci_high, int(r.k), r.prop, r.difference_pvalue))
        labels.append(rows[frozenset((r.treatment1, r.treatment2))])
        dbt[r.comparison] = dbt_by_treatment[r.treatment1]
    shares = contrib.loc[labels].set_axis([c.comparison for c in comps])
    source = f"netstrata.network ({fit.method}, {model} effects); contributions: {contribution_method}"
    direct = table[table["k"] > 0]
    direct = pd.DataFrame({"comparison": direct["comparison"], "treatment1": direct["treatment1"],
                           "treatment2": direct["treatment2"], "k": direct["k"].astype(int),
                           "effect": direct["direct_effect"], "se": direct["direct_se"],
                           "tau2": direct["direct_tau2"], "i2": direct["direct_i2"]}).reset_index(drop=True)
    return NetworkEvidence(tuple(comps), shares, dbt, model, fit.level, source, direct=direct,
                           study_rows=_study_rows(fit.rows))


def _study_rows(rows: pd.DataFrame) -> pd.DataFrame:
    t1, t2 = rows["treat1"].astype(str), rows["treat2"].astype(str)
    return pd.DataFrame({"study": rows["study"].astype(str).to_numpy(), "treatment1": t1.to_numpy(),
                         "treatment2": t2.to_numpy(),
                         "weight": (1.0 / rows["se"].to_numpy(float) ** 2)})


def single_study_evidence(study: str, comparisons, *, level: float = 0.95) -> NetworkEvidence:
    """Inputs of the certainty rules for a layer of one study (no network fit): each of its
    comparisons is direct evidence from that study alone (contribution 1), estimate ± z·se.

    ``comparisons``: iterable of ``(treatment1, treatment2, effect, se)`` on the analysis scale.
    """
    z = float(ndtri(0.5 + level / 2))
    comps, comparisons = [], list(comparisons)
    for t1, t2, effect, se in comparisons:
        e, s = float(effect), float(se)
        comps.append(ComparisonEvidence(f"{t1}:{t2}", str(t1), str(t2), "direct", e, e - z * s, e + z * s,
                                        direct_ci_low=e - z * s, direct_ci_high=e + z * s, k=1, prop_direct=1.0))
    names = [c.comparison for c in comps]
    shares = pd.DataFrame(1.0, index=names, columns=[str(study)])
    direct = pd.DataFrame({"comparison": names, "treatment1": [c.treatment1 for c in comps],
                           "treatment2": [c.treatment2 for c in comps], "k": 1,
                           "effect": [c.effect for c in comps], "se": [float(c[3]) for c in comparisons],
                           "tau2": math.nan, "i2": math.nan})
    rows = pd.DataFrame({"study": str(study), "treatment1": direct["treatment1"], "treatment2": direct["treatment2"],
                         "weight": 1.0 / direct["se"] ** 2})
    return NetworkEvidence(tuple(comps), shares, {n: math.nan for n in names}, "random", level,
                           f"one study ({study}): its own results", single_study=True, direct=direct,
                           study_rows=rows)


# ------------------------------------------------------------------------------------------ result
@dataclass(frozen=True, slots=True)
class CertaintyTable:
    """Certainty ratings of all comparisons of one network (the report's certainty table)."""

    ratings: tuple[CertaintyRating, ...]
    zone: MIDZone
    settings: Mapping = field(default_factory=dict)
    evidence: NetworkEvidence | None = field(default=None, repr=False)
    #: conclusions by the minimally contextualised framework against ``settings["reference"]``
    #: (:func:`~netstrata.certainty.minimal_context.minimally_contextualised`), when computed
    categories: pd.DataFrame | None = field(default=None, repr=False)

    def with_categories(self, reference: str, small_values: str, labels=None) -> "CertaintyTable":
        """This table with its minimally contextualised conclusions against ``reference``."""
        from dataclasses import replace
        cats = minimally_contextualised(self, reference=reference, small_values=small_values, labels=labels)
        return replace(self, categories=cats, settings={**self.settings, "reference": reference,
                                                        "small_values": small_values})

    def __len__(self) -> int:
        return len(self.ratings)

    def __iter__(self):
        return iter(self.ratings)

    def __getitem__(self, comparison: str) -> CertaintyRating:
        return self.ratings[_resolve(comparison, [r.comparison for r in self.ratings], "CertaintyTable")]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_row() for r in self.ratings])

    def to_dict(self) -> dict:
        """Plain, JSON-ready record: settings, zone and every rating with its domain judgements,
        inputs, rules and overrides (NaN becomes None)."""
        lo, hi = self.zone.natural()
        return _plain({"settings": dict(self.settings),
                       "zone": {"low": self.zone.low, "high": self.zone.high, "natural_low": lo, "natural_high": hi,
                                "measure": self.zone.measure, "mid": self.zone.mid, "log_scale": self.zone.log_scale},
                       "provisional": self.provisional_count(),
                       "ratings": [{**{k: v for k, v in r.to_row().items() if k not in self.domains},
                                    "not_assessed": list(r.not_assessed),
                                    "override_reason": r.override_reason,
                                    "start": r.start.to_dict(), "caps": [c.to_dict() for c in r.caps],
                                    "footnotes": list(r.footnotes),
                                    "prediction_interval": _pi(r), "steps": list(r.steps),
                                    "domains": [{"domain": d.domain, "judgement": d.judgement, "algorithm": d.algorithm,
                                                 "rule": d.rule, "note": d.note, "override_reason": d.override_reason,
                                                 "inputs": dict(d.inputs)} for d in r.domains]}
                                   for r in self.ratings],
                       "categories": None if self.categories is None else self.categories.to_dict("records")})

    @property
    def framework(self) -> str:
        return self.settings.get("framework", "cinema")

    @property
    def domains(self) -> tuple[str, ...]:
        """The domains of the framework (CINeMA's six, or GRADE for NMA's seven)."""
        return FRAMEWORK_DOMAINS[self.framework]

    def counts(self) -> dict[str, int]:
        return {k: sum(r.rating == k for r in self.ratings) for k in RATINGS}

    def provisional_count(self) -> int:
        """Number of ratings that are provisional (a domain not assessed)."""
        return sum(r.provisional for r in self.ratings)

    def summary(self) -> Summary:
        cols = ["comparison", "evidence", "effect", "ci_low", "ci_high", "start_level", *self.domains, "rating",
                "provisional", "overrides"]
        frame = self.to_frame()
        # the rating stays a plain level (a badge in reports); its qualifier sits beside it
        frame["provisional"] = [not_assessed_text(r.not_assessed) for r in self.ratings]
        frame = frame[cols].set_index("comparison")
        lo, hi = self.zone.natural()
        s = self.settings
        notes: tuple[str, ...]
        notes = (f"zone of equivalence {lo:.4g} to {hi:.4g} ({self.zone.measure}{', ratio scale' if self.zone.log_scale else ''}); "
                 f"within-study bias rule: {s.get('rob_rule')}; indirectness rule: {s.get('indirectness_rule')}",
                 ("overall rating: GRADE for NMA (direct, indirect and network estimates; Puhan 2014, "
                  "Brignardello-Petersen 2018)" if self.framework == "grade_nma" else
                  "overall rating: netstrata's default mapping (the start level by design, minus one level per "
                  "'some concerns' and two per 'major concerns', floor Very low); CINeMA leaves this step to the "
                  "reviewers"),
                 f"start level: {s.get('start', {}).get('level', 'High')} ({s.get('start', {}).get('reason', '')})",
                 "effects on the analysis scale" + (" (log)" if self.zone.log_scale else ""))
        if s.get("unassessed"):
            notes += (f"NOT ASSESSED: {', '.join(s['unassessed'])} (no study-level judgements given); "
                      "ratings may be too high",)
        if self.provisional_count():
            notes += (f"{self.provisional_count()} of {len(self.ratings)} ratings are provisional: a domain "
                      "that could not be assessed does not downgrade, so the rating is an upper bound",)
        return Summary("Confidence in network meta-analysis results (CINeMA domains)", frame, notes)

    def __repr__(self) -> str:
        c = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return (f"CertaintyTable(comparisons={len(self.ratings)}, {c}, provisional={self.provisional_count()}, "
                f"rob_rule={self.settings.get('rob_rule')!r})")


PI_DEFINITION = ("prediction interval as netmeta's lower.predict / upper.predict: network estimate ± "
                 "t(df.Q − 1) · sqrt(se² + τ²), df.Q = comparisons − (treatments − 1) of the (sub-)network; "
                 "none with fewer than two degrees of freedom (Higgins, Thompson & Spiegelhalter 2009, "
                 "doi:10.1111/j.1467-985X.2008.00552.x)")


def _pi(r) -> dict:
    """The network estimate's prediction interval (analysis scale) and which domain judged it:
    CINeMA's heterogeneity; GRADE for NMA judges each direct estimate's inconsistency instead, so
    there it is shown, not judged."""
    ev = r.inputs
    low, high = (math.nan, math.nan) if ev is None else (ev.pi_low, ev.pi_high)
    return {"low": low, "high": high, "used_by": "heterogeneity" if r.framework == "cinema" else None}


def _plain(x):
    """Python scalars, lists and str-keyed dicts only; NaN -> None."""
    t = type(x)
    if t is str or t is bool or t is int or x is None:       # the common exact types first, as
        return x                                              # the general branches below
    if t is float:
        return x if -math.inf < x < math.inf else None
    if t is dict:           # a str or a finite float is its own conversion (no call)
        return {k if type(k) is str else str(k):
                v if type(v) is str or (type(v) is float and -math.inf < v < math.inf) else _plain(v)
                for k, v in x.items()}
    if t is list or t is tuple:
        return [v if type(v) is str or (type(v) is float and -math.inf < v < math.inf) else _plain(v) for v in x]
    return _plain_general(x)


def _plain_general(x):
    """:func:`_plain` of anything that is not an exact str, bool, int, float, dict, list or tuple."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    return x if x is None or isinstance(x, str) else str(x)


# ------------------------------------------------------------------------------------------ boundary
def _resolve(name, comparisons, caller: str) -> int:
    """Index of comparison ``name`` ('A:B' or 'B:A'). Node names may hold colons themselves
    ('RFN_FACET:medial_branch'), so 'B:A' is tried at every colon of ``name``; a reversal that
    fits two comparisons is refused as ambiguous."""
    comparisons = [str(c) for c in comparisons]
    name = str(name)
    if name in comparisons:
        return comparisons.index(name)
    cuts = [i for i, ch in enumerate(name) if ch == ":"]
    hits = sorted({comparisons.index(r) for r in (f"{name[i + 1:]}:{name[:i]}" for i in cuts)
                   if r in comparisons})
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise ParameterError(f"{caller}: comparison {name!r} is ambiguous: it reverses "
                             f"{[comparisons[i] for i in hits]}; give it as one of these.")
    raise ParameterError(f"{caller}: unknown comparison {name!r}; comparisons are {comparisons}.")


def _per_comparison(mapping: Mapping[str, _V] | None, comparisons: list[str], name: str) -> dict[str, _V]:
    out: dict[str, _V] = {}
    for key, value in dict(mapping or {}).items():
        out[comparisons[_resolve(key, comparisons, f"the '{name}' parameter of rate_network")]] = value
    return out


def _levels(values, name: str, needed: set[str]):
    """(levels Series, reasons dict) with every contributing study present."""
    if values is None:
        return None, None
    levels = study_levels(values, name=name)
    missing = sorted(needed - set(levels.index))
    if missing:
        raise DataError([Problem(f"no {name} level for a study that contributes to the network", study=s,
                                 column=name, expected="1/2/3 (low/some/high)") for s in missing])
    reasons = None
    if isinstance(values, pd.DataFrame) and "reasons" in values.columns:
        over = values["override_reason"] if "override_reason" in values.columns else [""] * len(values)
        reasons = {str(s): " | ".join(x for x in (r, o and f"override: {o}") if x)
                   for s, r, o in zip(values["study"], values["reasons"], over)}
    return levels, reasons


def _reporting(value, comparisons) -> dict[str, tuple[str | None, str]]:
    def one(v, where):
        v, note = (v if isinstance(v, (tuple, list)) else (v, ""))
        if v is None:
            return None, note
        return check_option(v, name=where, allowed=tuple(REPORTING_BIAS), caller="rate_network"), note
    if value is None or isinstance(value, (str, tuple)):
        return {c: one(value, "reporting_bias") for c in comparisons}
    given = _per_comparison(value, comparisons, "reporting_bias")
    return {c: one(given.get(c), f"reporting_bias[{c}]") for c in comparisons}


def _check_overrides(overrides, comparisons, domains=DOMAINS) -> dict[str, dict]:
    out = _per_comparison(overrides, comparisons, "overrides")
    for c, doms in out.items():
        if not isinstance(doms, Mapping) or set(doms) - set(domains):
            raise ParameterError(f"The 'overrides' parameter of rate_network must map comparison -> "
                                 f"{{domain: (judgement, reason)}} with domains in {list(domains)}. Got {doms!r} for {c!r}.")
        for d, spec in doms.items():
            if not (isinstance(spec, (tuple, list)) and len(spec) == 2):
                raise ParameterError(f"The 'overrides' parameter of rate_network: {c}/{d} must be a "
                                     f"(judgement, reason) pair. Got {spec!r} instead.")
    return out


def rate_network(fit, *, measure: str, mid=None, zone=None, rob=None, indirectness=None,
                 model: str = "random", rob_rule: str = "majority", indirectness_rule: str = "majority",
                 reporting_bias=None, p_thresholds=DEFAULT_P_THRESHOLDS,
                 contribution_method: str = "shortestpath", overrides=None,
                 rating_overrides=None, limits: str = "zone",
                 difference_p_gate: float | None = None, start=None, intransitivity=None, caps=None,
                 rob_critical=None, framework: str = "cinema",
                 imprecision_threshold: str = "null") -> CertaintyTable:
    """Rate the confidence in every network estimate with CINeMA's six domains.

    Parameters
    ----------
    fit : NetworkResult or NetworkEvidence
        A network meta-analysis (``netstrata.network``) or inputs built by :func:`network_evidence`.
    measure : str
        Effect measure of the analysis (``"OR"``, ``"RR"``, ``"MD"``, ...), which fixes the scale
        of ``mid``.
    mid : float
        Minimal important difference (a ratio for ratio measures); or give ``zone``.
    zone : (low, high), optional
        Explicit zone of equivalence on the analysis scale.
    rob, indirectness : study levels
        Mapping study -> 1/2/3 (or L/U/H, RoB 2 / ROBINS-I words), a table such as
        :func:`~netstrata.certainty.derive_indirectness` returns, or RoB records (for tables holding
        several results per study, pick one with ``study_levels(table, result=...)``). Without
        them the domain is "not assessable" and a ``StatisticalWarning`` says so.
    rob_rule, indirectness_rule : {"majority", "average", "highest"}, default="majority"
    reporting_bias : {"undetected", "suspected"} or mapping comparison -> value, optional
        Recorded judgement; default "undetected" with a note.
    p_thresholds : (lower, upper), default=(0.01, 0.10)
        Bands of the design-by-treatment p for indirect-only comparisons.
    overrides : mapping comparison -> {domain: (judgement, reason)}
    rating_overrides : mapping comparison -> (rating, reason)
    limits : {"zone", "cinema_app"}, default="zone"
        Limits counted by imprecision and heterogeneity: the zone of equivalence (CINeMA paper
        and documentation, design/domain.md) or, to reproduce the CINeMA 2.0 web application, the
        null and the MID on the side opposite the point estimate.
    difference_p_gate : float, optional
        Mixed comparisons whose side-splitting p is at least this have no incoherence concerns
        (the web application uses 0.10); off by default.
    start : StartLevel or {"randomised", "nonrandomised", "comparative"}, optional
        Where every rating starts (GRADE, :func:`~netstrata.certainty.start.start_level`); default
        randomised evidence, High. A layer name uses the traditional start (non-randomised: Low).
    intransitivity : mapping comparison -> (level, flags), optional
        Intransitivity flags (:func:`~netstrata.certainty.intransitivity.intransitivity_flags`)
        that raise the indirectness judgement to ``level`` (2 some, 3 major concerns).
    caps : mapping comparison -> iterable of Cap, optional
        Upper bounds on the ratings with their rule (e.g. a lumped analysis capped at the
        stratified ratings of the same comparison).
    rob_critical : iterable of study, optional
        Studies at critical risk of bias (ROBINS-I): when they give at least half of a
        comparison's evidence its rating is at most Very low (GRADE 18).
    framework : {"cinema", "grade_nma"}, default="cinema"
        CINeMA's six domains, or GRADE's approach to NMA (direct, indirect and network estimates:
        :mod:`netstrata.certainty.grade_nma`), from the same inputs.
    imprecision_threshold : {"null", "mid"}, default="null"
        GRADE NMA only: imprecision against the null (minimally contextualised framework) or
        against the MID zone (partially contextualised).

    Returns
    -------
    CertaintyTable

    Notes
    -----
    Deliberate differences from the CINeMA 2.0 web application: indirect-only comparisons in a
    network without loops are "not assessable" (the application rates them "major concerns"),
    and the design-by-treatment bands are 0.01 / 0.10 as documented (the application's code uses
    0.05 / 0.10; pass ``p_thresholds=(0.05, 0.10)``).

    References
    ----------
    Nikolakopoulou A, et al. PLoS Med 2020;17:e1003082. doi:10.1371/journal.pmed.1003082
    """
    model = check_option(model, name="model", allowed=MODELS, caller="rate_network")
    framework = check_option(framework, name="framework", allowed=FRAMEWORKS, caller="rate_network")
    imprecision_threshold = check_option(imprecision_threshold, name="imprecision_threshold",
                                         allowed=("null", "mid"), caller="rate_network")
    rules = tuple(AGGREGATION_RULES)
    rob_rule = check_option(rob_rule, name="rob_rule", allowed=rules, caller="rate_network")
    indirectness_rule = check_option(indirectness_rule, name="indirectness_rule", allowed=rules, caller="rate_network")
    limits = check_option(limits, name="limits", allowed=tuple(LIMIT_RULES), caller="rate_network")
    if difference_p_gate is not None and not 0 < float(difference_p_gate) <= 1:
        raise ParameterError(f"The 'difference_p_gate' parameter of rate_network must be in (0, 1]. "
                             f"Got {difference_p_gate!r} instead.")
    z = mid_zone(mid, measure, zone=zone)
    lower, upper = (float(p) for p in p_thresholds)
    if not 0 <= lower <= upper <= 1:
        raise ParameterError(f"The 'p_thresholds' parameter of rate_network must be (lower, upper) with "
                             f"0 <= lower <= upper <= 1. Got {p_thresholds!r} instead.")
    ev = fit if isinstance(fit, NetworkEvidence) else network_evidence(fit, model, contribution_method=contribution_method)
    names = [c.comparison for c in ev.comparisons]
    contributing = set(ev.contributions.columns[(ev.contributions > 0).any(axis=0)].astype(str))
    rob_levels, _ = _levels(rob, "rob", contributing)
    ind_levels, ind_reasons = _levels(indirectness, "indirectness", contributing)
    reporting = _reporting(reporting_bias, names)
    dom_over = _check_overrides(overrides, names, FRAMEWORK_DOMAINS[framework])
    rat_over = _per_comparison(rating_overrides, names, "rating_overrides")
    shares = ev.contributions.set_axis(ev.contributions.columns.astype(str), axis=1)
    begin = _start(start)
    flags = _per_comparison(intransitivity, names, "intransitivity")
    bounds = {c: tuple(v) for c, v in _per_comparison(caps, names, "caps").items()}
    critical = None if rob_critical is None else pd.Series(sorted(map(str, rob_critical)), dtype=object)
    if framework == "grade_nma":
        if ev.direct is None or ev.study_rows is None:
            raise ParameterError("rate_network(framework='grade_nma') rates direct evidence first: give a "
                                 "NetworkResult, or NetworkEvidence from network_evidence() / single_study_evidence().")
        bounds = {c: bounds.get(c, ()) + critical_cap(critical, shares.loc[c]) for c in names}
        opts = {"rob": rob_levels, "indirectness": ind_levels, "rob_rule": rob_rule,
                "indirectness_rule": indirectness_rule, "indirectness_reasons": ind_reasons,
                "reporting": reporting, "overrides": dom_over, "rating_overrides": rat_over, "start": begin,
                "flags": flags, "caps": bounds, "p_thresholds": (lower, upper),
                "imprecision_threshold": imprecision_threshold}
        ratings = grade_ratings(ev, z, opts)
    else:
        ratings = tuple(
            rate_comparison(c, shares=shares.loc[c.comparison], zone=z, rob=rob_levels, indirectness=ind_levels,
                            rob_rule=rob_rule, indirectness_rule=indirectness_rule,
                            reporting=reporting[c.comparison][0], reporting_note=reporting[c.comparison][1],
                            dbt_pvalue=ev.dbt_pvalue.get(c.comparison, np.nan), p_thresholds=(lower, upper),
                            indirectness_reasons=ind_reasons, overrides=dom_over.get(c.comparison),
                            rating_override=rat_over.get(c.comparison), limits=limits,
                            difference_p_gate=difference_p_gate, start=begin,
                            intransitivity=flags.get(c.comparison), caps=bounds.get(c.comparison, ()),
                            layer=begin.design, single_study=ev.single_study, rob_critical=critical)
            for c in ev.comparisons)
    unassessed = [n for n, v in (("within-study bias", rob), ("indirectness", indirectness)) if v is None]
    if unassessed:
        warnings.warn(f"{' and '.join(unassessed)} not assessed (no study-level levels given): these domains are "
                      "'not assessable' and do not downgrade, so ratings may be too high; pass rob= / "
                      "indirectness= (see derive_indirectness)", StatisticalWarning, stacklevel=2)
    settings = {"framework": framework, "measure": z.measure, "mid": z.mid, "model": ev.model, "rob_rule": rob_rule,
                "unassessed": tuple(unassessed),
                "indirectness_rule": indirectness_rule, "p_thresholds": (lower, upper),
                "contribution_method": contribution_method, "limits": limits,
                "difference_p_gate": difference_p_gate, "source": ev.source, "start": begin.to_dict(),
                "layer": begin.design, "prediction_interval": PI_DEFINITION}
    if framework == "grade_nma":
        settings["imprecision_threshold"] = imprecision_threshold
    return CertaintyTable(ratings, z, settings, ev)


def _start(start) -> StartLevel:
    if start is None:
        return start_level("randomised")
    if isinstance(start, StartLevel):
        return start
    return start_level(check_option(start, name="start", allowed=COMPARATIVE_LAYERS, caller="rate_network"))
