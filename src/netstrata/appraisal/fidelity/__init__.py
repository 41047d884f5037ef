"""Technical fidelity: each arm appraised against the published technical standards of its procedure.

- :mod:`.checklists`: the domain pack's checklists (items, critical items, standards, sources);
- :mod:`.table`: ``fidelity.csv`` (one row per arm x item), read and checked;
- :mod:`.rules`: item judgements, tiers (T1 conforming, T2 partly, TU insufficiently reported,
  T3 non-conforming) and inclusion rules;
- :mod:`.appraise`: :func:`appraise_fidelity`, the per-arm tiers of a review;
- :mod:`.use`: tiers as a stratifier, a covariate or an inclusion rule.
"""
from __future__ import annotations

from .appraise import FidelityResult, appraise_fidelity, plan_inclusion, rules_from_plan
from .checklists import Checklist, Checklists, Item, load_checklists
from .rules import (INCLUSION_RULES, NOT_APPLICABLE, TIER_ORDER, TIERS, InclusionRule, TierRules, judge_item,
                    tier_of, worst_tier)
from .table import FIDELITY_TABLE, fidelity_items, read_fidelity
from .use import FIDELITY_REASON, FidelitySelection, fidelity_subset, with_fidelity

__all__ = ["FidelityResult", "appraise_fidelity", "rules_from_plan", "plan_inclusion", "TierRules", "TIERS",
           "TIER_ORDER", "NOT_APPLICABLE", "load_checklists", "Checklist", "Checklists", "Item", "FIDELITY_TABLE",
           "read_fidelity", "fidelity_items", "InclusionRule", "INCLUSION_RULES", "judge_item", "tier_of",
           "worst_tier", "FIDELITY_REASON", "FidelitySelection", "fidelity_subset", "with_fidelity"]
