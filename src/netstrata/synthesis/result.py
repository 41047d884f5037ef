"""ProjectResult: everything one run produced, frozen, with deterministic JSON (the convention
in :mod:`netstrata.synthesis.jsontext`) and tables."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, TypedDict

import pandas as pd

from ..errors import ANALYSIS_ERRORS
from .analyse import StratumResult
from .canonical import canonical_frame
from .classes_stage import extra_frames
from .facts import run_counts
from .jsontext import dumps, encode, jsonable
from .network_views import network_views
from .project_summary import project_summary, with_scale

if TYPE_CHECKING:
    from ..data.register import ExclusionRegister
    from .config import ModelSettings
    from .multiverse import MultiverseResult
    from .panel import Panel

__all__ = ["SCHEMA_VERSION", "ProjectResult", "dumps", "encode", "jsonable"]

SCHEMA_VERSION = 1


def _common_estimates(net, comparisons) -> list[dict]:
    """Common-effect network estimates of the layer's comparisons (the report's forest rows)."""
    league, ci = net.league("common"), net.league_ci("common")
    return [{"treat1": c.treat1, "treat2": c.treat2, "estimate": league.loc[c.treat1, c.treat2],
             "ci_low": ci.ci_low.loc[c.treat1, c.treat2], "ci_high": ci.ci_high.loc[c.treat1, c.treat2]}
            for c in comparisons if c.treat1 in league.index and c.treat2 in league.index]


def _network_summary(net, comparisons=(), seed: int | None = 0) -> dict | None:
    if net is None:
        return None
    out = {"treatments": list(net.treatments), "reference": net.reference, "method": net.method,
           "k": net.k, "m": net.m, "tau2": net.tau2, "i2": net.i2, "q": net.q, "q_df": net.q_df,
           "q_pvalue": net.q_pvalue, "connected": net.is_connected,
           "components": [list(c) for c in net.components], "notes": list(net.notes),
           "study_rows": net.rows[["study", "treat1", "treat2", "effect", "se", "w_common",
                                   "w_random"]].to_dict("records"),
           "common": _common_estimates(net, comparisons)}
    try:
        out["p_scores"] = {str(k): float(v) for k, v in net.p_scores().items()}
    except ANALYSIS_ERRORS:  # a ranking that cannot be computed is left out, not fatal
        out["p_scores"] = None
    return out | network_views(net, seed=seed)


def _layer_dict(lay, seed: int | None = 0) -> dict:
    return {"layer": lay.layer, "label": lay.label, "status": lay.status, "studies": list(lay.studies),
            "treatments": list(lay.treatments), "comparisons": [jsonable(c) for c in lay.comparisons],
            "rates": [jsonable(r) for r in lay.rates],
            "network": _network_summary(lay.network, lay.comparisons, seed),
            "notes": list(lay.notes)}


def _stratum_dict(res: StratumResult, model: str = "random", seed: int | None = 0) -> dict:
    return {**res.stratum.as_dict(), "measure": res.measure, "evidence": res.evidence,
            "components": None if res.components is None else jsonable(res.components.to_dict(model)),
            "certainty_basis": res.certainty_basis,
            "primary_layer": res.primary.layer if res.primary else None,
            "declared_layers": list(res.declared),
            "studies": list(res.studies), "layers": [_layer_dict(x, seed) for x in res.layers],
            "evidence_layers": [jsonable(c.to_dict()) for c in res.combinations]}


class ProjectExtras(TypedDict, total=False):
    """The optional :class:`ProjectResult` fields the pipeline's stages fill (its keyword arguments)."""

    class_models: object
    threshold: object
    certainty: object
    transitivity: object
    qc: object
    fidelity: object
    risk_of_bias: object
    disagreements: tuple
    glossary: Mapping | None
    outcomes: Mapping | None
    known_trials: tuple
    panel: Panel | None
    contrasts: tuple


@dataclass(frozen=True, slots=True, eq=False)
class ProjectResult:
    """The result of one run of a review project (see the module docstring for the JSON form).

    Attributes
    ----------
    name, fingerprint : project name and the review's content fingerprint.
    settings : the model settings used; ``node_level`` the primary lumping level.
    strata : per clinical stratum (the plan's variables × outcome).
    lumped : per outcome, no stratification (for the lumped-vs-split comparison).
    register : the exclusion register (review rows + rows added by the analyses).
    record_counts : records in, analysed and excluded (rows in = analysed + excluded).
    multiverse : MultiverseResult or None.
    transitivity, fidelity, certainty, qc : results of optional stages (None when unavailable).
    class_models, threshold : per stratum, when the plan's ``[models]`` asks for them.
    seed, created, version : run metadata (``created`` only when injected).
    glossary : labels of every code (:func:`netstrata.synthesis.labels.glossary`).
    outcomes : per outcome label, measure, direction, MID and baseline risk.
    known_trials : the plan's known trials and what happened to each (omission check).
    panel : the plan's guideline panel (:class:`~netstrata.synthesis.panel.Panel`) or None.
    contrasts : stratified versus lumped per comparison (:mod:`~netstrata.synthesis.contrast_strata`).
    disagreements : extraction disagreements resolved and tested (:mod:`~netstrata.synthesis.disagreements`).
    adjudication : the adjudication log applied (log, head hash, entries, keyed, applied and
        unused decisions; see :func:`netstrata.synthesis.adjudicated.load_project`), or None.
    """

    name: str
    fingerprint: str
    settings: ModelSettings
    node_level: str
    variables: tuple[str, ...]
    strata: tuple[StratumResult, ...]
    lumped: tuple[StratumResult, ...]
    register: ExclusionRegister
    record_counts: Mapping[str, int]
    multiverse: MultiverseResult | None = None
    transitivity: object = None
    fidelity: object = None
    certainty: object = None
    qc: object = None
    class_models: object = None
    threshold: object = None
    #: the project's risk-of-bias assessments (RiskOfBiasTable from rob.csv), or None
    risk_of_bias: object = None
    notes: tuple[str, ...] = ()
    seed: int | None = 0
    created: str | None = None
    version: str = ""
    glossary: Mapping | None = None
    outcomes: Mapping | None = None
    known_trials: tuple = ()
    panel: Panel | None = None
    contrasts: tuple = ()
    disagreements: tuple = ()
    adjudication: Mapping | None = None

    def counts(self) -> dict:
        """Every count a reader sees (:func:`netstrata.synthesis.facts.run_counts`)."""
        return run_counts(self)

    def summary(self, backtransf: bool = False):
        """One row per comparison of every stratum's primary layer and of the lumped analyses, with
        the run's counts (:func:`netstrata.synthesis.project_summary.project_summary`)."""
        return project_summary(self, backtransf)

    def stratum(self, name: str) -> StratumResult:
        for s in (*self.strata, *self.lumped):
            if s.name == name:
                return s
        raise KeyError(name)

    # ----------------------------------------------------------------- serialisation
    def to_dict(self, *, curve_ref: Mapping | None = None, analysis: Mapping | None = None) -> dict:
        """The results as plain JSON types, keys in sorted order: what ``json.loads`` of
        :meth:`to_json` gives (``results.json``).

        ``curve_ref``: the multiverse's specification curve is then not inlined (``curve`` is an
        empty list) but referenced: ``curve_ref`` (``curve_file``, ``curve_rows``,
        ``curve_sha256``, as :func:`~netstrata.synthesis.pipeline.run_project` writes it for a large
        curve) is added to the ``multiverse`` object.
        ``analysis``: :meth:`analysis_dict` of this result, or of one that differs from it only in
        ``multiverse`` (computed while the multiverse ran), used instead of converting it again."""
        parts = dict(analysis) if analysis is not None else self.analysis_dict()
        parts.update(jsonable(self._multiverse_tree(curve_ref)))
        return {k: parts[k] for k in sorted(parts)}

    def analysis_dict(self) -> dict:
        """Every part of :meth:`to_dict` that does not depend on the multiverse (all but
        ``multiverse`` and ``counts``), as plain JSON types."""
        return jsonable(self._analysis_tree())

    def _analysis_tree(self) -> dict:
        """The results' tree but the multiverse; tables are still DataFrames (converted once, by
        :func:`jsonable`)."""
        out = {"schema_version": SCHEMA_VERSION, "netstrata_version": self.version, "name": self.name,
               "fingerprint": self.fingerprint, "seed": self.seed, "created": self.created,
               "settings": jsonable(self.settings), "node_level": self.node_level,
               "strata_variables": list(self.variables),
               "strata": [_stratum_dict(s, _model(self.settings), self.seed) for s in self.strata],
               "lumped": [_stratum_dict(s, _model(self.settings), self.seed) for s in self.lumped],
               "exclusion_register": _register_frame(self.register),
               "record_counts": dict(self.record_counts), "notes": list(self.notes),
               "adjudication": jsonable(self.adjudication)}
        for name in ("transitivity", "fidelity", "certainty", "qc", "class_models", "threshold", "risk_of_bias"):
            out[name] = _optional(getattr(self, name))
        out |= {"labels": jsonable(self.glossary or {}),
                "outcomes": jsonable(self.outcomes or {}), "known_trials": jsonable(list(self.known_trials)),
                "panel": None if self.panel is None else self.panel.to_dict(),
                "stratified_vs_lumped": [c.to_dict() for c in self.contrasts],
                "disagreements": [d.to_dict() for d in self.disagreements]}
        return out

    def _multiverse_tree(self, curve_ref: Mapping | None = None) -> dict:
        """The parts of the tree that depend on the multiverse: ``multiverse`` and ``counts``."""
        mv = self.multiverse
        out: dict = {"counts": self.counts(), "multiverse": None if mv is None else {
            "dimensions": {k: list(v) for k, v in mv.dimensions}, "n_combinations": mv.n_combinations,
            "seed": mv.seed, "specifications": mv.specifications_frame(),
            "curve": mv.curve if curve_ref is None else [], "robustness": mv.robustness}}
        if mv is not None and mv.curve_file:      # a streamed multiverse: the curve is a CSV file
            out["multiverse"]["curve_file"] = mv.curve_file
        elif mv is not None and curve_ref is not None:
            out["multiverse"].update(curve_ref)
        return out

    def to_json(self) -> str:
        """Deterministic JSON text (same inputs and seed -> same bytes)."""
        return encode(self.to_dict())

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Tables: strata, comparisons, rates, register, and the multiverse tables when run.

        ``comparisons`` and ``evidence_layers`` say their scale: ``scale`` ("log risk ratio")
        beside ``measure``, and the back-transformed ``estimate_natural``, ``ci_low_natural``, ...
        beside the analysis-scale columns."""
        comps, rates, strata = [], [], []
        for kind, group in (("stratum", self.strata), ("lumped", self.lumped)):
            for s in group:
                strata.append({"stratum": s.name, "kind": kind, "outcome": s.stratum.outcome,
                               "studies": len(s.studies), "primary_layer": s.primary.layer if s.primary else None,
                               "status": s.primary.status if s.primary else None, "evidence": s.evidence,
                               "declared_layers": "; ".join(s.declared)})
                for lay in s.layers:
                    comps += [{"stratum": s.name, "kind": kind, "primary": lay is s.primary,
                               **_flat(c)} for c in lay.comparisons]
                    rates += [{"stratum": s.name, "kind": kind, **_flat(r)} for r in lay.rates]
        out = {"strata": pd.DataFrame(strata), "comparisons": with_scale(pd.DataFrame(comps)), "rates": pd.DataFrame(rates),
               "register": self.register.to_frame()}
        layers = [{"stratum": s.name, "kind": kind, "comparison": c.label, "measure": c.measure,
                   "approach": d["approach"], **row}
                  for kind, group in (("stratum", self.strata), ("lumped", self.lumped))
                  for s in group for c in s.combinations for d in (c.to_dict(),) for row in d["layers"]]
        if layers:
            out["evidence_layers"] = with_scale(pd.DataFrame(layers))
        components = _component_rows(self.strata, self.lumped)
        if components:
            out["components"] = pd.DataFrame(components)
        if self.multiverse is not None:
            out["specifications"] = self.multiverse.specifications_frame()
            if not getattr(self.multiverse, "curve_file", None):   # else already a CSV file
                out["specification_curve"] = self.multiverse.curve.copy()
            out["robustness"] = self.multiverse.robustness.copy()
        out.update(extra_frames(self.class_models, self.threshold))
        return out

    def __repr__(self) -> str:
        mv = "none" if self.multiverse is None else len(self.multiverse.specifications)
        return (f"ProjectResult(name={self.name!r}, strata={len(self.strata)}, lumped={len(self.lumped)}, "
                f"register={len(self.register)}, specifications={mv})")


_REGISTER_ORDER = ("study", "file", "arm", "outcome", "timepoint_weeks", "reason_code", "stage", "row", "message")


def _register_frame(register) -> pd.DataFrame:
    """The register sorted by its content (study, file, arm, outcome, ...), not by the order in
    which input rows were read, so results.json does not depend on row order."""
    frame = register.to_frame()
    return canonical_frame(frame, [c for c in _REGISTER_ORDER if c in frame.columns]).reset_index(drop=True)


def _model(settings) -> str:
    return getattr(settings, "model", "random")


def _component_rows(strata, lumped) -> list[dict]:
    """One row per component effect (both models) of every stratum's component analysis."""
    rows = []
    for kind, group in (("stratum", strata), ("lumped", lumped)):
        for s in group:
            res = getattr(s.components, "result", None)
            if res is None:
                continue
            for model in ("common", "random"):
                frame = res.component_effects(model)
                rows += [{"stratum": s.name, "kind": kind, "layer": s.components.layer, "model": model,
                          "component": name, **row, "inactive": res.inactive,
                          "q_diff": res.q_diff, "q_diff_df": res.q_diff_df, "q_diff_pvalue": res.q_diff_pvalue}
                         for name, row in frame.to_dict("index").items()]
    return rows


def _flat(obj) -> dict:
    d = {f.name: getattr(obj, f.name) for f in fields(obj)}
    if "studies" in d:
        d["studies"] = "; ".join(d["studies"])
    return d


def _optional(obj):
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return {str(k): _optional(v) for k, v in sorted(obj.items())}
    for attr in ("to_dict", "to_frame"):
        if hasattr(obj, attr):
            try:
                return jsonable(getattr(obj, attr)())
            except ANALYSIS_ERRORS:  # optional stages must not break serialisation
                return None
    return jsonable(obj)
