"""Analyses of one stratum: per evidence layer, pairwise MA per direct comparison and a network MA.

Layers are never pooled silently: randomised, non-randomised and single-arm records are analysed
separately (``comparative`` pools the first two only in a sensitivity specification). The
*primary* layer of a stratum is the randomised one; a stratum without trials falls back to the
non-randomised layer, then to single-arm rates, and says so in ``evidence`` (issue 9). The plan's
``[evidence]`` section (:mod:`~netstrata.synthesis.evidence`) declares which layers a stratum
uses: records of other layers are not analysed (register reason ``layer_not_declared``) and the
fallback considers the declared layers only.

* one study in a layer: the study result (estimate ± z·se), ``status="single_study"``;
* two or more studies: ``netstrata.pairwise`` per direct comparison (k = 1 comparisons give the
  study result, ``source="study"``) and ``netstrata.network`` for the layer
  (``status="network"``); the estimate conclusions read is the network's (``source="network"``);
* single-arm rates: ``pooled_proportion`` (or ``proportion_glmm``) per treatment node.

A failed fit never stops the run: the layer gets ``status="failed"`` and the message in ``notes``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._dist import norm_ppf
from ..data.register import Exclusion
from ..errors import ANALYSIS_ERRORS
from ..ma import pairwise, pooled_proportion, proportion_glmm
from ..ma.layers import combine_layers_frame
from ..nma import network
from .choices import LAYERS
from .config import ModelSettings
from .evidence import EVIDENCE_LAYERS, not_declared
from .layer_fit import _cached_league, _curve_network, _league, _League, _reference, _Rows, _rows_of
from .layer_fit import choose_reference  # noqa: F401  (its home before; kept importable from here)
from .stage import warnings_noted
from .strata import Stratum

if TYPE_CHECKING:
    from ..ma.layers import LayeredResult
    from .components import ComponentAnalysis

__all__ = ["ComparisonResult", "RateResult", "LayerResult", "LayerCombination", "StratumResult", "analyse_stratum",
           "combine_evidence_layers", "LAYER_ORDER", "STATUSES"]

LAYER_ORDER = ("randomised", "comparative", "nonrandomised", "single_arm")
STATUSES = {"network": "network meta-analysis of two or more studies",
            "single_study": "one study: its own result is reported",
            "rates": "single-arm outcome rates pooled per treatment",
            "failed": "the fit failed (see notes)"}
EVIDENCE = {"randomised": "randomised trials",
            "comparative": "randomised and non-randomised studies pooled (sensitivity analysis)",
            "nonrandomised": "non-randomised comparative studies only (no randomised trial in this stratum); "
                             "certainty starts lower",
            "single_arm": "single-arm outcome rates only (no comparative study in this stratum); "
                          "no comparative effect can be estimated"}
NAN = float("nan")


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """treat1 versus treat2 in one layer of one stratum (analysis scale: log for RR/OR)."""

    treat1: str
    treat2: str
    layer: str
    measure: str
    k: int
    studies: tuple[str, ...]
    source: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    direct_estimate: float = NAN
    direct_se: float = NAN
    direct_ci_low: float = NAN
    direct_ci_high: float = NAN
    #: prediction interval of ``estimate``: for a network estimate netmeta's lower.predict /
    #: upper.predict (the interval the certainty rules judge), for a pairwise one metafor's
    pi_low: float = NAN
    pi_high: float = NAN
    tau2: float = NAN
    i2: float = NAN
    #: prediction interval of the direct (pairwise) meta-analysis of this pair (metafor predict)
    direct_pi_low: float = NAN
    direct_pi_high: float = NAN

    @property
    def label(self) -> str:
        return f"{self.treat1} vs {self.treat2}"


@dataclass(frozen=True, slots=True)
class RateResult:
    """A pooled single-arm rate of one treatment node (proportion scale)."""

    treatment: str
    k: int
    studies: tuple[str, ...]
    method: str
    proportion: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    events: float
    n: float


@dataclass(frozen=True, slots=True, eq=False)
class LayerResult:
    """One evidence layer of a stratum."""

    layer: str
    status: str
    studies: tuple[str, ...]
    treatments: tuple[str, ...]
    comparisons: tuple[ComparisonResult, ...] = ()
    rates: tuple[RateResult, ...] = ()
    network: object = None
    pairwise: tuple = ()
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return LAYERS[self.layer]

    def __repr__(self) -> str:
        return (f"LayerResult(layer={self.layer!r}, status={self.status!r}, studies={len(self.studies)}, "
                f"comparisons={len(self.comparisons)}, rates={len(self.rates)})")


@dataclass(frozen=True, slots=True, eq=False)
class LayerCombination:
    """One direct comparison with non-randomised studies: the randomised-only, non-randomised-only
    and (per the plan's ``[sensitivity] layers`` approach) combined results side by side
    (:func:`netstrata.ma.layers.combine_layers`; the combined one never without the RCT-only one)."""

    treat1: str
    treat2: str
    measure: str
    result: LayeredResult | None = None   # None when the fit failed (see notes)
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.treat1} vs {self.treat2}"

    def to_dict(self) -> dict:
        r = self.result
        rows = [] if r is None else [{"layer": name, **{k: v for k, v in row.items()}}
                                     for name, row in r.to_frame().to_dict("index").items()]
        return {"treat1": self.treat1, "treat2": self.treat2, "measure": self.measure,
                "approach": None if r is None else r.approach, "studies": [] if r is None else list(r.study),
                "designs": [] if r is None else list(r.design), "layers": rows,
                "certainty_note": None if r is None else r.certainty_note,
                "notes": list(self.notes) + ([] if r is None else list(r.notes))}

    def __repr__(self) -> str:
        layers = self.result.layers if self.result is not None else ()
        return f"LayerCombination({self.label!r}, layers={layers})"


@dataclass(frozen=True, slots=True, eq=False)
class StratumResult:
    """Every layer of one stratum; ``primary`` is the layer the main tables read.

    ``combinations``: per direct comparison with non-randomised studies, the evidence layers side
    by side and combined (only when the plan asks for randomised + non-randomised evidence).
    """

    stratum: Stratum
    measure: str
    layers: tuple[LayerResult, ...]
    combinations: tuple[LayerCombination, ...] = ()
    #: evidence layers the plan declares for this stratum (``[evidence]``; default all three)
    declared: tuple[str, ...] = EVIDENCE_LAYERS
    #: register rows (``layer_not_declared``) of this stratum's records in undeclared layers
    excluded: tuple[Exclusion, ...] = ()
    #: component network meta-analysis of the primary layer (plan ``[models] components``;
    #: :class:`~netstrata.synthesis.components.ComponentAnalysis`), else None
    components: ComponentAnalysis | None = None

    @property
    def name(self) -> str:
        return self.stratum.name

    @property
    def primary(self) -> LayerResult | None:
        return self.layers[0] if self.layers else None

    @property
    def evidence(self) -> str:
        """What the primary layer is and, when the plan restricts the layers, which it declares."""
        p = self.primary
        if self.declared == EVIDENCE_LAYERS:
            return EVIDENCE[p.layer] if p is not None else "no analysable records"
        text = _declared_evidence(p.layer, self.declared) if p is not None else "no analysable records"
        return f"{text}; layers declared in the plan: {', '.join(self.declared)}"

    @property
    def certainty_basis(self) -> str:
        """What any certainty rating of this stratum rests on (GRADE: randomised evidence starts
        high, observational evidence starts low)."""
        p = self.primary
        if p is None:
            return "none"
        return {"randomised": "randomised (starts high)",
                "comparative": "randomised and non-randomised pooled (sensitivity only)",
                "nonrandomised": "non-randomised only (starts low)",
                "single_arm": "single-arm rates (no comparative certainty rating)"}[p.layer]

    @property
    def comparisons(self) -> tuple[ComparisonResult, ...]:
        p = self.primary
        return p.comparisons if p is not None else ()

    @property
    def studies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for lay in self.layers for s in lay.studies))

    def layer(self, name: str) -> LayerResult | None:
        return next((lay for lay in self.layers if lay.layer == name), None)

    def __repr__(self) -> str:
        lay = ", ".join(f"{x.layer}:{x.status}" for x in self.layers)
        return f"StratumResult({self.name!r}, studies={len(self.studies)}, layers=[{lay}])"


def _declared_evidence(layer: str, declared: tuple[str, ...]) -> str:
    """EVIDENCE text of the primary ``layer`` when the plan declares only ``declared`` layers
    (an undeclared layer is "not declared", not "absent from the stratum")."""
    if layer == "nonrandomised" and "randomised" not in declared:
        return EVIDENCE[layer].replace("no randomised trial in this stratum",
                                       "randomised trials not declared for this stratum")
    if layer == "single_arm" and not {"randomised", "nonrandomised"} <= set(declared):
        return EVIDENCE[layer].replace("no comparative study in this stratum",
                                       "no comparative study of a declared layer in this stratum")
    return EVIDENCE[layer]


# ----------------------------------------------------------------- comparative layers

def _study_result(t1: str, t2: str, study: str, effect, se, layer: str, measure: str, z: float) -> ComparisonResult:
    e, s = float(effect), float(se)
    return ComparisonResult(t1, t2, layer, measure, 1, (study,), "study", e, s,
                            e - z * s, e + z * s, e, s, e - z * s, e + z * s)


def _direct(rows: _Rows, layer: str, measure: str, settings: ModelSettings, z: float):
    """Pairwise MA per direct comparison (pairs in sorted order, rows in input order) ->
    (ComparisonResult per pair, PairwiseResult per pair)."""
    study, effect, se = rows.study, rows.effect, rows.se
    groups: dict[tuple[str, str], list[int]] = {}
    for i, pair in enumerate(zip(rows.treat1, rows.treat2)):
        groups.setdefault(pair, []).append(i)
    out, fits = {}, []
    for (t1, t2), idx in sorted(groups.items()):
        if len(idx) == 1:
            i = idx[0]
            out[(t1, t2)] = _study_result(t1, t2, study[i], effect[i], se[i], layer, measure, z)
            continue
        res = pairwise(effect[idx], se[idx] ** 2, method=settings.pairwise, ci=settings.ci, level=settings.level)
        fits.append(((t1, t2), res))
        out[(t1, t2)] = ComparisonResult(t1, t2, layer, measure, len(idx), tuple(study[i] for i in idx), "pairwise",
                                         res.estimate, res.se, res.ci_low, res.ci_high, res.estimate, res.se,
                                         res.ci_low, res.ci_high, res.pi_low, res.pi_high, res.tau2, res.i2,
                                         res.pi_low, res.pi_high)
    return out, tuple(fits)


def _direct_counts(rows: _Rows, layer: str, measure: str) -> dict:
    """Studies per direct comparison without pooling them (what the specification curve reads
    beside the network estimates): k and study labels; direct estimates NaN."""
    groups: dict[tuple[str, str], list[str]] = {}
    for pair, study in zip(zip(rows.treat1, rows.treat2), rows.study):
        groups.setdefault(pair, []).append(study)
    return {(t1, t2): ComparisonResult(t1, t2, layer, measure, len(st), tuple(st), "study" if len(st) == 1 else
                                       "pairwise", NAN, NAN, NAN, NAN) for (t1, t2), st in sorted(groups.items())}


def _poolable(rows: _Rows) -> bool:
    """Every row has a finite effect and a positive finite se (what the pairwise fit requires)."""
    e, s = np.asarray(rows.effect, dtype=float), np.asarray(rows.se, dtype=float)
    return bool(np.isfinite(e).all() and np.isfinite(s).all() and (s > 0).all())


def _with_network(direct: dict, league: _League, roles: dict, layer: str, measure: str):
    """Every comparable pair of the network, oriented as the records (active first, then name);
    prediction intervals NaN when ``league`` has none. (The matrices are read as nested lists:
    ``te.tolist()[i][j]`` is ``float(te[i, j])``.)"""
    pos = {t: i for i, t in enumerate(league.treatments)}
    te_, se_, lo_, hi_ = league.te.tolist(), league.se.tolist(), league.lo.tolist(), league.hi.tolist()
    pi = None if league.pi is None else (league.pi[0].tolist(), league.pi[1].tolist())
    out = []
    trts = sorted(league.treatments, key=lambda t: (roles.get(t) != "active", t))
    for i, a in enumerate(trts):
        ia = pos[a]
        for b in trts[i + 1:]:
            ib = pos[b]
            e = te_[ia][ib]
            if not math.isfinite(e):
                continue
            pl, ph = (pi[0][ia][ib], pi[1][ia][ib]) if pi is not None else (NAN, NAN)
            d = direct.get((a, b))
            if d is None:             # no direct evidence: k = 0, direct fields NaN
                out.append(ComparisonResult(a, b, layer, measure, k=0, studies=(), source="network", estimate=e,
                                            se=se_[ia][ib], ci_low=lo_[ia][ib], ci_high=hi_[ia][ib],
                                            pi_low=pl, pi_high=ph))
            else:                     # the direct fields from the pair's pairwise result
                out.append(ComparisonResult(a, b, layer, measure, k=d.k, studies=d.studies, source="network",
                                            estimate=e, se=se_[ia][ib], ci_low=lo_[ia][ib], ci_high=hi_[ia][ib],
                                            direct_estimate=d.direct_estimate, direct_se=d.direct_se,
                                            direct_ci_low=d.direct_ci_low, direct_ci_high=d.direct_ci_high,
                                            pi_low=pl, pi_high=ph, tau2=d.tau2, i2=d.i2, direct_pi_low=d.pi_low,
                                            direct_pi_high=d.pi_high))
    return tuple(out)


def _comparative(rows: pd.DataFrame | _Rows, layer: str, measure: str, small_values: str, settings: ModelSettings,
                 roles: dict, counts_only: bool = False, networks=None) -> LayerResult:
    """One comparative layer (see the module docstring). ``networks`` (with ``counts_only``): a
    cache of network fits (:func:`_cached_league`); the layer then holds no NetworkResult."""
    if isinstance(rows, pd.DataFrame):
        rows = _rows_of(rows)
    z = float(norm_ppf(0.5 + settings.level / 2))
    studies = tuple(dict.fromkeys(rows.study))
    treatments = tuple(sorted(set(rows.treat1) | set(rows.treat2), key=lambda t: (roles.get(t) != "active", t)))
    notes: list[str] = []
    with warnings_noted(notes):
        try:
            if counts_only and len(studies) > 1 and _poolable(rows):
                direct, fits = _direct_counts(rows, layer, measure), ()
            else:
                direct, fits = _direct(rows, layer, measure, settings, z)
            if len(studies) == 1:
                return LayerResult(layer, "single_study", studies, treatments,
                                   tuple(direct[k] for k in sorted(direct)), pairwise=fits,
                                   notes=("one study: its own result is reported, no pooling",))
            reference = _reference(rows.treat1, rows.treat2, rows.study, roles, settings.reference)
            net, league = None, None
            if counts_only and networks is not None:
                league = _cached_league(rows, settings, small_values, reference, networks)
            elif counts_only:
                net = _curve_network(rows, settings, small_values, reference)
            if league is None:
                if net is None:
                    frame = rows.frame()
                    net = network(frame[rows.network_columns].reset_index(drop=True),
                                  method=settings.network, small_values=small_values, level=settings.level,
                                  reference=reference)
                league = _league(net, settings.model, prediction=not counts_only)
            comps = _with_network(direct, league, roles, layer, measure)
        except ANALYSIS_ERRORS as exc:  # a failed stratum is reported, never fatal
            return LayerResult(layer, "failed", studies, treatments, notes=(f"{type(exc).__name__}: {exc}",))
    if league.parts > 1:
        notes.append(f"disconnected network: {league.parts} sub-networks analysed separately")
    return LayerResult(layer, "network", studies, treatments, comps, network=net, pairwise=fits,
                       notes=tuple(dict.fromkeys(notes)))


# ----------------------------------------------------------------- single-arm layer

def _rate(g: pd.DataFrame, treatment: str, settings: ModelSettings) -> RateResult:
    x, n = g["events"].to_numpy(float), g["n"].to_numpy(float)
    if settings.proportion == "GLMM" and len(g) > 1:
        r = proportion_glmm(x, n, level=settings.level)
        vals = (r.proportion, r.proportion_ci_low, r.proportion_ci_high, r.proportion_pi_low, r.proportion_pi_high)
        method, tau2 = "GLMM", r.tau2
    else:
        measure = "PFT" if settings.proportion == "PFT" else "PLO"
        method = settings.pairwise if len(g) > 1 else "FE"
        pooled = pooled_proportion(x, n, measure=measure, method=method, level=settings.level,
                                   study=list(g["study"]))
        vals = (pooled.proportion, pooled.proportion_ci_low, pooled.proportion_ci_high, pooled.proportion_pi_low,
                pooled.proportion_pi_high)
        method, tau2 = f"{measure}/{method}", pooled.tau2
    prop, lo, hi, pi_lo, pi_hi = map(float, vals)
    return RateResult(treatment, len(g), tuple(g["study"]), method, prop, lo, hi, pi_lo, pi_hi, float(tau2),
                      float(x.sum()), float(n.sum()))


def _single_arm(rows: pd.DataFrame, settings: ModelSettings) -> LayerResult:
    rates: list[RateResult] = []
    notes: list[str] = []
    with warnings_noted(notes):
        for t, g in rows.groupby("treatment", sort=True):
            try:
                rates.append(_rate(g, t, settings))
            except ANALYSIS_ERRORS as exc:
                notes.append(f"{t}: {type(exc).__name__}: {exc}")
    return LayerResult("single_arm", "rates" if rates else "failed", tuple(dict.fromkeys(rows["study"])),
                       tuple(sorted(set(rows["treatment"]))), rates=tuple(rates), notes=tuple(dict.fromkeys(notes)))


def combine_evidence_layers(contrasts: pd.DataFrame, measure: str, settings: ModelSettings,
                            layer_spec) -> tuple[LayerCombination, ...]:
    """:func:`netstrata.ma.layers.combine_layers_frame` per direct comparison (treat1, treat2)
    that has non-randomised rows, with the randomised rows of the same comparison beside them."""
    rows = contrasts[contrasts["layer"].isin(("randomised", "nonrandomised"))]
    out = []
    for (t1, t2), g in rows.groupby(["treat1", "treat2"], sort=True):
        if not (g["layer"] == "nonrandomised").any():
            continue
        frame = pd.DataFrame({"study": g["study"].astype(str), "effect": g["effect"], "se": g["se"],
                              "design": np.where(g["layer"] == "randomised", "RCT", "NRS_comparative")})
        notes: list[str] = []
        with warnings_noted(notes):
            try:
                res = combine_layers_frame(frame, layer_spec, method=settings.pairwise, ci=settings.ci,
                                           level=settings.level)
            except ANALYSIS_ERRORS as exc:  # a failed combination is reported, never fatal
                res = None
                notes.append(f"{type(exc).__name__}: {exc}")
        out.append(LayerCombination(t1, t2, measure, res, tuple(notes)))
    return tuple(out)


def analyse_stratum(stratum: Stratum, contrasts: pd.DataFrame, rates: pd.DataFrame, spec,
                    settings: ModelSettings, roles: dict, *, layer_spec=None,
                    layers: tuple[str, ...] = EVIDENCE_LAYERS, primary_only: bool = False) -> StratumResult:
    """Analyse every declared evidence layer of ``stratum`` (records already restricted to it).

    ``layer_spec`` (a :class:`netstrata.ma.layers.LayerSpec`, from the plan's ``[sensitivity]
    layers``): also combine the randomised and non-randomised layers per direct comparison.
    ``layers``: the evidence layers the plan declares for the stratum (``[evidence]``); records
    of the others are not analysed and become ``StratumResult.excluded`` register rows.
    ``primary_only``: analyse the primary layer only, for a specification curve: the same
    ``primary`` layer and network estimates as with every layer analysed, but the direct
    comparisons beside a network are counted, not pooled (``k`` and ``studies``; direct estimates NaN).
    """
    declared = tuple(x for x in EVIDENCE_LAYERS if x in layers)
    contrasts, rates, excluded = not_declared(stratum, contrasts, rates, declared)
    results: list[LayerResult] = []
    for layer in LAYER_ORDER[:-1]:
        rows = contrasts[contrasts["layer"] == layer]
        if len(rows):
            results.append(_comparative(rows, layer, spec.measure, spec.small_values, settings, roles,
                                        counts_only=primary_only))
            if primary_only:
                break
    if len(rates) and not (primary_only and results):
        results.append(_single_arm(rates, settings))
    combos: tuple[LayerCombination, ...] = ()
    if layer_spec is not None and len(contrasts) and not primary_only:
        combos = combine_evidence_layers(contrasts, spec.measure, settings, layer_spec)
    return StratumResult(stratum, spec.measure, tuple(results), combos, declared, excluded)


def z_value(level: float) -> float:
    return float(norm_ppf(0.5 + level / 2))


def finite(x) -> bool:
    return x is not None and isinstance(x, (float, int, np.floating)) and math.isfinite(x)
