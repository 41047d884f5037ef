"""The vocabulary of a specification: its analytic choices, the evidence layers, and the reason
codes the synthesis adds to the exclusion register (shared by records, filters, the multiverse and
the labels, below all of them)."""
from __future__ import annotations

from dataclasses import dataclass

from ..data.spec import DESIGNS

__all__ = ["ARM_COLUMNS", "LAYERS", "SYNTHESIS_REASONS", "Choices", "layer_of", "node_translation"]

#: arm-level columns of a contrast kept for the network layer (netmeta uses them for REML)
ARM_COLUMNS = ("n1", "n2", "events1", "events2", "sd1", "sd2", "time1", "time2")

LAYERS = {"randomised": "Randomised comparative (network meta-analysis)",
          "nonrandomised": "Non-randomised comparative (analysed separately)",
          "comparative": "Randomised and non-randomised pooled (sensitivity analysis only)",
          "single_arm": "Single-arm outcome rates"}
#: reason codes this stage adds to the exclusion register (code -> label)
SYNTHESIS_REASONS = {
    "sensitivity_filter": "Study left out by a sensitivity-analysis filter",
    "single_arm_continuous": "Single-arm continuous outcome: no comparator and no outcome-rate analysis",
    "rate_outcome_in_comparative_study": "Proportion outcome reported by a comparative study (rate layer is single-arm)",
    "contrast_not_estimable": "The study contrast cannot be estimated (e.g. no events in both arms)",
    "duplicate_data": "Arm-level data of the same study and outcome are used instead",
    "measure_mismatch": "Contrast reported on a different effect measure from the plan's",
    "within_node_comparison": "Both arms fall in the same treatment node at this lumping level",
    "layer_not_declared": "Evidence layer not declared for this stratum in the plan's [evidence] section",
    "not_prospective": "Non-randomised study not prospective (data_collection): left out by the plan's choice",
}


@dataclass(frozen=True, slots=True)
class Choices:
    """Analytic choices of one specification (the primary analysis uses the plan's defaults)."""

    node_level: str | None = None
    design: str = "randomised"
    time_window: str = "plan"
    mixed_duration: str = "exclude"
    selection: str = "any"
    risk_of_bias: str = "any"
    fidelity: str = "any"
    data_collection: str = "any"

    def items(self) -> tuple[tuple[str, str], ...]:
        return tuple((f, str(getattr(self, f))) for f in self.__slots__)


def layer_of(design: str, choice: str = "randomised") -> str:
    d = DESIGNS.get(design)
    if d is None or not d.comparative:
        return "single_arm"
    if choice == "comparative":
        return "comparative"
    return "randomised" if design == "RCT" else "nonrandomised"


def node_translation(primary_map, spec_map) -> dict[str, str]:
    """Spec-level node -> primary-level node, where all its arms fall in one primary node."""
    targets: dict[str, set] = {}
    for arm, node in spec_map.assignment.items():
        targets.setdefault(node, set()).add(primary_map.assignment.get(arm))
    return {n: next(iter(t)) for n, t in targets.items() if len(t) == 1 and None not in t}
