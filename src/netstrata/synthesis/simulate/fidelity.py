"""Fidelity items of simulated arms, derived from the pack's checklists so that
:func:`netstrata.appraisal.fidelity.appraise_fidelity` gives back the simulated tier.

T1: every scored item reported and meeting its standard. T3: one critical item reported and
failing (the electrode orientation when it is critical, as in "perpendicular electrodes",
otherwise the first critical item). TU: every critical item not reported. Items that describe the
selection paradigm take the study's values (they may then fail a non-critical standard).
"""
from __future__ import annotations

__all__ = ["pass_value", "fail_value", "fidelity_rows"]

_PREFERRED_FAIL = "electrode_orientation"


def _fmt(x: float) -> str:
    return f"{x:g}"


def pass_value(item) -> str:
    """A value meeting the item's standard (midpoint of a two-sided range, else the bound)."""
    if item.kind == "number":
        lo, hi = item.min, item.max
        if lo is not None and hi is not None:
            return _fmt((lo + hi) / 2)
        if lo is not None:
            return _fmt(lo + (1 if item.min_exclusive else 0))
        return _fmt(hi / 2 if item.max_exclusive else hi)
    if item.kind == "set":
        return "|".join(item.requires)
    return item.conforming[0]


def fail_value(item) -> str:
    """A value failing the item's standard (below the minimum, above the maximum, a non-conforming code)."""
    if item.kind == "number":
        if item.min is not None:
            return _fmt(item.min - (abs(item.min) / 2 or 1))
        return _fmt(item.max + (abs(item.max) / 2 or 1))
    if item.kind == "set":
        return "|".join(item.requires[1:]) or next(a for a in item.allowed if a not in item.requires)
    if "none" in item.allowed and "none" not in item.conforming:
        return "none"  # e.g. no imaging for RF, the brief's example of a non-conforming technique
    return next(a for a in item.allowed if a not in item.conforming)


def _selection_value(field: str, design) -> str | None:
    """The study's own value for items that record the selection paradigm (None = omit)."""
    blocks, thr = design.blocks, design.threshold
    if field == "n_blocks":
        return blocks
    if field == "prognostic_block_type":
        return "none" if blocks == "0" else ("MBB" if design.block_type == "MBB" else None)
    if field in ("block_relief_cutoff_pct", "mbb_relief_cutoff_pct"):
        return thr or None
    return None


_SELECTION_FIELDS = ("n_blocks", "prognostic_block_type", "block_relief_cutoff_pct", "mbb_relief_cutoff_pct")


def fidelity_rows(design, arm: str, family: str, checklists, rules) -> list[dict]:
    """fidelity.csv rows of one simulated active arm of ``design`` (tier ``design.tier``)."""
    rows = []
    for _, cl in checklists.for_arm(family, design.region):
        critical = rules.critical.get(cl.id, ())
        failing = _PREFERRED_FAIL if _PREFERRED_FAIL in critical else critical[0]
        for it in cl.items_for(family):
            if not it.scored:
                continue
            status, value = "reported", pass_value(it)
            if it.field in _SELECTION_FIELDS:
                selected = _selection_value(it.field, design)
                if selected is None:
                    continue
                value = selected
            if design.tier == "T3" and it.field == failing:
                value = fail_value(it)
            elif design.tier == "TU" and it.field in critical:
                status, value = "not_reported", ""
            rows.append({"study": design.study, "arm": arm, "item": it.field, "value": value, "status": status,
                         "quote": "", "location": "simulated", "extractor": "netstrata.simulate"})
    return rows
