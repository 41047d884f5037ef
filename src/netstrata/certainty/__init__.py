"""netstrata.certainty: confidence in network meta-analysis results (CINeMA) and summary of findings.

- :func:`rate_network` → :class:`CertaintyTable` of :class:`CertaintyRating` (six domains per
  comparison, every input and rule kept, overrides recorded with reasons).
- Domain rules as small functions and tables: :mod:`netstrata.certainty.rules`.
- Study-level inputs: :func:`derive_indirectness` (rule table condition → level),
  :func:`study_levels` (RoB records or tables), :func:`fidelity_by_study`.
- :func:`mid_zone`: the zone of equivalence from the MID (ratio measures on the log scale).
- :func:`summary_of_findings`: GRADE summary-of-findings rows with plain-language statements.
"""
from __future__ import annotations

from .judgement import CONCERNS, DOMAINS, JUDGEMENTS, RATINGS, DomainJudgement
from .network import CertaintyTable, NetworkEvidence, network_evidence, rate_network
from .rating import CertaintyRating, ComparisonEvidence, overall_rating, rate_comparison
from .rules import AGGREGATION_RULES
from .sof import SofTable, summary_of_findings
from .studies import (DEFAULT_INDIRECTNESS_RULES, IndirectnessRule, derive_indirectness, fidelity_by_study,
                      study_levels, transitivity_flags)
from .zone import MIDZone, mid_zone

__all__ = [
    "rate_network", "network_evidence", "CertaintyTable", "NetworkEvidence", "CertaintyRating",
    "ComparisonEvidence", "DomainJudgement", "rate_comparison", "overall_rating", "AGGREGATION_RULES",
    "derive_indirectness", "IndirectnessRule", "DEFAULT_INDIRECTNESS_RULES", "study_levels",
    "fidelity_by_study", "transitivity_flags", "mid_zone", "MIDZone", "summary_of_findings", "SofTable",
    "DOMAINS", "JUDGEMENTS", "CONCERNS", "RATINGS",
]
