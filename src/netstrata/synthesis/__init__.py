"""netstrata.synthesis (layer 5): the pipeline from a review to evidence per clinical stratum.

* :func:`analyse_review` (a Review -> :class:`ProjectResult`) and :func:`run_project` (a project
  folder -> ``results.json``, tables and the HTML report);
* :class:`Stratum`, :class:`StratumResult`, :class:`LayerResult`, :class:`ComparisonResult`:
  per-stratum analyses by evidence layer (randomised, non-randomised, single-arm), and
  :class:`LayerCombination` (randomised + non-randomised side by side and combined, issue 9);
* :class:`EvidencePlan` / :func:`parse_evidence`: the plan's ``[evidence]`` section, which layers
  each stratum uses (records of the others go to the register as ``layer_not_declared``);
* certainty inputs per stratum (rob.csv, derived indirectness, per-stratum transitivity):
  :mod:`~netstrata.synthesis.certainty_inputs`; :func:`canonical_review` (results never depend
  on input row order);
* :func:`run_multiverse`, :class:`Specification`, :class:`MultiverseResult`: sensitivity
  analyses over every combination of the plan's alternatives, in parallel;
* :func:`check_review` (every check a run makes before it analyses) and :func:`validate_project`
  (load + those checks, never raising: what ``netstrata validate`` prints);
* :func:`classify`, :func:`holding`: conclusion categories and how often they hold;
* :mod:`~netstrata.synthesis.transitivity`, :mod:`~netstrata.synthesis.simulate`.
"""
from __future__ import annotations

from importlib import import_module

_LAZY = {
    "analyse_review": "pipeline", "run_project": "pipeline", "RunOutputs": "pipeline",
    "ProjectResult": "result",
    "Stratum": "strata",
    "StratumResult": "analyse", "LayerResult": "analyse", "ComparisonResult": "analyse", "RateResult": "analyse",
    "LayerCombination": "analyse", "canonical_review": "canonical",
    "run_multiverse": "multiverse", "Specification": "multiverse", "MultiverseResult": "multiverse",
    "specifications": "multiverse",
    "Choices": "records", "prepare": "records",
    "ModelSettings": "config", "SensitivityPlan": "config", "parse_models": "config",
    "parse_sensitivity": "config",
    "EvidencePlan": "evidence", "parse_evidence": "evidence",
    "check_review": "checks", "validate_project": "validation", "Validation": "validation",
    "parse_report": "config", "ReportSettings": "config",
    "classify": "conclusions", "holding": "conclusions", "threshold": "conclusions",
    "run_jobs": "parallel", "SerialExecutor": "parallel",
    "simulate_contrasts": "simulate", "simulate_review": "simulate",
    "transitivity_from_review": "transitivity",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
