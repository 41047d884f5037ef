"""The exclusion register: every record that cannot enter an analysis, with a declared reason.

Reason codes are registry data (``REASONS``); a domain pack adds its own in
``[exclusion_reasons]``. Later stages (node maps, networks) append rows with
:meth:`ExclusionRegister.extend`, which returns a new register (the object is frozen).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import pandas as pd

__all__ = ["Reason", "REASONS", "Exclusion", "ExclusionRegister", "STAGES"]


@dataclass(frozen=True, slots=True)
class Reason:
    """A declared reason code with its label and the stage where it usually arises."""

    code: str
    label: str
    stage: str


STAGES = ("screening", "extraction", "time_window", "omission_check", "analysis")

REASONS: dict[str, Reason] = {r.code: r for r in (
    # screening (rows of exclusions.csv)
    Reason("population_out_of_scope", "Population outside the review question", "screening"),
    Reason("design_not_eligible", "Study design not eligible", "screening"),
    Reason("arm_sizes_not_verified", "Arm sizes could not be verified in the source", "screening"),
    Reason("data_not_extractable", "Outcome data cannot be extracted from the report", "screening"),
    Reason("duplicate_publication", "Duplicate report of an included study", "screening"),
    Reason("not_retrieved", "Full text not retrieved", "screening"),
    Reason("other", "Other reason (see message)", "screening"),
    # extraction: a row exists but lacks what an analysis needs
    Reason("counts_not_reported", "Events or sample size not reported", "extraction"),
    Reason("n_not_reported", "Sample size not reported (e.g. percentages only)", "extraction"),
    Reason("dispersion_not_reported", "Mean reported without SD", "extraction"),
    Reason("no_arm_level_data", "Only contrast-level data (effect and CI) reported", "extraction"),
    Reason("adjudicated_drop", "Dropped by a decision in the adjudication log", "extraction"),
    Reason("implausible_value", "A value outside netstrata's plausibility bounds (arm size, SD, SE, CI)",
           "extraction"),
    # time window rules of the plan
    Reason("time_point_not_reported", "Time point not reported", "time_window"),
    Reason("no_time_point_in_window", "No time point satisfies the plan's time-window rule", "time_window"),
    Reason("time_point_not_selected", "Another time point is closer to the plan's target", "time_window"),
    Reason("study_excluded", "The study is listed in exclusions.csv", "screening"),
    # omission check against the plan's known-trials list
    Reason("known_trial_not_found", "A known trial is neither included nor listed in exclusions.csv",
           "omission_check"),
    # later stages (node maps, networks)
    Reason("disconnected_node", "Treatment not connected to the network", "analysis"),
    Reason("single_arm_in_comparative_layer", "Only one arm has data for this outcome", "analysis"),
    Reason("fidelity_rule", "Excluded by the plan's technical-fidelity inclusion rule", "analysis"),
    Reason("layer_not_declared", "Evidence layer not declared for this stratum in the plan's [evidence] section",
           "analysis"),
)}


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One register row: which record, why (declared code), a readable message, at which stage."""

    study: str
    reason_code: str
    message: str
    stage: str
    arm: str | None = None
    outcome: str | None = None
    timepoint_weeks: float | None = None
    file: str | None = None
    row: int | None = None


_COLUMNS = ("study", "arm", "outcome", "timepoint_weeks", "reason_code", "reason", "message", "stage",
            "file", "row")


@dataclass(frozen=True, slots=True)
class ExclusionRegister:
    """Every record that does not enter an analysis (rows are :class:`Exclusion`)."""

    rows: tuple[Exclusion, ...] = ()
    reasons: Mapping[str, str] | None = None

    def label(self, code: str) -> str:
        if self.reasons and code in self.reasons:
            return self.reasons[code]
        return REASONS[code].label if code in REASONS else code

    def extend(self, rows: Iterable[Exclusion]) -> "ExclusionRegister":
        """A new register with ``rows`` appended (codes must be declared)."""
        rows = tuple(rows)
        for r in rows:
            if r.reason_code not in REASONS and not (self.reasons and r.reason_code in self.reasons):
                raise ValueError(f"undeclared exclusion reason {r.reason_code!r}")
        return ExclusionRegister(self.rows + rows, self.reasons)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def studies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.study for r in self.rows))

    def for_study(self, study: str) -> tuple[Exclusion, ...]:
        return tuple(r for r in self.rows if r.study == study)

    def to_frame(self) -> pd.DataFrame:
        data = [{**{c: getattr(r, c, None) for c in _COLUMNS if c != "reason"},
                 "reason": self.label(r.reason_code)} for r in self.rows]
        return pd.DataFrame(data, columns=list(_COLUMNS))

    def counts(self) -> pd.Series:
        """Number of register rows per reason code."""
        return pd.Series([r.reason_code for r in self.rows], dtype=object).value_counts().sort_index()

    def __repr__(self) -> str:
        return f"ExclusionRegister(rows={len(self.rows)}, studies={len(self.studies())})"


def all_reasons(pack_reasons: Mapping[str, str] | None) -> dict[str, str]:
    """Core reason codes plus a pack's, as code -> label."""
    out = {c: r.label for c, r in REASONS.items()}
    out.update(pack_reasons or {})
    return out
