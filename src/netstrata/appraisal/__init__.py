"""netstrata.appraisal: extraction quality control, adjudication, plausibility, risk of bias.

- :func:`compare_extractions`: double extraction, cell by cell (:class:`ExtractionComparison`).
- :class:`AdjudicationLog`, :func:`verify_log`, :func:`apply_adjudications`: an append-only,
  hash-chained SQLite log of decisions and the reconciled table built from it.
- :func:`check_plausibility`: impossible or implausible values with suggested fixes.
- :func:`check_known_trials`, :func:`check_exclusion_register`: the omission check.
- :func:`rob2`, :func:`robins_i`, :func:`jbi_case_series`: risk-of-bias records (tools as data);
  :func:`appraise_table` builds them all from a long ``rob.csv`` table.
- :func:`appraise_fidelity`, :func:`fidelity_subset`, :func:`with_fidelity`: technical fidelity
  against the pack's checklists, per-arm tiers (T1/T2/TU/T3) and tier-based inclusion rules.
"""
from __future__ import annotations

from .adjudication import AdjudicationLog, Decision, LogVerification, read_log, verify_log
from .extraction import KINDS, ExtractionComparison, compare_extractions
from .plausibility import RULES, PlausibilityReport, check_plausibility
from .project import compare_project
from .reconcile import AdjudicatedTable, apply_adjudications
from .register import KnownTrialsCheck, check_exclusion_register, check_known_trials, match_study
from .rob import CaseSeriesAppraisal, RiskOfBias, jbi_case_series, rob2, robins_i
from .rob_table import RiskOfBiasTable, appraise_table
from .fidelity import appraise_fidelity
from .fidelity.rules import TIERS, TierRules
from .fidelity.use import fidelity_subset, with_fidelity
from .fidelity.checklists import load_checklists

__all__ = [
    "compare_extractions", "compare_project", "ExtractionComparison", "KINDS",
    "AdjudicationLog", "Decision", "LogVerification", "verify_log", "read_log",
    "apply_adjudications", "AdjudicatedTable",
    "check_plausibility", "PlausibilityReport", "RULES",
    "check_known_trials", "check_exclusion_register", "KnownTrialsCheck", "match_study",
    "rob2", "robins_i", "jbi_case_series", "RiskOfBias", "CaseSeriesAppraisal",
    "appraise_table", "RiskOfBiasTable",
    "appraise_fidelity", "fidelity_subset", "with_fidelity", "TierRules", "TIERS", "load_checklists",
]
