"""The multiverse: every combination of the plan's sensitivity alternatives, run and summarised.

Each combination is a frozen :class:`Specification` (index 0 = the first alternative of every
dimension = the primary analysis). Each specification re-prepares the records (node map, time
window, filters, design) and re-analyses every stratum and the lumped analysis; per comparison it
keeps the primary layer's estimate (network if available, else the direct estimate or the study).
The specification curve has one row per specification × comparison; :func:`holding` summarises
how often each comparison's primary conclusion holds (definitions in
:mod:`netstrata.synthesis.conclusions`).

Determinism: specifications are enumerated in a fixed order (``itertools.product`` of the
dimensions in :data:`~netstrata.synthesis.config.DIMENSIONS` order), sampled with the run's seed
when there are more than ``max_specifications``, and results are collected in specification order
whatever the executor and completion order.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from .conclusions import classify_frame, holding, threshold
from .config import ModelSettings, SensitivityPlan
from .parallel import run_jobs
from .records import Choices, prepare

__all__ = ["Specification", "MultiverseResult", "specifications", "run_multiverse", "ReviewHandle",
           "CURVE_COLUMNS"]

CURVE_COLUMNS = ["specification", "comparison", "stratum", "outcome", "layer", "treat1", "treat2", "node1", "node2",
                 "measure", "k", "source", "estimate", "se", "ci_low", "ci_high"]


@dataclass(frozen=True, slots=True, order=True)
class Specification:
    """One combination of analytic choices."""

    index: int
    choices: Choices

    @property
    def label(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.choices.items())

    @property
    def is_primary(self) -> bool:
        return self.index == 0


def specifications(plan: SensitivityPlan, primary: Choices, seed: int | None = 0) -> tuple[Specification, ...]:
    """Every combination (index 0 = primary); sampled with ``seed`` above ``max_specifications``."""
    names = [n for n, _ in plan.dimensions]
    combos = itertools.product(*(alts for _, alts in plan.dimensions))
    base = {k: v for k, v in primary.items()}
    specs = []
    for i, combo in enumerate(combos):
        fields = {**base, **dict(zip(names, combo))}
        if fields["node_level"] == "None":
            fields["node_level"] = None
        specs.append(Specification(i, Choices(**fields)))
    if not specs:
        specs = [Specification(0, primary)]
    cap = plan.max_specifications
    if cap is not None and len(specs) > cap:
        rng = np.random.default_rng(seed)
        keep = sorted(rng.choice(np.arange(1, len(specs)), size=cap - 1, replace=False).tolist()) if cap > 1 else []
        specs = [specs[0]] + [specs[i] for i in keep]
    return tuple(specs)


class ReviewHandle:
    """A Review that travels to worker processes as (path, fingerprint) and is reloaded there once.

    A Review holds read-only mapping proxies and is not picklable; workers reload it from its
    path (cached per process) and check the fingerprint, so a changed project is never mixed in.
    """

    _cache: dict = {}

    def __init__(self, review):
        self._review, self.path, self.fingerprint = review, review.path, review.fingerprint

    def __getstate__(self):
        return {"path": self.path, "fingerprint": self.fingerprint}

    def __setstate__(self, state):
        self.path, self.fingerprint, self._review = state["path"], state["fingerprint"], None

    def get(self):
        if self._review is None:
            from ..data import load_review
            from .canonical import canonical_review
            key = (self.path, self.fingerprint)
            if key not in ReviewHandle._cache:
                review = load_review(self.path)
                if review.fingerprint != self.fingerprint:
                    raise RuntimeError(f"the project at {self.path} changed during the run (fingerprint differs)")
                ReviewHandle._cache[key] = canonical_review(review)   # same row order as the parent
            self._review = ReviewHandle._cache[key]
        return self._review


def node_translation(primary_map, spec_map) -> dict[str, str]:
    """Spec-level node -> primary-level node, where all its arms fall in one primary node."""
    targets: dict[str, set] = {}
    for arm, node in spec_map.assignment.items():
        targets.setdefault(node, set()).add(primary_map.assignment.get(arm))
    return {n: next(iter(t)) for n, t in targets.items() if len(t) == 1 and None not in t}


def _key(a: str, b: str, roles) -> tuple[str, str, bool]:
    """(treat1, treat2, swapped) in the records' orientation: active first, then by name."""
    ka, kb = (roles.get(a) != "active", a), (roles.get(b) != "active", b)
    return (b, a, True) if ka > kb else (a, b, False)


def curve_rows(spec_index: int, split, lumped, translate=None, roles=None) -> list[tuple]:
    """Specification-curve rows of one specification's results (primary layer of each stratum).

    Comparisons are keyed by primary-level nodes (``translate``) so that a lumping-level
    sensitivity analysis is compared with the primary one: a finer comparison whose nodes map to
    the primary comparison A vs B is a row of A vs B (oriented as A vs B, sign flipped if needed);
    ``node1``/``node2`` keep the specification's own nodes. A comparison within one primary node
    keeps its own names.
    """
    translate, roles = translate or {}, roles or {}
    rows = []
    for res in (*split, *lumped):
        lay = res.primary
        if lay is None:
            continue
        for c in lay.comparisons:
            p1, p2 = translate.get(c.treat1, c.treat1), translate.get(c.treat2, c.treat2)
            e, lo, hi, swap = c.estimate, c.ci_low, c.ci_high, False
            if p1 == p2:
                p1, p2 = c.treat1, c.treat2
            else:
                p1, p2, swap = _key(p1, p2, roles)
            if swap:
                e, lo, hi = -e, -hi, -lo
            rows.append((spec_index, f"{res.name} : {p1} vs {p2}", res.name, res.stratum.outcome, lay.layer,
                         p1, p2, c.treat1, c.treat2, c.measure, c.k, c.source, e, c.se, lo, hi))
    return rows


def _run_spec(handle: ReviewHandle, settings: ModelSettings, variables: tuple, primary_level, spec: Specification,
              evidence=None):
    from .stratify import analyse_strata
    review = handle.get()
    prepared = prepare(review, spec.choices)
    split, lumped = analyse_strata(review, prepared, settings, variables, evidence=evidence)
    translate = None
    if spec.choices.node_level != primary_level:
        translate = node_translation(review.node_map(primary_level), review.node_map(spec.choices.node_level))
    roles = dict(prepared.roles)
    roles.update({translate[n]: r for n, r in prepared.roles.items() if n in (translate or {})})
    return curve_rows(spec.index, split, lumped, translate, roles)


@dataclass(frozen=True, slots=True, eq=False)
class MultiverseResult:
    """Specifications, the specification curve and how often each conclusion holds."""

    specifications: tuple[Specification, ...]
    curve: pd.DataFrame
    robustness: pd.DataFrame
    dimensions: tuple[tuple[str, tuple[str, ...]], ...]
    n_combinations: int
    seed: int | None

    def specifications_frame(self) -> pd.DataFrame:
        rows = [{"specification": s.index, "primary": s.is_primary, **dict(s.choices.items())}
                for s in self.specifications]
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return (f"MultiverseResult(specifications={len(self.specifications)} of {self.n_combinations}, "
                f"comparisons={len(self.robustness)})")


def _conclusions(curve: pd.DataFrame, plan) -> pd.DataFrame:
    if not len(curve):
        return curve.assign(mid_threshold=[], small_values=[], conclusion=[])
    spec = {o.id: o for o in plan.outcomes}
    mid = {o: threshold(s.mid, s.measure) for o, s in spec.items()}
    curve = curve.assign(mid_threshold=curve["outcome"].map(mid),
                         small_values=curve["outcome"].map({o: s.small_values for o, s in spec.items()}))
    concl = classify_frame(curve)
    concl[~np.isfinite(curve["estimate"].to_numpy(float))] = "not_estimable"
    return curve.assign(conclusion=concl)


def run_multiverse(review, sensitivity: SensitivityPlan, settings: ModelSettings, *, primary: Choices | None = None,
                   variables=None, seed: int | None = 0, executor=None, workers: int | None = None,
                   progress: bool = True, evidence=None) -> MultiverseResult:
    """Run every specification of ``sensitivity`` on ``review`` (see the module docstring);
    ``evidence`` (:class:`~netstrata.synthesis.evidence.EvidencePlan`): the plan's declared
    layers per stratum, applied in every specification (default: all layers)."""
    primary = primary or Choices(node_level=review.plan.node_level)
    variables = tuple(review.plan.strata if variables is None else variables)
    specs = specifications(sensitivity, primary, seed)
    from .canonical import canonical_review
    fn = partial(_run_spec, ReviewHandle(canonical_review(review)), settings, variables, primary.node_level,
                 evidence=evidence)
    results = run_jobs(fn, specs, executor=executor, workers=workers, progress=progress)
    rows = [r for res in results for r in res]
    curve = pd.DataFrame(rows, columns=CURVE_COLUMNS).sort_values(["specification", "comparison", "node1", "node2"],
                                                                 kind="stable")
    curve = _conclusions(curve.reset_index(drop=True), review.plan)
    return MultiverseResult(specs, curve, holding(curve), sensitivity.dimensions, sensitivity.n_combinations, seed)
