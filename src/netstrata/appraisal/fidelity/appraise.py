"""Technical fidelity: per-arm checklist judgements, score and tier (domain brief section C).

>>> from netstrata.data import load_review, example_path
>>> from netstrata.appraisal.fidelity import appraise_fidelity
>>> res = appraise_fidelity(load_review(example_path()))           # doctest: +SKIP
>>> res.arms[["study", "arm", "checklist", "tier", "score"]]        # doctest: +SKIP

The checklists (C1..C7) are pack data (``packs/spine/fidelity.toml``); the critical items and
the tier thresholds are a panel decision (:class:`TierRules`), taken from the plan's
``[appraisal.fidelity]`` table when there is one and recorded in the result. Fidelity is usable
as a stratifier (``tier`` column), a meta-regression covariate (``score`` = share of applicable
scored criteria met, not-reported counting as not met) and an inclusion rule
(:func:`netstrata.appraisal.fidelity_use.fidelity_subset`).

References
----------
Cohen SP et al. Consensus practice guidelines on interventions for lumbar facet joint pain.
Reg Anesth Pain Med 2020;45:424-467. doi:10.1136/rapm-2019-101243
Hurley RW et al. Consensus practice guidelines on interventions for cervical spine (facet) joint
pain. Reg Anesth Pain Med 2022;47:3-59. doi:10.1136/rapm-2021-103031
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from ..._summary import Summary
from ...errors import DataError, ParameterError, Problem, closest
from .checklists import Checklist, Checklists, Item, load_checklists
from .rules import (INCLUSION_RULES, ITEM_STATUSES, NOT_APPLICABLE, TIER_ORDER, TIERS, TierRules, judge_item,
                             tier_of, worst_tier)
from .table import FIDELITY_TABLE, fidelity_items

__all__ = ["FidelityResult", "appraise_fidelity", "rules_from_plan", "plan_inclusion"]

ITEM_COLUMNS = ["study", "arm", "checklist", "item", "critical", "value", "status", "judgement", "standard",
                "quote", "location", "extractor"]
ARM_COLUMNS = ["study", "arm", "family", "region", "checklist", "tier", "score", "n_scored", "n_met",
               "n_not_met", "n_not_reported", "critical_failed", "critical_not_reported"]
_PLAN_KEYS = ("critical", "min_reported_share", "noncritical_fail_demotes", "inclusion")


@dataclass(frozen=True, slots=True, eq=False)
class FidelityResult:
    """Per-arm fidelity: item judgements, tier and score, with the rules used.

    Attributes
    ----------
    items : DataFrame
        One row per arm x applicable item: value, status, judgement (met / not_met /
        not_reported / unclear / not_scored), whether critical, the standard, provenance.
    arms : DataFrame
        One row per arm (control arms and arms without a checklist get tier ``"NA"``):
        checklist ids, ``tier``, ``score`` (met / scored items), counts, failed and unreported
        critical items.
    rules : TierRules
        The critical items and thresholds applied (and where they come from).
    """

    items: pd.DataFrame
    arms: pd.DataFrame
    rules: TierRules
    checklists: Checklists

    @property
    def tiers(self) -> pd.Series:
        """Tier per arm, indexed by (study, arm)."""
        return self.arms.set_index(["study", "arm"])["tier"]

    def study_tiers(self) -> pd.DataFrame:
        """Per study: worst tier of its appraised arms and the mean score of those arms."""
        a = self.arms[self.arms["tier"] != NOT_APPLICABLE]
        rows = [{"study": s, "tier": worst_tier(g["tier"]), "score": float(g["score"].mean())}
                for s, g in a.groupby("study", sort=False)]
        return pd.DataFrame(rows, columns=["study", "tier", "score"])

    def counts(self) -> pd.Series:
        """Number of arms per tier (T1, T2, TU, T3, NA)."""
        order = [*TIER_ORDER, NOT_APPLICABLE]
        return self.arms["tier"].value_counts().reindex(order, fill_value=0)

    def summary(self) -> Summary:
        frame = self.arms.set_index(["study", "arm"])[["checklist", "tier", "score", "n_scored", "n_met",
                                                        "critical_failed", "critical_not_reported"]]
        crit = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.rules.critical.items())
        notes = (f"Critical items ({self.rules.source}): {crit}",
                 f"T2 vs TU threshold: share of critical items reported and met >= {self.rules.min_reported_share:g}",
                 "score = items meeting the standard / scored items (not reported counts as not met)")
        return Summary("Technical fidelity per arm", frame, notes)

    def __repr__(self) -> str:
        c = self.counts()
        shown = ", ".join(f"{k}={int(v)}" for k, v in c.items())
        return f"FidelityResult(arms={len(self.arms)}, {shown}, rules={self.rules.source!r})"


def rules_from_plan(plan, checklists: Checklists) -> TierRules:
    """Tier rules from the plan's ``[appraisal.fidelity]`` table (pack defaults where absent).

    ``critical = { C1 = ["rf_imaging", "temperature_C"] }`` replaces the critical set of the named
    checklists; ``min_reported_share`` and ``noncritical_fail_demotes`` set the thresholds.
    """
    section = (getattr(plan, "sections", {}) or {}).get("appraisal", {}) or {}
    raw = section.get("fidelity")
    base = TierRules.default(checklists)
    if not raw:
        return base
    where, file = "appraisal.fidelity", getattr(plan, "source", "netstrata.toml")
    problems = [Problem("unknown key", file=file, column=f"{where}.{k}", found=k, expected=str(list(_PLAN_KEYS)),
                        hint=_did_you_mean(k, _PLAN_KEYS)) for k in raw if k not in _PLAN_KEYS]
    critical = dict(base.critical)
    given = raw.get("critical", {})
    if not isinstance(given, Mapping):
        problems.append(Problem("expected a table checklist = [items]", file=file, column=f"{where}.critical",
                                found=given))
        given = {}
    for cid, fields in given.items():
        problems += _critical_problems(cid, fields, checklists, file, where)
        if cid in checklists.checklists:
            critical[cid] = tuple(str(f) for f in fields)
    share = raw.get("min_reported_share", base.min_reported_share)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        problems.append(Problem("expected a share between 0 and 1", file=file, column=f"{where}.min_reported_share",
                                found=share))
    demote = raw.get("noncritical_fail_demotes", False)
    if not isinstance(demote, bool):
        problems.append(Problem("expected true or false", file=file, column=f"{where}.noncritical_fail_demotes",
                                found=demote))
    problems += _inclusion_problems(raw.get("inclusion"), file, f"{where}.inclusion")
    if problems:
        raise DataError(problems)
    return TierRules(MappingProxyType(critical), float(share), bool(demote), source=f"plan [{where}]")


def _inclusion_problems(value, file, column) -> list[Problem]:
    if value is None or (isinstance(value, str) and value in INCLUSION_RULES) or (
            isinstance(value, list) and value and all(v in TIERS for v in value)):
        return []
    return [Problem("unknown fidelity inclusion rule", file=file, column=column, found=value,
                    expected=f"one of {list(INCLUSION_RULES)} or a list of tiers {list(TIERS)}",
                    hint=_did_you_mean(value, INCLUSION_RULES) if isinstance(value, str) else None)]


def plan_inclusion(plan) -> str | tuple[str, ...] | None:
    """The plan's ``[appraisal.fidelity] inclusion`` rule (validated by :func:`rules_from_plan`), or None."""
    section = (getattr(plan, "sections", {}) or {}).get("appraisal", {}) or {}
    value = (section.get("fidelity") or {}).get("inclusion")
    return tuple(value) if isinstance(value, list) else value


def _did_you_mean(value, allowed) -> str | None:
    best = closest(str(value), allowed)
    return f"did you mean {best!r}?" if best else None


def _critical_problems(cid, fields, checklists, file, where) -> list[Problem]:
    col = f"{where}.critical.{cid}"
    if cid not in checklists.checklists:
        return [Problem("unknown checklist", file=file, column=col, found=cid,
                        expected=str(list(checklists.checklists)), hint=_did_you_mean(cid, checklists.checklists))]
    cl = checklists[cid]
    scored = [it.field for it in cl.items if it.scored]
    if not isinstance(fields, (list, tuple)) or not fields:
        return [Problem("expected a non-empty list of item fields", file=file, column=col, found=fields)]
    return [Problem("not a scored item of the checklist", file=file, column=col, found=f, expected=str(scored),
                    hint=_did_you_mean(f, scored)) for f in fields if f not in scored]


def _complete(rules: TierRules, checklists: Checklists) -> TierRules:
    """Rules given as an argument: checklists they do not name keep the pack's critical items."""
    if not isinstance(rules, TierRules):
        raise ParameterError(f"The 'rules' parameter of appraise_fidelity must be a TierRules. Got {rules!r}.")
    critical = {c.id: c.default_critical for c in checklists}
    critical.update({k: tuple(v) for k, v in rules.critical.items()})
    source = rules.source if rules.critical else "pack default critical items; thresholds from the argument"
    return TierRules(MappingProxyType(critical), rules.min_reported_share, rules.noncritical_fail_demotes, source)


def _check_rules(rules: TierRules, checklists: Checklists) -> None:
    for cid in checklists.checklists:
        crit = rules.critical.get(cid, ())
        if not crit:
            raise ParameterError(f"The tier rules give checklist {cid!r} no critical item; a tier needs at least "
                                 "one (declare them in [appraisal.fidelity] critical).")
        bad = [f for f in crit if f not in {it.field for it in checklists[cid].items if it.scored}]
        if bad:
            raise ParameterError(f"The tier rules name items {bad} that are not scored items of checklist {cid!r}.")
    if not 0 <= rules.min_reported_share <= 1:
        raise ParameterError("The 'min_reported_share' of the tier rules must be in [0, 1]; "
                             f"got {rules.min_reported_share!r}.")


def appraise_fidelity(arms, items: pd.DataFrame | None = None, *, pack=None, rules: TierRules | None = None,
                      plan=None) -> FidelityResult:
    """Judge every arm's fidelity items against its checklist; assign tier and score.

    Parameters
    ----------
    arms : Review or DataFrame
        A loaded review (its arms, pack, plan and fidelity table are used) or an arms table with
        ``study, arm, family, region``.
    items : DataFrame, optional
        The fidelity table (:data:`FIDELITY_TABLE` columns); default: the review's. Items absent
        for an arm count as not reported.
    pack : str or Pack, optional
        Pack holding ``fidelity.toml`` (default: the review's pack, else ``"spine"``).
    rules : TierRules, optional
        Critical items and thresholds; default: the plan's ``[appraisal.fidelity]``, else the
        pack's defaults.
    plan : Plan, optional
        Plan to read the rules from when ``arms`` is a DataFrame.

    Raises
    ------
    DataError
        Listing every fidelity row naming an unknown arm or item, or a value outside the item's
        allowed values.
    """
    review = None if isinstance(arms, pd.DataFrame) else arms
    if review is not None:
        arms_df, pack, plan = review.arms, pack or review.pack, plan or review.plan
        items = fidelity_items(review) if items is None else items
    else:
        arms_df = arms
    checklists = load_checklists(pack or "spine")
    rules = _complete(rules, checklists) if rules is not None else (
        rules_from_plan(plan, checklists) if plan is not None else TierRules.default(checklists))
    _check_rules(rules, checklists)
    items = _empty_items() if items is None else items
    lookup, problems = _index_items(items, arms_df, checklists)
    if problems:
        raise DataError(problems)
    item_rows, arm_rows = [], []
    for s, a, fam, region in zip(arms_df["study"], arms_df["arm"], arms_df["family"], arms_df["region"]):
        pairs = checklists.for_arm(_text(fam), _text(region))
        per_list = [_judge_arm(s, a, f, cl, lookup, rules) for f, cl in pairs]
        for rows, _ in per_list:
            item_rows += rows
        arm_rows.append(_arm_row(s, a, _text(fam), _text(region), [(cl.id, summ) for (_, cl), (_, summ)
                                                                     in zip(pairs, per_list)]))
    return FidelityResult(items=pd.DataFrame(item_rows, columns=ITEM_COLUMNS),
                          arms=pd.DataFrame(arm_rows, columns=ARM_COLUMNS), rules=rules, checklists=checklists)


def _text(v) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(columns=[c.name for c in FIDELITY_TABLE.columns])


def _index_items(items: pd.DataFrame, arms: pd.DataFrame, checklists: Checklists):
    """(study, arm, item) -> row dict, and the problems of rows that do not fit their arm."""
    arm_of = {(s, a): (_text(f), _text(r)) for s, a, f, r in
              zip(arms["study"], arms["arm"], arms["family"], arms["region"])}
    rownums = items.index if items.index.name == "row" else range(2, len(items) + 2)
    lookup, problems = {}, []
    for row, rec in zip(rownums, items.to_dict("records")):
        s, a, name = rec.get("study"), rec.get("arm"), rec.get("item")
        where = dict(file="fidelity.csv", row=int(row), study=s)
        if (s, a) not in arm_of:
            problems.append(Problem("arm not found in arms.csv", column="arm", found=f"{s} / {a}", **where))
            continue
        fields = {it.field: it for _, cl in checklists.for_arm(*arm_of[(s, a)]) for it in cl.items}
        if not fields:
            problems.append(Problem("no fidelity checklist applies to this arm", column="arm", found=a,
                                    expected="an active arm whose family has a checklist", **where))
            continue
        if name not in fields:
            problems.append(Problem("item is not in the arm's checklist", column="item", found=name,
                                    expected=", ".join(fields), hint=_did_you_mean(name, fields), **where))
            continue
        problems += _value_problems(fields[name], rec, where)
        lookup[(s, a, name)] = rec
    return lookup, problems


def _value_problems(item: Item, rec: dict, where: dict) -> list[Problem]:
    value, status = _text(rec.get("value")), rec.get("status")
    if status not in ITEM_STATUSES:
        return [Problem("unknown status", column="status", found=status, expected=str(list(ITEM_STATUSES)), **where)]
    if status != "reported":
        return [] if not value else [Problem("a value is given but the status is not 'reported'", column="value",
                                             found=value, expected="an empty cell, or status 'reported'", **where)]
    if not value:
        return [Problem("status is 'reported' but the value is empty", column="value", **where)]
    if item.kind == "number":
        try:
            float(value.replace(",", "."))
        except ValueError:
            return [Problem("expected a number", column="value", found=value, expected=item.standard_text(), **where)]
        return []
    parts = value.split("|") if item.kind == "set" else [value]
    return [Problem(f"value not allowed for item '{item.field}'", column="value", found=p,
                    expected="one of " + ", ".join(item.allowed), hint=_did_you_mean(p, item.allowed), **where)
            for p in parts if item.allowed and p.strip() not in item.allowed]


def _judge_arm(study, arm, family, cl: Checklist, lookup, rules: TierRules):
    critical = set(rules.critical.get(cl.id, ()))
    rows: list[dict[str, object]] = []
    crit_j: list[tuple[str, str]] = []     # (item field, judgement)
    other_j: list[tuple[str, str]] = []
    for it in cl.items_for(family):
        rec = lookup.get((study, arm, it.field), {})
        status, value = rec.get("status", "not_reported"), _text(rec.get("value"))
        j = judge_item(it, status, value)
        is_crit = it.field in critical
        (crit_j if is_crit else other_j).append((it.field, j))
        rows.append({"study": study, "arm": arm, "checklist": cl.id, "item": it.field, "critical": is_crit,
                     "value": value, "status": status, "judgement": j, "standard": it.standard_text(),
                     "quote": _text(rec.get("quote")), "location": _text(rec.get("location")),
                     "extractor": _text(rec.get("extractor"))})
    tier = tier_of([j for _, j in crit_j], [j for _, j in other_j], rules)
    scored = [j for _, j in crit_j + other_j if j != "not_scored"]
    summ = {"tier": tier, "n_scored": len(scored), "n_met": scored.count("met"),
            "n_not_met": scored.count("not_met"), "n_not_reported": len(scored) - scored.count("met")
            - scored.count("not_met"),
            "critical_failed": [f for f, j in crit_j if j == "not_met"],
            "critical_not_reported": [f for f, j in crit_j if j in ("not_reported", "unclear")]}
    return rows, summ


def _arm_row(study, arm, family, region, per_list) -> dict:
    if not per_list:
        return {"study": study, "arm": arm, "family": family, "region": region, "checklist": "",
                "tier": NOT_APPLICABLE, "score": float("nan"), "n_scored": 0, "n_met": 0, "n_not_met": 0,
                "n_not_reported": 0, "critical_failed": "", "critical_not_reported": ""}
    tot = {k: sum(s[k] for _, s in per_list) for k in ("n_scored", "n_met", "n_not_met", "n_not_reported")}
    return {"study": study, "arm": arm, "family": family, "region": region,
            "checklist": "|".join(cid for cid, _ in per_list),
            "tier": worst_tier(s["tier"] for _, s in per_list),
            "score": tot["n_met"] / tot["n_scored"] if tot["n_scored"] else float("nan"), **tot,
            "critical_failed": "|".join(f"{cid}:{f}" if len(per_list) > 1 else f
                                        for cid, s in per_list for f in s["critical_failed"]),
            "critical_not_reported": "|".join(f"{cid}:{f}" if len(per_list) > 1 else f
                                              for cid, s in per_list for f in s["critical_not_reported"])}
