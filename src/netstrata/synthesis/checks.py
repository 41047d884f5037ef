"""Every check a run makes before it analyses, in one place: ``netstrata validate`` calls the same.

The loader (:func:`netstrata.data.load_review`) checks the tables and the plan's core sections.
:func:`check_review` checks the rest of what a run reads, with the functions the run uses:

* the plan sections of the synthesis layer and below: ``[models]``, ``[sensitivity]``,
  ``[evidence]``, ``[report]``, ``[certainty]`` (``target``, ``transitivity``) and
  ``[appraisal.fidelity]``;
* the appraisal tables: ``rob.csv`` through
  :func:`~netstrata.synthesis.certainty_inputs.risk_of_bias_table` (strict) and ``fidelity.csv``
  through :func:`~netstrata.appraisal.appraise_fidelity`;
* plan against data: sensitivity filters (:func:`~netstrata.synthesis.filters.filter_problems`),
  reference nodes, the ``[sensitivity]`` primary alternatives against ``[nodes] level`` and
  ``[evidence] data_collection``, time windows that select no outcome row, ``[evidence.by_stratum]``
  keys that match no stratum;
* plausibility of MIDs (:func:`mid_problems`): a ratio measure's MID is a ratio in (1, 3] (GRADE's
  default is 1.25; ``mid = 25`` would make every effect trivial), a risk difference or proportion
  a fraction, an SMD at most 2, and a mean difference at most twice the largest SD or mean in the data.

:func:`~netstrata.synthesis.pipeline.analyse_review` calls :func:`check_review` first and uses what
it returns, so a project that validates never fails or silently changes at ``run``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..data.plan import unknown_keys
from ..errors import DataError, ParameterError, Problem, closest
from .config import (FILTER_DIMENSIONS, ModelSettings, ReportSettings, SensitivityPlan, parse_models,
                     parse_report, parse_sensitivity)
from .evidence import EvidencePlan, parse_evidence
from .records import Choices, Prepared, prepare

__all__ = ["Checked", "check_review", "plan_problems", "mid_problems", "CERTAINTY_KEYS", "APPRAISAL_KEYS",
           "MID_RULES"]

#: keys of ``[certainty]`` (``target``: fields the guideline question fixes; ``transitivity``:
#: effect modifiers and thresholds) and of ``[appraisal]``
CERTAINTY_KEYS = ("target", "transitivity")
APPRAISAL_KEYS = ("fidelity",)

#: plausible MIDs per kind of measure: (low, high, how one is written). Ratio measures (analysed on
#: the log scale) take a ratio > 1 (Guyatt 2011, doi:10.1016/j.jclinepi.2011.01.012: RR 1.25);
#: mean differences are checked against the data (:func:`_md_problems`).
MID_RULES = {
    "ratio": (1.0, 3.0, "a ratio above 1, e.g. 1.25 (GRADE's default threshold for a risk or odds ratio)"),
    "fraction": (0.0, 0.5, "a fraction, e.g. 0.05 for 5 percentage points"),
    "smd": (0.0, 2.0, "a standardised difference, e.g. 0.2 (small) to 0.5 (moderate)"),
}
_FRACTION = ("RD", "PR", "AS")
MD_SD_FACTOR = 2.0     # an MD MID above 2 SDs (an SMD above 2) or 2 means: the MID and the data differ in scale


@dataclass(frozen=True, slots=True, eq=False)
class Checked:
    """What a run needs from the plan, validated: settings, multiverse, evidence layers, report,
    the primary analysis's choices and its prepared records."""

    settings: ModelSettings
    sensitivity: SensitivityPlan
    evidence: EvidencePlan
    report: ReportSettings
    primary: Choices
    prepared: Prepared


def _collect(problems: list, fn, *args, _file: str | None = None, **kwargs):
    """``fn(*args, **kwargs)``, or None with its DataError's problems (or its ParameterError as one
    problem of ``_file``) added to ``problems``."""
    try:
        return fn(*args, **kwargs)
    except DataError as exc:
        problems += exc.problems
    except ParameterError as exc:
        problems.append(Problem(str(exc), file=_file))
    return None


def _sections(plan, pack) -> tuple[dict, list[Problem]]:
    """Every plan section parsed by the function its layer uses; (parsed, problems)."""
    file = plan.source or "netstrata.toml"
    problems: list[Problem] = []
    get = plan.sections.get
    parsed = {"settings": _collect(problems, parse_models, get("models"), file=file),
              "sensitivity": _collect(problems, parse_sensitivity, get("sensitivity"), plan, pack, file=file),
              "evidence": _collect(problems, parse_evidence, get("evidence"), file=file),
              "report": _collect(problems, parse_report, get("report"), plan, file=file)}
    problems += unknown_keys(get("certainty"), CERTAINTY_KEYS, "certainty", file)
    problems += unknown_keys(get("appraisal"), APPRAISAL_KEYS, "appraisal", file)
    if get("certainty") is not None:
        from .transitivity import _thresholds
        _collect(problems, _thresholds, None, plan, _file=file)     # keys, modifiers' shape, thresholds
    if (get("appraisal") or {}).get("fidelity") is not None and pack is not None:
        from ..appraisal.fidelity import rules_from_plan
        from ..appraisal.fidelity_checklists import load_checklists
        checklists = _collect(problems, load_checklists, pack)
        if checklists is not None:
            _collect(problems, rules_from_plan, plan, checklists, _file=file)
    problems += mid_problems(plan)
    problems += _primary_problems(plan, parsed, file)
    return parsed, problems


def _primary_problems(plan, parsed, file) -> list[Problem]:
    """The first alternative of a [sensitivity] dimension is the primary analysis: it must agree
    with the section that declares the primary choice, or the run would silently use another."""
    sens, evidence = parsed["sensitivity"], parsed["evidence"]
    if sens is None:
        return []
    out = []
    levels = sens.alternatives("node_level")
    if levels and plan.node_level and levels[0] != plan.node_level:
        out.append(Problem("the first node_level alternative is the primary analysis but differs from [nodes] level",
                           file=file, column="sensitivity.node_level", found=levels[0], expected=plan.node_level,
                           hint=f"list {plan.node_level!r} first (the other levels after it)"))
    collection = sens.alternatives("data_collection")
    primary = evidence.data_collection if evidence is not None else "any"
    if collection and collection[0] != primary:
        out.append(Problem("the first data_collection alternative is the primary analysis but differs from "
                           "[evidence] data_collection", file=file, column="sensitivity.data_collection",
                           found=collection[0], expected=primary,
                           hint=f"list {primary!r} first, or set [evidence] data_collection = {collection[0]!r}"))
    return out


def _mid_rule(measure: str):
    from ..effects.registry import MEASURES
    m = MEASURES.get(measure)
    if m is None:
        return None
    if m.is_ratio:
        return MID_RULES["ratio"]
    if measure in _FRACTION:
        return MID_RULES["fraction"]
    if measure == "SMD":
        return MID_RULES["smd"]
    return None


def mid_problems(plan) -> list[Problem]:
    """MIDs outside the plausible range ``(low, high]`` of their measure (:data:`MID_RULES`)."""
    out = []
    for o in plan.outcomes:
        rule = _mid_rule(o.measure)
        if o.mid is None or rule is None or rule[0] < o.mid <= rule[1]:
            continue
        low, high, how = rule
        hint = None
        if rule is MID_RULES["ratio"] and o.mid < 1:
            hint = f"write the ratio above 1: {1 / o.mid:.4g} gives the same zone as {o.mid:g}"
        elif rule is MID_RULES["ratio"] and o.mid >= 5:
            hint = f"{o.mid:g} looks like a percentage: an increase of {o.mid:g}% is a ratio of {1 + o.mid / 100:g}"
        elif rule is MID_RULES["fraction"] and 1 <= o.mid < 100:
            hint = f"{o.mid:g} looks like a percentage: write {o.mid / 100:g}"
        out.append(Problem(f"MID implausible for measure {o.measure}", file=plan.source or "netstrata.toml",
                           column=f"outcomes.{o.id}.mid", found=o.mid,
                           expected=f"{how}; in ({low:g}, {high:g}]", hint=hint))
    return out


def plan_problems(plan, pack=None) -> list[Problem]:
    """Problems of the plan sections alone (what :func:`check_review` finds without the data)."""
    return _sections(plan, pack)[1]


def check_review(review) -> Checked:
    """Run every check a run makes (see the module docstring); raise DataError listing them all.

    Returns
    -------
    Checked
        The parsed plan sections, the primary analysis's choices and its prepared records.
    """
    plan = review.plan
    parsed, problems = _sections(plan, review.pack)
    problems += _appraisal_problems(review, parsed)
    problems += _data_problems(review, parsed)
    problems += _window_problems(review, parsed["sensitivity"])
    if problems:
        raise DataError(problems)
    primary = Choices(node_level=plan.node_level, data_collection=parsed["evidence"].data_collection)
    for name, alts in parsed["sensitivity"].dimensions:   # the first alternative is the primary analysis
        if name != "design":
            primary = replace(primary, **{name: alts[0]})
    prepared = prepare(review, primary)
    problems = _strata_problems(review, parsed["evidence"], prepared)
    if problems:
        raise DataError(problems)
    return Checked(parsed["settings"], parsed["sensitivity"], parsed["evidence"], parsed["report"], primary, prepared)


# ----------------------------------------------------------------- appraisal tables

def _uses_fidelity(review, sens) -> bool:
    filters = sens.alternatives("fidelity") if sens is not None else ()
    return (review.table("fidelity") is not None or "fidelity" in (review.plan.sections.get("appraisal") or {})
            or any("fidelity_" in f for f in filters))


def _appraisal_problems(review, parsed) -> list[Problem]:
    """rob.csv and fidelity.csv through the functions the run uses (their errors become problems)."""
    from .certainty_inputs import risk_of_bias_table
    problems: list[Problem] = []
    if review.table("rob") is not None:
        _collect(problems, risk_of_bias_table, review, [], strict=True, _file="rob.csv")
    has_checklists = (Path(review.pack.path) / "fidelity.toml").is_file()
    if has_checklists or _uses_fidelity(review, parsed["sensitivity"]):
        from ..appraisal.fidelity import appraise_fidelity
        _collect(problems, appraise_fidelity, review, _file="fidelity.csv")
    return problems


# ----------------------------------------------------------------- plan against data

def _data_problems(review, parsed) -> list[Problem]:
    from .filters import filter_problems
    file = review.plan.source or "netstrata.toml"
    problems: list[Problem] = []
    sens = parsed["sensitivity"]
    raw = review.plan.sections.get("sensitivity") or {}
    for name in FILTER_DIMENSIONS:      # the raw alternatives: checked even if another key is wrong
        values = [raw[name]] if isinstance(raw.get(name), str) else raw.get(name) or []
        for text in (v for v in values if isinstance(v, str)) if isinstance(values, list) else ():
            problems += filter_problems(review, f"sensitivity.{name}", text, file)
    if parsed["settings"] is not None and parsed["settings"].reference:
        problems += _reference_problems(review, parsed["settings"].reference, sens, file)
    problems += _md_problems(review, file)
    problems += _certainty_problems(review, file)
    return problems


def _certainty_problems(review, file) -> list[Problem]:
    """[certainty.target] fields and values, and [certainty.transitivity] modifiers: a name that is no
    column would be ignored (target) or stop the stage with a note (modifiers)."""
    from .filters import filter_problems
    from .transitivity import KINDS
    section = review.plan.sections.get("certainty") or {}
    out = []
    target = section.get("target", {})
    if not isinstance(target, dict) and not hasattr(target, "items"):
        return [Problem("expected a table field = value", file=file, column="certainty.target", found=target,
                        expected='e.g. selection_control = "placebo_controlled"')]
    for field, value in target.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            out.append(Problem("expected a code or a list of codes", file=file, column=f"certainty.target.{field}",
                               found=value))
            continue
        for pr in filter_problems(review, f"certainty.target.{field}", f"{field}={'|'.join(values)}", file):
            out.append(Problem(pr.message.replace("filter", "target"), file=file, column=pr.column,
                               found=field if "unknown column" in pr.message else pr.found, expected=pr.expected, hint=pr.hint))
    mods = (section.get("transitivity") or {}).get("modifiers")
    if isinstance(mods, str):
        mods = [mods]
    columns = sorted({*review.studies.columns, "sham_subtype"} - {"row", "notes"})
    for m in (list(mods) if isinstance(mods, (list, dict)) or hasattr(mods, "keys") else []):
        if not isinstance(m, str):
            continue
        where = "certainty.transitivity.modifiers"
        if m not in columns:
            best = closest(m, columns)
            out.append(Problem("effect modifier is not a column of studies.csv", file=file, column=where, found=m,
                               expected="a column of studies.csv or sham_subtype",
                               hint=f"did you mean {best!r}?" if best else None))
        elif hasattr(mods, "get") and mods.get(m) not in KINDS:
            out.append(Problem("unknown kind of effect modifier", file=file, column=f"{where}.{m}", found=mods.get(m),
                               expected="one of " + ", ".join(KINDS)))
    return out


def _reference_problems(review, reference, sens, file) -> list[Problem]:
    """Preferred reference nodes that are a node at no lumping level the run uses (a typo: the
    run would fall back to its default reference without a word)."""
    levels = {review.plan.node_level, *(sens.alternatives("node_level") if sens is not None else ())}
    nodes = sorted({n.name for lv in levels for n in review.node_map(lv).nodes})
    out = []
    for name in reference:
        if name not in nodes:
            best = closest(name, nodes)
            out.append(Problem("reference is not a treatment node", file=file, column="models.reference", found=name,
                               expected="a node name at the plan's node levels: " + ", ".join(nodes[:12])
                               + (", ..." if len(nodes) > 12 else ""),
                               hint=f"did you mean {best!r}?" if best else None))
    return out


def _md_problems(review, file) -> list[Problem]:
    """A mean-difference MID more than :data:`MD_SD_FACTOR` times every SD and mean reported for
    the outcome: the MID and the data are on different scales (e.g. mm and cm)."""
    out = []
    for o in review.plan.outcomes:
        if o.mid is None or o.measure != "MD":
            continue
        rows = review.outcomes[review.outcomes["outcome"] == o.id]
        values = np.abs(np.concatenate([rows["sd"].to_numpy(float), rows["mean"].to_numpy(float)]))
        values = values[np.isfinite(values)]
        if values.size and o.mid > MD_SD_FACTOR * values.max():
            out.append(Problem(f"MID implausible for measure MD: more than {MD_SD_FACTOR:g} times every SD and mean "
                               "in outcomes.csv", file=file, column=f"outcomes.{o.id}.mid", found=o.mid,
                               expected=f"at most {MD_SD_FACTOR * values.max():.4g} (largest SD or mean "
                                        f"{values.max():.4g})",
                               hint="the MID and the outcome data must be on the same scale (e.g. cm, not mm)"))
    return out


def _window_problems(review, sens) -> list[Problem]:
    """Time-window rules (the plan's, per outcome and per family, and the [sensitivity]
    alternatives) that choose no time point in any study, among the rows with usable numbers."""
    from ..data.timewindow import parse_window
    file = review.plan.source or "netstrata.toml"
    timed = _timed_rows(review)
    out = []
    for o in review.plan.outcomes:
        groups: dict[str, list] = {}
        for (oid, _), (fams, weeks) in timed.items():
            key = _window_key(o, fams) if oid == o.id else None
            if key is not None:
                groups.setdefault(key, []).append(weeks)
        for key, studies in groups.items():
            rule = _rule_at(o, key)
            if all(rule.choose(w) is None for w in studies):
                out.append(_window_problem(file, f"outcomes.{o.id}.{key}", rule.text or rule.describe(),
                                           [x for w in studies for x in w]))
    for alt in (sens.alternatives("time_window") if sens is not None else ()):
        window = parse_window(alt)[0] if alt != "plan" else None
        for o in (review.plan.outcomes if window is not None else ()):
            studies = [w for (oid, _), (_, w) in timed.items() if oid == o.id]
            rule = replace(window, tolerance_weeks=o.time_window.tolerance_weeks) if o.time_window else None
            if rule is not None and studies and all(rule.choose(w) is None for w in studies):
                out.append(_window_problem(file, "sensitivity.time_window", alt, [x for w in studies for x in w],
                                           outcome=o.id))
    return out


def _timed_rows(review) -> dict:
    """(outcome, study) -> (families of the study's active arms, time points of its rows that have
    the numbers an analysis needs), for studies not in exclusions.csv (as the selection sees them)."""
    from ..data.selection import _families, _usability
    families = _families(review.arms)
    excluded = set(review.exclusions["study"])
    kinds = {o.id: o.kind for o in review.plan.outcomes}
    out: dict = {}
    for t in ("outcomes", "contrasts"):
        frame = review.tables.get(t)
        if frame is None:
            continue
        for _, row in frame.iterrows():
            weeks, oid = row["timepoint_weeks"], row["outcome"]
            if row["study"] in excluded or oid not in kinds or not math.isfinite(weeks):
                continue
            if _usability(row, "contrast" if t == "contrasts" else kinds[oid]) is None:
                entry = out.setdefault((oid, row["study"]), (families.get(row["study"], ()), []))
                entry[1].append(float(weeks))
    return out


def _window_key(o, families) -> str | None:
    for fam in families:
        if fam in o.time_window_by_family:
            return f"time_window_by_family.{fam}"
    return "time_window" if o.time_window is not None else None


def _rule_at(o, key: str):
    return o.time_window if key == "time_window" else o.time_window_by_family[key.rsplit(".", 1)[1]]


def _window_problem(file, column, rule, weeks, outcome=None) -> Problem:
    shown = ", ".join(f"{w:g}" for w in sorted(set(weeks))[:12])
    what = f" for outcome '{outcome}'" if outcome else ""
    return Problem(f"the time-window rule selects no outcome row{what}", file=file, column=column, found=rule,
                   expected=f"a rule that selects one of the rows' time points ({shown} weeks)",
                   hint="check the number and the unit: months are 52/12 weeks, e.g. 'closest to but not after "
                        "6 months' takes 26 weeks")


def _strata_problems(review, evidence, prepared) -> list[Problem]:
    """[evidence.by_stratum] keys that match none of the strata the run analyses."""
    if not evidence.by_stratum:
        return []
    from .strata import Stratum
    from .stratify import assign_strata
    variables = review.plan.strata
    strata = set()
    for frame in (prepared.contrasts, prepared.rates):
        if len(frame):
            strata |= set(assign_strata(review, frame, variables)) if variables else set()
            strata |= {Stratum(o) for o in frame["outcome"]}
    file = review.plan.source or "netstrata.toml"
    names = sorted(s.name for s in strata)
    parts = sorted({p for n in names for p in n.split(" / ")} | set(names))
    return [Problem("[evidence.by_stratum] key matches no stratum", file=file, column=f"evidence.by_stratum.{k}",
                    found=k, expected="stratum values and/or an outcome of an analysed stratum: " + "; ".join(names[:8])
                    + ("; ..." if len(names) > 8 else ""),
                    hint=(lambda b: f"did you mean {b!r}?" if b else None)(closest(k, parts)))
            for k in evidence.unused_keys(strata)]
