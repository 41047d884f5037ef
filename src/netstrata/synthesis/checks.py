"""Every check a run makes before it analyses, in one place: ``netstrata validate`` calls the same.

The loader (:func:`netstrata.data.load_review`) checks the tables and the plan's core sections.
:func:`check_review` checks the rest of what a run reads, with the functions the run uses:

* the plan sections of the synthesis layer and below, each by the function its stage uses:
  ``[models]`` (with the class and threshold keys), ``[sensitivity]``, ``[evidence]``,
  ``[report]``, ``[certainty]`` (:func:`~netstrata.synthesis.certainty_plan.parse_certainty`) and
  ``[appraisal.fidelity]``;
* the appraisal tables: ``rob.csv`` through
  :func:`~netstrata.synthesis.certainty_inputs.risk_of_bias_table`, ``certainty-overrides.csv``
  through :func:`~netstrata.synthesis.certainty_inputs.certainty_overrides` (its strata against the
  analysed strata) and ``fidelity.csv`` through :func:`~netstrata.appraisal.appraise_fidelity`;
* the ``[sensitivity]`` primary alternatives against ``[nodes] level`` and ``[evidence]
  data_collection``; plan against data (:mod:`~netstrata.synthesis.checks_data`): sensitivity
  filters, reference nodes, ``[certainty]`` fields, time windows that select no outcome row,
  ``[evidence.by_stratum]`` keys that match no stratum;
* plausibility of MIDs (:func:`mid_problems`): a ratio measure's MID is a ratio in (1, 3] (GRADE's
  default is 1.25; ``mid = 25`` would make every effect trivial), a risk difference or proportion
  a fraction, an SMD at most 2, and a mean difference at most twice the largest SD or mean in the data.

:func:`~netstrata.synthesis.pipeline.analyse_review` calls :func:`check_review` first and uses what
it returns, so a project that validates never fails or silently changes at ``run``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..appraisal.fidelity import appraise_fidelity, rules_from_plan
from ..appraisal.fidelity.checklists import load_checklists
from ..certainty.network import FRAMEWORK_DOMAINS
from ..data.plan import unknown_keys
from ..effects.registry import MEASURES
from ..errors import DataError, ParameterError, Problem
from .certainty_inputs import certainty_overrides, risk_of_bias_table
from .certainty_plan import parse_certainty
from .checks_data import data_problems, strata_problems, window_problems
from .choices import Choices
from .classes_stage import check_plan as check_class_plan
from .config import (
    ModelSettings,
    ReportSettings,
    SensitivityPlan,
    parse_models,
    parse_report,
    parse_sensitivity,
)
from .evidence import EvidencePlan, parse_evidence
from .facts import primary_level
from .panel import parse_panel
from .records import Prepared, prepare

__all__ = ["Checked", "check_review", "plan_problems", "mid_problems", "APPRAISAL_KEYS",
           "MID_RULES"]

#: keys of ``[appraisal]`` (``[certainty]``: :data:`netstrata.synthesis.certainty_plan.CERTAINTY_KEYS`)
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
    panel: object = None      # netstrata.synthesis.panel.Panel


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
    parsed["certainty"] = _collect(problems, parse_certainty, get("certainty"), file=file)
    parsed["panel"] = _collect(problems, parse_panel, get("panel"), file)
    if parsed["settings"] is not None:
        _collect(problems, check_class_plan, parsed["settings"], plan, pack, file=file)
    problems += unknown_keys(get("appraisal"), APPRAISAL_KEYS, "appraisal", file)
    if (get("appraisal") or {}).get("fidelity") is not None and pack is not None:
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


def check_review(review, *, node_level: str | None = None) -> Checked:
    """Run every check a run makes (see the module docstring); raise DataError listing them all.

    ``node_level`` (``netstrata run --level``) replaces the plan's primary node level; it becomes
    the first node-level alternative of the multiverse (ParameterError if the pack lacks it).

    Returns
    -------
    Checked
        The parsed plan sections, the primary analysis's choices and its prepared records.
    """
    plan = review.plan
    parsed, problems = _sections(plan, review.pack)
    problems += _appraisal_problems(review, parsed)
    problems += data_problems(review, parsed["settings"], parsed["sensitivity"])
    problems += window_problems(review, parsed["sensitivity"])
    if problems:
        raise DataError(problems)
    sens = parsed["sensitivity"]
    if node_level is not None:
        sens = primary_level(sens, review.pack, node_level)
    primary = Choices(node_level=node_level or plan.node_level, data_collection=parsed["evidence"].data_collection)
    for name, alts in sens.dimensions:   # the first alternative is the primary analysis
        if name != "design":
            primary = replace(primary, **{name: alts[0]})
    prepared = prepare(review, primary)
    problems = strata_problems(review, parsed["evidence"], prepared, parsed.get("overrides"))
    if problems:
        raise DataError(problems)
    return Checked(parsed["settings"], sens, parsed["evidence"], parsed["report"], primary, prepared,
                   parsed["panel"])


# ----------------------------------------------------------------- appraisal tables

def _uses_fidelity(review, sens) -> bool:
    filters = sens.alternatives("fidelity") if sens is not None else ()
    return (review.table("fidelity") is not None or "fidelity" in (review.plan.sections.get("appraisal") or {})
            or any("fidelity_" in f for f in filters))


def _appraisal_problems(review, parsed) -> list[Problem]:
    """rob.csv and fidelity.csv through the functions the run uses (their errors become problems)."""
    problems: list[Problem] = []
    _collect(problems, risk_of_bias_table, review, _file="rob.csv")
    if parsed["certainty"] is not None:
        parsed["overrides"] = _collect(problems, certainty_overrides, review,
                                       FRAMEWORK_DOMAINS[parsed["certainty"].framework], _file="certainty-overrides.csv")
    has_checklists = (Path(review.pack.path) / "fidelity.toml").is_file()
    if has_checklists or _uses_fidelity(review, parsed["sensitivity"]):
        _collect(problems, appraise_fidelity, review, _file="fidelity.csv")
    return problems
