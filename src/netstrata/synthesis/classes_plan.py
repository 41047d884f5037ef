"""``[models]`` keys of the class-effect and threshold stages, parsed with the plan (config)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..errors import Problem, closest

__all__ = ["MODEL_KEYS", "ThresholdPlan", "parse_model_keys", "plan_problem"]

MODEL_KEYS = ("classes", "threshold")
_THRESHOLD_KEYS = {"level": ("study", "contrast"), "decision": ("best", "mid"), "model": ("common", "random")}


@dataclass(frozen=True, slots=True)
class ThresholdPlan:
    """``[models] threshold``: which threshold analysis to run (model None: the plan's model)."""

    level: str = "study"
    decision: str = "best"
    model: str | None = None


def plan_problem(file, key, message, found=None, expected=None, hint=None) -> Problem:
    return Problem(message, file=file, column=key, found=found, expected=expected, hint=hint)


def parse_model_keys(section: Mapping, file: str = "netstrata.toml") -> tuple[dict, list[Problem]]:
    """Validate ``classes`` and ``threshold`` of ``[models]``: (values, problems)."""
    out: dict[str, str | ThresholdPlan | None] = {}
    problems: list[Problem] = []
    if "classes" in section:
        v = section["classes"]
        if isinstance(v, str) and v.strip():
            out["classes"] = v.strip()
        else:
            problems.append(plan_problem(file, "models.classes", "expected the name of a node level", v,
                                     'a node level of the domain pack, e.g. "family"'))
    if "threshold" in section:
        v = section["threshold"]
        if isinstance(v, bool):
            out["threshold"] = ThresholdPlan() if v else None
        elif isinstance(v, Mapping):
            spec = {}
            for k, val in v.items():
                if k not in _THRESHOLD_KEYS:
                    best = closest(k, _THRESHOLD_KEYS)
                    problems.append(plan_problem(file, f"models.threshold.{k}", "unknown key", k,
                                             "one of " + ", ".join(_THRESHOLD_KEYS),
                                             f"did you mean {best!r}?" if best else None))
                elif val not in _THRESHOLD_KEYS[k]:
                    problems.append(plan_problem(file, f"models.threshold.{k}", "value not allowed", val,
                                             "one of " + ", ".join(_THRESHOLD_KEYS[k])))
                else:
                    spec[k] = val
            out["threshold"] = ThresholdPlan(**spec)
        else:
            problems.append(plan_problem(file, "models.threshold", "expected true, false or a table", v,
                                     'true or { level = "study", decision = "best", model = "common" }'))
    return out, problems
