"""The plan's ``[certainty]`` section, validated into frozen settings (one source for ``run`` and ``validate``).

::

    [certainty]
    framework = "cinema"             # or "grade_nma" (GRADE's approach to NMA: Puhan 2014,
                                     #   Brignardello-Petersen 2018; minimally contextualised)
    imprecision_threshold = "null"   # grade_nma: imprecision against the null, or "mid"
    rob_rule = "majority"            # CINeMA aggregation of study levels: majority, average, highest
    indirectness_rule = "majority"
    p_thresholds = [0.01, 0.10]      # bands of incoherence p-values
    limits = "zone"                  # or "cinema_app" (the CINeMA 2.0 web application's limits)

    [certainty.target]               # what the guideline question fixes (indirectness targets)
    selection_control = "placebo_controlled"

    [certainty.transitivity]         # effect modifiers and imbalance thresholds
    modifiers = ["selection_n_blocks", "sham_subtype"]
    cramers_v = 0.3
    smd = 0.5
    tvd = 0.25
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..certainty.network import FRAMEWORKS
from ..certainty.rules import AGGREGATION_RULES, DEFAULT_P_THRESHOLDS, LIMIT_RULES
from ..errors import DataError, Problem, closest

__all__ = ["CertaintySettings", "parse_certainty", "CERTAINTY_KEYS"]

_CHOICES = {"framework": FRAMEWORKS, "imprecision_threshold": ("null", "mid"),
            "rob_rule": tuple(AGGREGATION_RULES), "indirectness_rule": tuple(AGGREGATION_RULES),
            "limits": tuple(LIMIT_RULES)}
CERTAINTY_KEYS = (*_CHOICES, "p_thresholds", "target", "transitivity")
_TRANSITIVITY_KEYS = ("modifiers", "cramers_v", "smd", "tvd")


@dataclass(frozen=True, slots=True)
class CertaintySettings:
    framework: str = "cinema"
    imprecision_threshold: str = "null"
    rob_rule: str = "majority"
    indirectness_rule: str = "majority"
    limits: str = "zone"
    p_thresholds: tuple[float, float] = DEFAULT_P_THRESHOLDS

    def rate_options(self) -> dict:
        """Keyword arguments of :func:`netstrata.certainty.rate_network`."""
        return {"framework": self.framework, "imprecision_threshold": self.imprecision_threshold,
                "rob_rule": self.rob_rule, "indirectness_rule": self.indirectness_rule, "limits": self.limits,
                "p_thresholds": self.p_thresholds}


def _problem(key, message, found=None, expected=None, hint=None, file="netstrata.toml") -> Problem:
    return Problem(message, file=file, column=f"certainty.{key}", found=found, expected=expected, hint=hint)


def _p_thresholds(value, problems) -> tuple[float, float] | None:
    ok = (isinstance(value, (list, tuple)) and len(value) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
          and 0 <= value[0] <= value[1] <= 1)
    if not ok:
        problems.append(_problem("p_thresholds", "expected two p-values [lower, upper], 0 <= lower <= upper <= 1",
                                 value, "e.g. [0.01, 0.10]"))
        return None
    return float(value[0]), float(value[1])


def _transitivity(value, problems) -> None:
    if not isinstance(value, Mapping):
        problems.append(_problem("transitivity", "expected a table", value, "[certainty.transitivity]"))
        return
    for k, v in value.items():
        if k not in _TRANSITIVITY_KEYS:
            best = closest(k, _TRANSITIVITY_KEYS)
            problems.append(_problem(f"transitivity.{k}", "unknown key", k, ", ".join(_TRANSITIVITY_KEYS),
                                     f"did you mean {best!r}?" if best else None))
        elif k == "modifiers" and not (isinstance(v, list) and all(isinstance(m, str) for m in v)
                                       or isinstance(v, Mapping)):
            problems.append(_problem("transitivity.modifiers", "expected a list of column names", v,
                                     '["selection_n_blocks", "sham_subtype"]'))
        elif k != "modifiers" and not (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0):
            problems.append(_problem(f"transitivity.{k}", "expected a non-negative threshold", v, "e.g. 0.3"))


def parse_certainty(section: Mapping | None, file: str = "netstrata.toml") -> CertaintySettings:
    """Validate ``[certainty]``; raises DataError listing every problem (file, key, found, expected)."""
    section = dict(section or {})
    problems: list[Problem] = []
    out: dict = {}
    for k, v in section.items():
        if k not in CERTAINTY_KEYS:
            best = closest(k, CERTAINTY_KEYS)
            problems.append(_problem(k, "unknown key", k, ", ".join(CERTAINTY_KEYS),
                                     f"did you mean {best!r}?" if best else None, file))
        elif k in _CHOICES:
            if v not in _CHOICES[k]:
                best = closest(str(v), _CHOICES[k])
                problems.append(_problem(k, "value not allowed", v, "one of " + ", ".join(_CHOICES[k]),
                                         f"did you mean {best!r}?" if best else None, file))
            else:
                out[k] = v
        elif k == "p_thresholds":
            p = _p_thresholds(v, problems)
            if p is not None:
                out[k] = p
        elif k == "target" and not isinstance(v, Mapping):
            problems.append(_problem("target", "expected a table of study columns and values", v,
                                     '[certainty.target] selection_control = "placebo_controlled"', file=file))
        elif k == "transitivity":
            _transitivity(v, problems)
    if problems:
        raise DataError(problems)
    return CertaintySettings(**out)
