"""Checks across tables and against the plan: references, arm counts, declared outcomes, kinds."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import Problem, closest
from .spec import DESIGNS, TABLES

__all__ = ["cross_check"]


def _s(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _hint(value: str, allowed) -> str | None:
    best = closest(value, allowed)
    return f"did you mean {best!r}?" if best and best != value else None


def cross_check(tables: dict[str, pd.DataFrame], files: dict[str, str], plan, pack,
                specs: dict | None = None) -> list[Problem]:
    """All cross-table problems. ``tables`` are typed frames (index = spreadsheet row)."""
    problems: list[Problem] = []
    specs = TABLES if specs is None else specs
    for name, frame in tables.items():
        problems += _ref_problems(specs[name].refs, name, frame, tables, files)
    if "studies" in tables and "arms" in tables:
        problems += _arm_count_problems(tables["studies"], tables["arms"], files)
    if "arms" in tables:
        problems += _arm_role_problems(tables["arms"], files["arms"])
    for name in ("outcomes", "contrasts", "extraction-b"):
        if name in tables and plan is not None:
            problems += _outcome_problems(tables[name], files[name], plan, name)
    if "outcomes" in tables and "arms" in tables:
        problems += _size_problems(tables["outcomes"], tables["arms"], files["outcomes"])
    if plan is not None and pack is not None:
        problems += _plan_vs_tables(plan, pack, tables)
    return problems


def _ref_problems(refs, name, frame, tables, files) -> list[Problem]:
    problems = []
    for cols, target, tcols in refs:
        if target not in tables or any(c not in frame for c in cols):
            continue
        keys = {tuple(_s(v) for v in r) for r in tables[target][list(tcols)].itertuples(index=False)}
        shown = {" / ".join(k) for k in keys}
        for row, r in zip(frame.index, frame[list(cols)].itertuples(index=False)):
            key = tuple(_s(v) for v in r)
            if all(key) and key not in keys:
                what = "study" if len(cols) == 1 else "/".join(cols)
                problems.append(Problem(f"{what} not found in {files.get(target, target)}", file=files[name],
                                        row=int(row), column=cols[-1], study=key[0], found=" / ".join(key),
                                        expected=f"a {'/'.join(tcols)} listed in {files.get(target, target)}",
                                        hint=_hint(" / ".join(key), shown)))
    return problems


def _arm_count_problems(studies, arms, files) -> list[Problem]:
    problems = []
    counts = arms.groupby("study").size() if len(arms) else pd.Series(dtype=int)
    for row, study, design in zip(studies.index, studies["study"], studies["design"]):
        if not study or design not in DESIGNS:
            continue
        n = int(counts.get(study, 0))
        need = DESIGNS[design].min_arms
        if n < need:
            what = "has no arms" if n == 0 else f"is '{design}' (comparative) but has only {n} arm"
            problems.append(Problem(f"study {what} in {files['arms']}", file=files["studies"], row=int(row),
                                    column="design", study=study, found=f"{n} arm(s)",
                                    expected=f"at least {need} arms for design '{design}'"
                                    + ("; use design 'single_arm' for one cohort" if n == 1 else "")))
    return problems


def _arm_role_problems(arms, file) -> list[Problem]:
    if "family" not in arms or "comparator_type" not in arms:
        return []
    bad = arms["family"].isna() & arms["comparator_type"].isna()
    return [Problem("arm has neither a procedure family nor a comparator type", file=file, row=int(row),
                    column="family", study=study, expected="'family' for an active arm or 'comparator_type' "
                    "for a control arm") for row, study in zip(arms.index[bad], arms["study"][bad])]


def _outcome_problems(frame, file, plan, name) -> list[Problem]:
    problems = []
    declared = plan.outcome_ids
    for row, study, oid in zip(frame.index, frame["study"], frame["outcome"]):
        if oid and oid not in declared:
            problems.append(Problem("outcome is not declared in the plan", file=file, row=int(row),
                                    column="outcome", study=study, found=oid,
                                    expected="one of " + ", ".join(declared) + f" (see {plan.source})",
                                    hint=_hint(oid, declared)))
    if name == "contrasts":
        for row, study, oid, measure in zip(frame.index, frame["study"], frame["outcome"], frame["measure"]):
            if oid in declared and measure and measure != plan.outcome(oid).measure:
                problems.append(Problem("contrast measure differs from the plan's measure for this outcome",
                                        file=file, row=int(row), column="measure", study=study, found=measure,
                                        expected=plan.outcome(oid).measure))
        return problems
    has = {c: frame[c].notna().to_numpy() if c in frame else np.zeros(len(frame), bool)
           for c in ("events", "mean", "sd")}
    for pos, (row, study, oid) in enumerate(zip(frame.index, frame["study"], frame["outcome"])):
        if oid not in declared:
            continue
        kind = plan.outcome(oid).kind
        if kind == "binary" and (has["mean"][pos] or has["sd"][pos]):
            problems.append(Problem("mean/sd given for a binary outcome", file=file, row=int(row), column="mean",
                                    study=study, found=oid, expected="events and n (leave mean and sd empty)"))
        if kind == "continuous" and has["events"][pos]:
            problems.append(Problem("events given for a continuous outcome", file=file, row=int(row),
                                    column="events", study=study, found=oid, expected="mean, sd and n"))
    return problems


def _size_problems(outcomes, arms, file) -> list[Problem]:
    if "n" not in arms or "n" not in outcomes:
        return []
    size = {(s, a): n for s, a, n in zip(arms["study"], arms["arm"], arms["n"]) if not math.isnan(n)}
    problems = []
    for row, s, a, n in zip(outcomes.index, outcomes["study"], outcomes["arm"], outcomes["n"]):
        cap = size.get((s, a))
        if cap is not None and not math.isnan(n) and n > cap:
            problems.append(Problem("outcome n exceeds the arm's n in arms", file=file, row=int(row), column="n",
                                    study=s, found=int(n), expected=f"<= {int(cap)} (arm '{a}')"))
    return problems


def _plan_vs_tables(plan, pack, tables) -> list[Problem]:
    problems = []
    if plan.node_level and plan.node_level not in pack.level_names:
        problems.append(Problem("node level is not defined by the pack", file=plan.source, column="nodes.level",
                                found=plan.node_level, expected="one of " + ", ".join(pack.level_names),
                                hint=_hint(plan.node_level, pack.level_names)))
    columns = set()
    for name in ("studies", "arms"):
        if name in tables:
            columns |= set(tables[name].columns)
    for v in plan.strata:
        if columns and v not in columns:
            problems.append(Problem("stratum variable is not a column of studies or arms", file=plan.source,
                                    column="strata.variables", found=v, hint=_hint(v, sorted(columns))))
    return problems
