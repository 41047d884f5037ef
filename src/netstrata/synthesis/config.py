"""The plan's ``[models]`` and ``[sensitivity]`` sections, validated into frozen settings.

``[models]`` (all optional)::

    [models]
    pairwise = "REML"      # tau2 estimator of each direct comparison (netstrata.pairwise)
    network = "DL"         # tau2 estimator of the network (netstrata.network: DL or REML)
    ci = "wald"            # "wald" or "hksj" (pairwise only)
    model = "random"       # which network model the conclusions read: "random" or "common"
    proportion = "PLO"     # single-arm layer: "PLO", "PFT" (inverse variance) or "GLMM"
    level = 0.95
    reference = ["sham_procedure"]   # preferred reference node(s); default: the most-studied control
    components = true      # also analyse combination nodes ("A+B") by their components (additive CNMA)
    components_inactive = "sham_procedure"   # the inactive component; default: the reference if a control
    classes = "family"     # class-effect models over this coarser node level (classes_stage)
    threshold = true       # threshold analysis of each network (classes_stage)

``[sensitivity]`` declares the multiverse: every key lists alternatives, the FIRST alternative of
each key is the primary analysis (what the report's main tables show)::

    [sensitivity]
    node_level = ["family", "technique"]           # lumping levels of the domain pack
    design = ["randomised", "comparative"]         # comparative = randomised + non-randomised pooled
    time_window = ["plan", "closest to but not after 3 months"]
    mixed_duration = ["exclude", "include"]        # studies excluded only for a mixed-duration population
    selection = ["any", "selection_reporting=explicit"]
    risk_of_bias = ["any", "rob_overall=low|some_concerns"]
    fidelity = ["any", "fidelity_tier=T1|T2"]
    data_collection = ["any", "prospective"]       # prospective: non-randomised studies must be prospective
    max_specifications = 5000                      # sample (with the run's seed) if there are more
    layers = "subgroup"                            # how the randomised + non-randomised layers are combined

``layers`` (used when ``design`` lists ``"comparative"``): the approach of
:func:`netstrata.ma.layers.combine_layers` that every stratum's primary analysis applies per
direct comparison with non-randomised studies, so the combined estimate is always shown beside
the randomised-only one (issue 9). ``"subgroup"`` (default: all studies pooled ignoring design,
what the ``comparative`` specification pools, with the between-design test), ``"moderator"``,
``"downweight"`` (a table: ``{ approach = "downweight", inflation = 2, shift = 0 }``) or
``"separate"``.

``selection``, ``risk_of_bias`` and ``fidelity`` take ``"any"`` or a filter ``column=value|value``
on a studies column (or an arms column; a study passes when all its active arms pass); three
columns are derived: ``fidelity_tier`` and ``fidelity_score`` (the fidelity appraisal of
``fidelity.csv``) and ``rob_overall`` (the worst overall risk-of-bias judgement of the study in
``rob.csv``: ``low``, ``some_concerns``, ``high``, ``moderate``, ``serious``, ``critical``).
``data_collection`` takes ``"any"`` or ``"prospective"`` (the multisociety letter's criterion:
non-randomised and single-arm studies enter only when ``studies.data_collection`` is
``prospective``; RCTs always do); its first alternative must be the plan's ``[evidence]
data_collection`` (default ``"any"``), as the first ``node_level`` must be ``[nodes] level``.
The design alternatives must start with ``"randomised"`` (issue 9: a combined estimate is never
reported without the randomised-only one).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from ..certainty.sof import ABSOLUTE_RISK
from ..data.plan import unknown_keys
from ..data.timewindow import parse_window
from ..errors import DataError, ParameterError, Problem, closest
from ..ma.layers import layer_spec
from .classes_plan import MODEL_KEYS, ThresholdPlan, parse_model_keys

__all__ = ["ModelSettings", "SensitivityPlan", "Filter", "ReportSettings", "parse_models", "parse_sensitivity",
           "parse_report", "DIMENSIONS", "DESIGN_CHOICES", "COLLECTION_CHOICES"]

PAIRWISE_METHODS = ("REML", "DL", "PM", "ML", "HE", "SJ", "HS", "EB", "FE")
NETWORK_METHODS = ("DL", "REML")
PROPORTION_MODELS = ("PLO", "PFT", "GLMM")
DESIGN_CHOICES = ("randomised", "comparative")
COLLECTION_CHOICES = ("any", "prospective")
FILTER_DIMENSIONS = ("selection", "risk_of_bias", "fidelity")
#: dimension -> what it varies (registry data: used by validation, the report and the CLI summary)
DIMENSIONS = {
    "node_level": "node-map lumping level of the domain pack",
    "design": "evidence included in the comparative analysis",
    "time_window": "outcome time-window rule",
    "mixed_duration": "studies excluded only for a mixed acute/chronic population",
    "selection": "patient-selection paradigm filter",
    "risk_of_bias": "risk-of-bias filter",
    "fidelity": "technical-fidelity tier filter",
    "data_collection": "non-randomised evidence: any, or prospective studies only",
}
_MODELS = ("pairwise", "network", "ci", "model", "proportion", "level", "reference", "components",
           "components_inactive", *MODEL_KEYS)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """How each analysis is fitted."""

    pairwise: str = "REML"
    network: str = "DL"
    ci: str = "wald"
    model: str = "random"
    proportion: str = "PLO"
    level: float = 0.95
    #: preferred reference treatments of each network, in order; the first present is used.
    #: Empty: the control node with the most studies (e.g. sham), else netmeta's default.
    reference: tuple[str, ...] = ()
    #: component network meta-analysis of each stratum's primary network (netstrata.component_network)
    components: bool = False
    #: its inactive component; None: the network's reference when it is a control node
    components_inactive: str | None = None
    #: node level of the class-effect models (None: not run)
    classes: str | None = None
    #: threshold analysis to run (None: not run)
    threshold: ThresholdPlan | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """A study filter ``column=value|value`` (``column`` None = keep every study)."""

    text: str
    column: str | None = None
    values: tuple[str, ...] = ()

    @property
    def keeps_all(self) -> bool:
        return self.column is None


@dataclass(frozen=True, slots=True)
class SensitivityPlan:
    """The multiverse: alternatives per dimension (first = primary) and a cap on specifications."""

    dimensions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    max_specifications: int | None = None
    layers: object = None      # netstrata.ma.layers.LayerSpec when design lists "comparative"

    def alternatives(self, name: str) -> tuple[str, ...]:
        return dict(self.dimensions).get(name, ())

    @property
    def n_combinations(self) -> int:
        return math.prod(len(v) for _, v in self.dimensions) if self.dimensions else 1


def parse_filter(text: str) -> Filter | None:
    """``"any"`` or ``"column=v1|v2"``; None if not understood."""
    if text.strip().lower() in ("any", "all"):
        return Filter(text)
    col, sep, vals = text.partition("=")
    values = tuple(v.strip() for v in vals.split("|") if v.strip())
    if not sep or not col.strip() or not values:
        return None
    return Filter(text, col.strip(), values)


def _problem(file, key, message, found=None, expected=None, hint=None):
    return Problem(message, file=file, column=key, found=found, expected=expected, hint=hint)


def _did_you_mean(value, allowed) -> str | None:
    best = closest(str(value), allowed)
    return f"did you mean {best!r}?" if best and best != value else None


def parse_models(section: Mapping | None, file: str = "netstrata.toml") -> ModelSettings:
    """Validate ``[models]``; raises DataError listing every problem."""
    section = dict(section or {})
    problems = unknown_keys(section, _MODELS, "models", file)
    allowed = {"pairwise": PAIRWISE_METHODS, "network": NETWORK_METHODS, "ci": ("wald", "hksj"),
               "model": ("random", "common"), "proportion": PROPORTION_MODELS}
    out = {}
    for key, options in allowed.items():
        if key in section:
            v = section[key]
            if v not in options:
                problems.append(_problem(file, f"models.{key}", "value not allowed", v,
                                         "one of " + ", ".join(options), _did_you_mean(v, options)))
            else:
                out[key] = v
    if "level" in section:
        lv = section["level"]
        ok = isinstance(lv, (int, float)) and not isinstance(lv, bool) and 0 < lv < 1
        if not ok:
            problems.append(_problem(file, "models.level", "expected a confidence level in (0, 1)", lv, "e.g. 0.95"))
        else:
            out["level"] = float(lv)
    if "reference" in section:
        ref = section["reference"]
        ref = [ref] if isinstance(ref, str) else ref
        if not isinstance(ref, list) or not all(isinstance(r, str) and r for r in ref):
            problems.append(_problem(file, "models.reference", "expected a node name or a list of node names",
                                     section["reference"], 'e.g. ["sham_procedure", "exercise_program"]'))
        else:
            out["reference"] = tuple(ref)
    problems += _components(section, file, out)
    extra, found = parse_model_keys(section, file)
    out.update(extra)
    problems += found
    if problems:
        raise DataError(problems)
    return ModelSettings(**out)


def _components(section: Mapping, file: str, out: dict) -> list[Problem]:
    """``components`` (true / false) and ``components_inactive`` (a node name) of ``[models]``."""
    problems = []
    if "components" in section:
        v = section["components"]
        if not isinstance(v, bool):
            problems.append(_problem(file, "models.components", "expected true or false", v,
                                     "true (analyse combination nodes by their components) or false"))
        else:
            out["components"] = v
    if "components_inactive" in section:
        v = section["components_inactive"]
        if not isinstance(v, str) or not v.strip():
            problems.append(_problem(file, "models.components_inactive", "expected a node name", v,
                                     'the inactive component, e.g. "sham_procedure"'))
        else:
            out["components_inactive"] = v.strip()
    return problems


def _check_alternative(name: str, value, plan, pack, file: str) -> Problem | None:
    where = f"sensitivity.{name}"
    if not isinstance(value, str):
        return _problem(file, where, "expected text alternatives", value)
    if name == "node_level":
        levels = tuple(getattr(pack, "level_names", ()) or ())
        if levels and value not in levels:
            best = closest(value, levels)
            return _problem(file, where, "unknown node level", value, "one of " + ", ".join(levels),
                            f"did you mean {best!r}?" if best else None)
    elif name == "design" and value not in DESIGN_CHOICES:
        return _problem(file, where, "value not allowed", value, "one of " + ", ".join(DESIGN_CHOICES),
                        hint=_did_you_mean(value, DESIGN_CHOICES))
    elif name == "mixed_duration" and value not in ("exclude", "include"):
        return _problem(file, where, "value not allowed", value, "one of exclude, include")
    elif name == "data_collection" and value not in COLLECTION_CHOICES:
        return _problem(file, where, "value not allowed", value, "one of " + ", ".join(COLLECTION_CHOICES),
                        hint=_did_you_mean(value, COLLECTION_CHOICES))
    elif name == "time_window" and value != "plan":
        _, err = parse_window(value)
        if err:
            return _problem(file, where, "time-window rule not understood", value, "'plan' or " + err)
    elif name in FILTER_DIMENSIONS and parse_filter(value) is None:
        return _problem(file, where, "filter not understood", value, "'any' or 'column=value|value'")
    return None


def parse_sensitivity(section: Mapping | None, plan=None, pack=None,
                      file: str = "netstrata.toml") -> SensitivityPlan:
    """Validate ``[sensitivity]``; raises DataError listing every problem."""
    section = dict(section or {})
    problems, dims = [], []
    cap = section.pop("max_specifications", None)
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        problems.append(_problem(file, "sensitivity.max_specifications", "expected a positive integer", cap))
        cap = None
    layers_given = section.pop("layers", None)
    for name, values in section.items():
        if name not in DIMENSIONS:
            best = closest(name, (*DIMENSIONS, *_EXTRA_KEYS))
            problems.append(_problem(file, f"sensitivity.{name}", "unknown key", name,
                                     "one of " + ", ".join((*DIMENSIONS, *_EXTRA_KEYS)),
                                     f"did you mean {best!r}?" if best else None))
            continue
        values = [values] if isinstance(values, str) else values
        if not isinstance(values, list) or not values:
            problems.append(_problem(file, f"sensitivity.{name}", "expected a non-empty list of alternatives", values))
            continue
        found = [p for p in (_check_alternative(name, v, plan, pack, file) for v in values) if p]
        if len(set(map(str, values))) != len(values):
            found.append(_problem(file, f"sensitivity.{name}", "an alternative is listed twice", values))
        if name == "design" and values[0] != "randomised":
            found.append(_problem(file, "sensitivity.design", "the randomised-only analysis must be the first "
                                  "(primary) alternative: a combined estimate is never reported without it",
                                  values, expected='["randomised", "comparative"]'))
        problems += found
        if not found:
            dims.append((name, tuple(values)))
    layers = None
    if "comparative" in dict(dims).get("design", ()) or layers_given is not None:
        layers, problem = _layers(layers_given, file)
        problems += [problem] if problem else []
    if problems:
        raise DataError(problems)
    order = {n: i for i, n in enumerate(DIMENSIONS)}
    return SensitivityPlan(tuple(sorted(dims, key=lambda d: order[d[0]])), cap, layers)


_EXTRA_KEYS = ("max_specifications", "layers")
DEFAULT_LAYERS = "subgroup"


def _layers(value, file: str):
    """(LayerSpec or None, Problem or None) from ``[sensitivity] layers``."""
    value = DEFAULT_LAYERS if value is None else value
    spec = dict(value) if isinstance(value, Mapping) else {"approach": value}
    try:
        return layer_spec(spec.pop("approach", DEFAULT_LAYERS), caller="[sensitivity] layers", **spec), None
    except (ParameterError, TypeError) as exc:
        return None, _problem(file, "sensitivity.layers", str(exc), value,
                              'an approach ("separate", "subgroup", "moderator") or '
                              '{ approach = "downweight", inflation = 2, shift = 0 }')


# ----------------------------------------------------------------- [report]

_REPORT = ("baseline_risk",)


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """The plan's ``[report]``: ``baseline_risk`` = outcome id -> control-group risk in (0, 1),
    which adds events per 1000 to the summary of findings of a binary outcome (OR, RR, RD)."""

    baseline_risk: tuple[tuple[str, float], ...] = ()

    def risks(self) -> dict[str, float]:
        return dict(self.baseline_risk)


def parse_report(section: Mapping | None, plan=None, file: str = "netstrata.toml") -> ReportSettings:
    """Validate ``[report]``; raises DataError listing every problem::

        [report]
        baseline_risk = { success = 0.25 }   # control-group risk of a binary outcome, in (0, 1)
    """
    section = dict(section or {})
    problems = unknown_keys(section, _REPORT, "report", file)
    risks = section.get("baseline_risk", {})
    if not isinstance(risks, Mapping):
        problems.append(_problem(file, "report.baseline_risk", "expected a table outcome = risk", risks,
                                 "e.g. baseline_risk = { success = 0.25 }"))
        risks = {}
    outcomes = {o.id: o for o in getattr(plan, "outcomes", ())}
    out = []
    for oid, p in risks.items():
        where = f"report.baseline_risk.{oid}"
        if outcomes and oid not in outcomes:
            problems.append(_problem(file, where, "baseline risk for an unknown outcome", oid,
                                     "one of " + ", ".join(outcomes), _did_you_mean(oid, outcomes)))
        elif isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
            problems.append(_problem(file, where, "baseline risk out of range", p,
                                     "a proportion strictly between 0 and 1, e.g. 0.25 for 25%",
                                     "write a percentage as a proportion: 25% is 0.25"
                                     if isinstance(p, (int, float)) and 1 < p < 100 else None))
        elif outcomes and outcomes[oid].measure not in ABSOLUTE_RISK:
            problems.append(_problem(file, where, "a baseline risk applies to binary comparative measures only",
                                     outcomes[oid].measure, "an outcome measured by " + ", ".join(sorted(ABSOLUTE_RISK))))
        else:
            out.append((str(oid), float(p)))
    if problems:
        raise DataError(problems)
    return ReportSettings(tuple(out))
