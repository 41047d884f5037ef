"""Checks across tables and against the plan: references, arm counts, declared outcomes, kinds."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import Problem, closest
from .spec import DESIGNS, TABLES

__all__ = ["cross_check", "strata_problems", "SPECIAL_VARIABLES", "ROLE_HINT"]

#: stratification variables that are not columns (the rule the plan applies to the study)
SPECIAL_VARIABLES = ("time_window",)
ROLE_HINT = ("an active arm (also an active comparator, i.e. another procedure) fills 'family' and leaves "
             "'comparator_type' empty; a sham, usual-care or exercise arm leaves 'family' empty and sets "
             "'comparator_type' (e.g. needle_no_current)")


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
    if "studies" in tables:
        problems += _collection_problems(tables["studies"], files["studies"])
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
        tframe = tables[target]
        rows_of: dict[str, int] = {}
        for row, r in zip(tframe.index, tframe[list(tcols)].itertuples(index=False)):
            rows_of.setdefault(" / ".join(_s(v) for v in r), int(row))
        used: dict[str, int] = {}
        for r in frame[list(cols)].itertuples(index=False):
            k = " / ".join(_s(v) for v in r)
            used[k] = used.get(k, 0) + 1
        tfile = files.get(target, target)
        for row, r in zip(frame.index, frame[list(cols)].itertuples(index=False)):
            key = tuple(_s(v) for v in r)
            shown = " / ".join(key)
            if all(key) and shown not in rows_of:
                what = "study" if len(cols) == 1 else "/".join(cols)
                problems.append(Problem(f"{what} not found in {tfile}", file=files[name],
                                        row=int(row), column=cols[-1], study=key[0], found=shown,
                                        expected=f"a {'/'.join(tcols)} listed in {tfile}",
                                        hint=_rename_hint(shown, rows_of, used if len(cols) == 1 else None,
                                                          tfile, files[name])))
    return problems


def _rename_hint(key: str, rows_of: dict[str, int], used: dict[str, int] | None, tfile: str,
                 file: str) -> str | None:
    """'did you mean' for a reference not found. For a study (``used`` given: rows here per key),
    when the closest study of the other table is used by no row here, the two are likely one
    study spelt two ways, and the hint says so without presuming which spelling is the typo (a
    study renamed in studies.csv would otherwise get 'did you mean' pointing at the new name)."""
    best = closest(key, rows_of)
    if not best or best == key:
        return None
    if used is None or used.get(best):
        return f"did you mean {best!r}?"
    n = used.get(key, 0)
    return (f"{tfile} row {rows_of[best]} has {best!r}, which no row of {file} uses: if they are the same, "
            f"correct the wrong spelling ({n} row{'s' if n != 1 else ''} of {file} use{'s' if n == 1 else ''} "
            f"{key!r})")


def _arm_count_problems(studies, arms, files) -> list[Problem]:
    problems = []
    counts = arms.groupby("study").size() if len(arms) else pd.Series(dtype=int)
    unknown = sorted({_s(s) for s in arms["study"]} - {_s(s) for s in studies["study"]} - {""})
    for row, study, design in zip(studies.index, studies["study"], studies["design"]):
        if not study or design not in DESIGNS:
            continue
        n = int(counts.get(study, 0))
        need = DESIGNS[design].min_arms
        if n < need:
            what = "has no arms" if n == 0 else f"is '{design}' (comparative) but has only {n} arm"
            near = closest(study, unknown) if n == 0 else None
            hint = (f"{files['arms']} uses {near!r}, which is not in {files['studies']}: if it is this study, "
                    "correct the wrong spelling" if near else None)
            problems.append(Problem(f"study {what} in {files['arms']}", file=files["studies"], row=int(row),
                                    column="design", study=study, found=f"{n} arm(s)",
                                    expected=f"at least {need} arms for design '{design}'"
                                    + ("; use design 'single_arm' for one cohort" if n == 1 else ""), hint=hint))
    return problems


def _arm_role_problems(arms, file) -> list[Problem]:
    """Every arm is active (``family``) or control (``comparator_type``), never both nor neither:
    an arm with both would be an active node, and a sham arm coded so joins its study's active node."""
    if "family" not in arms or "comparator_type" not in arms:
        return []
    fam, comp = arms["family"].notna(), arms["comparator_type"].notna()
    problems = [Problem("arm has neither a procedure family nor a comparator type", file=file, row=int(row),
                        column="family", study=study, expected="'family' for an active arm or 'comparator_type' "
                        "for a control arm", hint=ROLE_HINT)
                for row, study in zip(arms.index[~fam & ~comp], arms["study"][~fam & ~comp])]
    both = fam & comp
    problems += [Problem("arm has both a procedure family and a comparator type", file=file, row=int(row),
                         column="comparator_type", study=study, found=f"family={f}, comparator_type={c}",
                         expected="one of the two: 'family' (active arm) or 'comparator_type' (control arm)",
                         hint=ROLE_HINT)
                 for row, study, f, c in zip(arms.index[both], arms["study"][both], arms["family"][both],
                                             arms["comparator_type"][both])]
    return problems


def _collection_problems(studies, file) -> list[Problem]:
    """An RCT collects its data prospectively; 'retrospective' there is a coding mistake."""
    if "data_collection" not in studies:
        return []
    bad = (studies["design"] == "RCT") & (studies["data_collection"] == "retrospective")
    return [Problem("a randomised trial cannot be retrospective", file=file, row=int(row), column="data_collection",
                    study=study, found="retrospective", expected="prospective or empty for an RCT",
                    hint="a retrospective comparison of groups is design 'NRS_comparative'")
            for row, study in zip(studies.index[bad], studies["study"][bad])]


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
    if "studies" in tables and "arms" in tables:   # a table with missing columns is reported already
        problems += strata_problems(plan.strata, tables["studies"].columns, tables["arms"].columns, plan.source)
    return problems


def strata_problems(variables, study_columns, arm_columns, file: str = "netstrata.toml") -> list[Problem]:
    """Stratification variables that are neither a column of studies or arms nor special."""
    known = (*study_columns, *arm_columns, *SPECIAL_VARIABLES)
    return [Problem("stratification variable is not a column of studies.csv or arms.csv", file=file,
                    column="strata.variables", found=v,
                    expected="a column of studies.csv or arms.csv, or " + ", ".join(SPECIAL_VARIABLES),
                    hint=_hint(v, [k for k in known if k not in ("row", "selected")]))
            for v in variables if v not in known]
