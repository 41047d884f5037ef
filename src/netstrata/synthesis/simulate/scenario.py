"""Scenarios for the simulator: populations, design probabilities and the true effect model.

All numbers here are ILLUSTRATIVE simulation settings, not evidence: they exist to make strata
differ by known amounts. Every clinical code (family, approach, target, energy, agent, region,
diagnosis, selection codes, sham subtypes) is checked against the domain pack's vocabularies
when a scenario is used (:func:`check_scenario`), so the simulated tables validate like real ones.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from ...errors import ParameterError

__all__ = ["STRATUM_COLUMNS", "OUTCOMES", "SHAM", "Population", "POPULATIONS", "DEFAULT_POPULATIONS", "EffectModel",
           "Scenario", "ARM_FIELDS", "check_scenario", "SIM_TIERS", "generic_scenario"]

#: Columns that define a stratum, as they appear in the simulated tables.
STRATUM_COLUMNS = ("region", "diagnosis", "fidelity_tier", "selection_n_blocks", "selection_threshold_pct")
#: Outcome kinds: plan id, kind, measure, analysis scale of the truth.
OUTCOMES = {"binary": ("success", "binary", "OR", "log odds ratio"),
            "continuous": ("pain", "continuous", "MD", "mean difference in VAS change (cm)")}
#: The comparator node of the truth (every sham subtype's parent in the spine pack).
SHAM = "sham_procedure"

#: Tiers the simulator can produce (T2 needs a partial-reporting pattern that depends on the
#: checklist, so it is not simulated).
SIM_TIERS = ("T1", "TU", "T3")


@dataclass(frozen=True, slots=True)
class Population:
    """A clinical population: region, diagnosis, the selection block used, the candidate nodes."""

    name: str
    region: str
    diagnosis: str
    block_type: str
    nodes: tuple[str, ...]
    weight: float = 1.0


POPULATIONS: dict[str, Population] = {p.name: p for p in (
    Population("cervical_facet", "cervical", "facet_joint_pain", "MBB", ("RFN_FACET", "MBB", "FJ_IA")),
    Population("lumbar_facet", "lumbar", "facet_joint_pain", "MBB", ("RFN_FACET", "FJ_IA", "MBB")),
    Population("sacral_sij", "sacral", "SIJ_pain", "SIJ_IA", ("RFN_SIJ",)),
    Population("lumbar_radicular", "lumbar", "radicular_pain_disc_herniation", "TFESI_test", ("ESI", "PRF_DRG")),
    Population("lumbar_vertebrogenic", "lumbar", "vertebrogenic", "none_clinical_only", ("BVN_ABL",)),
)}
DEFAULT_POPULATIONS = ("cervical_facet", "lumbar_facet", "sacral_sij")

#: arms.csv columns of an active arm of each family (codes of the pack's vocabularies).
ARM_FIELDS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "RFN_FACET": {"approach": "medial_branch", "target": "medial_branch_nerve", "energy": "thermal_conventional"},
    "RFN_SIJ": {"approach": "lateral_branch|dorsal_ramus_L5", "target": "lateral_branch_nerve|dorsal_ramus",
                "energy": "thermal_conventional"},
    "FJ_IA": {"approach": "intra_articular", "target": "zygapophysial_joint", "agent": "LA+steroid"},
    "MBB": {"approach": "medial_branch", "target": "medial_branch_nerve", "agent": "LA+steroid"},
    "ESI": {"approach": "transforaminal", "target": "epidural_space_ventral", "agent": "LA+steroid"},
    "PRF_DRG": {"approach": "DRG_adjacent", "target": "dorsal_root_ganglion", "energy": "pulsed"},
    "BVN_ABL": {"approach": "intraosseous_BVN", "target": "basivertebral_nerve", "energy": "thermal_conventional"},
})


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType({str(k): float(v) for k, v in d.items()})


@dataclass(frozen=True, slots=True)
class EffectModel:
    """True effect of an active node versus sham, additive on the analysis scale.

    ``theta = node[family] + region[region] + tier[tier] + blocks[n_blocks] + threshold[pct]``
    (the threshold term only when at least one block was used). Binary outcome: ``theta`` is the
    log odds ratio; continuous outcome: the mean difference in VAS change is
    ``-md_per_unit * theta`` (negative = more pain reduction than sham).
    """

    node: Mapping[str, float] = field(default_factory=lambda: _frozen(
        {"RFN_FACET": 1.0, "RFN_SIJ": 0.9, "FJ_IA": 0.3, "MBB": 0.2, "ESI": 0.4, "PRF_DRG": 0.3, "BVN_ABL": 0.8}))
    region: Mapping[str, float] = field(default_factory=lambda: _frozen({"cervical": 0.3, "lumbar": 0.0,
                                                                         "sacral": -0.2}))
    tier: Mapping[str, float] = field(default_factory=lambda: _frozen({"T1": 0.0, "TU": -0.3, "T3": -0.6}))
    blocks: Mapping[str, float] = field(default_factory=lambda: _frozen({"0": -0.5, "1": -0.2, "2": 0.0,
                                                                         "3+": 0.0}))
    threshold: Mapping[str, float] = field(default_factory=lambda: _frozen(
        {"50": 0.0, "75": 0.1, "80": 0.1, "90": 0.15, "100": 0.2}))
    md_per_unit: float = 1.0

    @staticmethod
    def uniform(node: Mapping[str, float] | None = None, md_per_unit: float = 1.0) -> "EffectModel":
        """A model where every stratum shares each node's effect (all modifier terms 0)."""
        base = EffectModel()
        zero = lambda m: _frozen({k: 0.0 for k in m})  # noqa: E731
        return EffectModel(node=_frozen(node) if node is not None else base.node, region=zero(base.region),
                           tier=zero(base.tier), blocks=zero(base.blocks), threshold=zero(base.threshold),
                           md_per_unit=md_per_unit)

    def with_(self, **parts) -> "EffectModel":
        """A copy with some components replaced (mappings are frozen)."""
        # the names and values are the caller's: replace() checks the names at run time
        return replace(self, **{k: (_frozen(v) if isinstance(v, Mapping) else v)  # type: ignore[arg-type]
                                for k, v in parts.items()})

    def theta(self, node: str, region: str, tier: str, blocks: str, threshold: str) -> float:
        t = self.node[node] + self.region.get(region, 0.0) + self.tier[tier] + self.blocks[blocks]
        return t + (self.threshold[threshold] if blocks != "0" and threshold else 0.0)

    def as_dict(self) -> dict:
        return {"node": dict(self.node), "region": dict(self.region), "tier": dict(self.tier),
                "blocks": dict(self.blocks), "threshold": dict(self.threshold), "md_per_unit": self.md_per_unit}


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything that defines a simulated review except its size and seed.

    Probabilities are weights (normalised). ``tiers`` draws the technique of a study's active
    arms (T1 conforming, T3 non-conforming, TU critical items not reported); ``blocks`` the
    number of selection blocks; ``thresholds`` the relief threshold of studies with blocks.
    ``tau`` is the between-study SD of the study's true effect (analysis scale); in a 3-arm
    study the two random effects have correlation 0.5 (consistency). ``sham_rate`` is the sham
    arm's responder probability; ``sham_change`` and ``sd`` the sham mean change and the SD of
    change on a 0-10 cm VAS.
    """

    populations: tuple[Population, ...] = tuple(POPULATIONS[p] for p in DEFAULT_POPULATIONS)
    effects: EffectModel = field(default_factory=EffectModel)
    tiers: Mapping[str, float] = field(default_factory=lambda: _frozen({"T1": 0.5, "T3": 0.5}))
    blocks: Mapping[str, float] = field(default_factory=lambda: _frozen({"0": 0.2, "1": 0.4, "2": 0.4}))
    thresholds: Mapping[str, float] = field(default_factory=lambda: _frozen({"50": 0.5, "75": 0.3, "100": 0.2}))
    treatments: int = 2
    three_arm: float = 0.15
    n_min: int = 20
    n_max: int = 120
    tau: float = 0.2
    sham_rate: float = 0.25
    sham_change: float = -1.0
    sd: float = 2.5

    def with_(self, **parts) -> "Scenario":
        fixed = {}
        for k, v in parts.items():
            if k in ("tiers", "blocks", "thresholds"):
                v = _frozen(v if isinstance(v, Mapping) else {x: 1.0 for x in v})
            elif k == "populations":
                v = tuple(POPULATIONS[p] if isinstance(p, str) else p for p in v)
            fixed[k] = v
        return replace(self, **fixed)

    def nodes_of(self, pop: Population) -> tuple[str, ...]:
        return pop.nodes[: self.treatments]

    def as_dict(self) -> dict:
        return {"populations": [p.name for p in self.populations], "effects": self.effects.as_dict(),
                "tiers": dict(self.tiers), "blocks": dict(self.blocks), "thresholds": dict(self.thresholds),
                "treatments": self.treatments, "three_arm": self.three_arm, "n_min": self.n_min,
                "n_max": self.n_max, "tau": self.tau, "sham_rate": self.sham_rate,
                "sham_change": self.sham_change, "sd": self.sd}


def _weights_ok(name: str, w: Mapping[str, float], allowed, caller: str) -> None:
    bad = [k for k in w if k not in allowed]
    if bad or not w or any(not math.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ParameterError(f"The '{name}' parameter of {caller} must map codes {list(allowed)} to non-negative "
                             f"weights with a positive sum. Got {dict(w)!r} instead.")


def generic_scenario(treatments: int, *, low: float = 0.0, high: float = 1.0, **parts) -> Scenario:
    """A scenario with ``treatments`` abstract active nodes ``T01, T02, ...`` (true base effects
    evenly spaced from ``low`` to ``high``) in one population, for large benchmark networks with
    :func:`~netstrata.synthesis.simulate.simulate_contrasts` (``pack=None``). Strata, modifiers and
    design weights are the defaults unless replaced through ``parts``."""
    if isinstance(treatments, bool) or not isinstance(treatments, int) or treatments < 1:
        raise ParameterError(f"The 'treatments' parameter of generic_scenario must be an integer >= 1. "
                             f"Got {treatments!r} instead.")
    names = tuple(f"T{i + 1:02d}" for i in range(treatments))
    step = (high - low) / max(treatments - 1, 1)
    effects = EffectModel().with_(node={n: low + i * step for i, n in enumerate(names)})
    pop = Population("generic", "lumbar", "facet_joint_pain", "MBB", names)
    return Scenario(populations=(pop,), effects=effects, treatments=treatments).with_(**parts)


def check_scenario(sc: Scenario, pack, caller: str = "simulate", arms: bool = True) -> None:
    """Check a scenario's numbers and every clinical code against the pack's vocabularies.

    ``pack=None`` (abstract contrast-level simulations) checks the numbers only; ``arms=False``
    skips the arm-table fields of the nodes (not needed for contrast-level data).
    """
    _weights_ok("tiers", sc.tiers, SIM_TIERS, caller)
    if pack is None:
        _weights_ok("blocks", sc.blocks, ("0", "1", "2", "3+"), caller)
        _weights_ok("thresholds", sc.thresholds, tuple(sc.effects.threshold), caller)
    else:
        v = pack.vocabularies
        _weights_ok("blocks", sc.blocks, [c.code for c in v["selection_n_blocks"].codes], caller)
        _weights_ok("thresholds", sc.thresholds,
                    [c.code for c in v["selection_threshold_pct"].codes if c.code != "other"], caller)
    for name, val, lo, hi in (("three_arm", sc.three_arm, 0, 1), ("sham_rate", sc.sham_rate, 1e-6, 1 - 1e-6),
                              ("tau", sc.tau, 0, math.inf), ("sd", sc.sd, 1e-9, math.inf)):
        if not (isinstance(val, (int, float)) and lo <= val <= hi):
            raise ParameterError(f"The '{name}' parameter of {caller} must be in [{lo:g}, {hi:g}]. "
                                 f"Got {val!r} instead.")
    if not (isinstance(sc.treatments, int) and sc.treatments >= 1):
        raise ParameterError(f"The 'treatments' parameter of {caller} must be an integer >= 1. Got {sc.treatments!r}.")
    if not (2 <= sc.n_min <= sc.n_max):
        raise ParameterError(f"The arm sizes of {caller} need 2 <= n_min <= n_max. Got {sc.n_min}, {sc.n_max}.")
    if not sc.populations:
        raise ParameterError(f"The 'populations' parameter of {caller} needs at least one population "
                             f"(one of {list(POPULATIONS)}).")
    for name, term in (("tiers", "tier"), ("blocks", "blocks"), ("thresholds", "threshold")):
        terms = getattr(sc.effects, term)
        lacking = [k for k, w in getattr(sc, name).items() if w > 0 and k not in terms]
        if lacking:
            raise ParameterError(f"The effect model of {caller} has no '{term}' term for {lacking} (it has "
                                 f"{list(terms)}); add them with EffectModel().with_({term}={{...}}).")
    for p in sc.populations:
        missing = [n for n in p.nodes if n not in sc.effects.node]
        if missing:
            raise ParameterError(f"Nodes {missing} of population {p.name!r} have no base effect in the effect model "
                                 f"(known: {sorted(sc.effects.node)}).")
        if pack is None:
            continue
        v = pack.vocabularies
        _codes(v, "region", [p.region], caller)
        _codes(v, "diagnosis", [p.diagnosis], caller)
        _codes(v, "selection_block_type", [p.block_type], caller)
        _codes(v, "family", p.nodes, caller)
        for fam in p.nodes if arms else ():
            if fam not in ARM_FIELDS:
                raise ParameterError(f"Node {fam!r} of population {p.name!r} has no arm fields "
                                     f"(known: {sorted(ARM_FIELDS)}).")
            for col, codes in ARM_FIELDS[fam].items():
                _codes(v, col, codes.split("|"), caller)


def _codes(vocabularies, name: str, values, caller: str) -> None:
    allowed = vocabularies[name].allowed
    for x in values:
        if x not in allowed:
            raise ParameterError(f"Code {x!r} of {caller}'s scenario is not in the pack vocabulary {name!r}.")
