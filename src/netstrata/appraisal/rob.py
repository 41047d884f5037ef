"""Risk-of-bias records: RoB 2 (randomised), ROBINS-I (non-randomised comparative), JBI case series.

The signalling questions and decision trees live in ``tools/*.toml``; this module validates the
answers, walks the trees, applies recorded overrides and assembles frozen records.

References
----------
Sterne JAC et al. RoB 2: a revised tool for assessing risk of bias in randomised trials.
BMJ 2019;366:l4898. doi:10.1136/bmj.l4898
Sterne JAC et al. ROBINS-I. BMJ 2016;355:i4919. doi:10.1136/bmj.i4919
Munn Z et al. JBI critical appraisal tool for case series. JBI Evid Synth 2020;18:2127-2133.
doi:10.11124/JBISRIR-D-19-00099
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .._summary import Summary
from .._validate import check_option
from ..errors import DataError, ParameterError, Problem
from ._tools import load_tool, walk_domain, worst

__all__ = ["RiskOfBias", "CaseSeriesAppraisal", "rob2", "robins_i", "jbi_case_series", "DOMAIN_COLUMNS"]

DOMAIN_COLUMNS = ["domain", "name", "algorithm", "judgement", "override_reason", "path"]
_DESIGN_TOOL = {"RCT": "rob2()", "NRS_comparative": "robins_i()", "single_arm": "jbi_case_series()"}


@dataclass(frozen=True, slots=True, eq=False)
class RiskOfBias:
    """One risk-of-bias assessment (one result of one study).

    ``domains`` has :data:`DOMAIN_COLUMNS`: the algorithm's judgement, the final judgement (after
    any override), the override's reason and the signalling-question path that led there.
    """

    tool: str
    study: str
    result: str
    effect: str
    domains: pd.DataFrame
    overall_algorithm: str
    overall: str
    overall_reason: str
    reference: str

    def __repr__(self) -> str:
        doms = ", ".join(f"{d}={j!r}" for d, j in zip(self.domains["domain"], self.domains["judgement"]))
        return f"RiskOfBias(tool={self.tool!r}, study={self.study!r}, overall={self.overall!r}, {doms})"

    def summary(self) -> Summary:
        overall = pd.DataFrame([{"domain": "Overall", "name": "", "algorithm": self.overall_algorithm,
                                 "judgement": self.overall, "override_reason": self.overall_reason,
                                 "path": ""}])
        frame = pd.concat([self.domains, overall], ignore_index=True)
        title = f"{self.tool}: {self.study}" + (f" ({self.result})" if self.result else "")
        return Summary(title, frame, (self.reference,))


@dataclass(frozen=True, slots=True, eq=False)
class CaseSeriesAppraisal:
    """JBI case-series checklist: the ten answers, the Yes count and the reviewers' decision."""

    study: str
    items: pd.DataFrame          # item, question, answer
    n_yes: int
    n_applicable: int
    decision: str
    reason: str
    reference: str

    def __repr__(self) -> str:
        return (f"CaseSeriesAppraisal(study={self.study!r}, yes={self.n_yes}/{self.n_applicable}, "
                f"decision={self.decision!r})")

    def summary(self) -> Summary:
        return Summary(f"JBI case-series checklist: {self.study}", self.items,
                       (f"{self.n_yes} of {self.n_applicable} applicable items answered Yes",
                        f"decision: {self.decision} ({self.reason})", self.reference))


# ----------------------------------------------------------------------------- shared checks

def _check_design(design, wanted: str, tool: str, study: str) -> None:
    if design is None or design == wanted:
        return
    better = _DESIGN_TOOL.get(design, "a tool made for that design")
    why = {"single_arm": "a single-arm study has no comparison group, so there is no comparative effect "
                         "whose bias the tool could judge"}.get(design, f"{tool} is made for {wanted} studies")
    raise DataError(Problem(f"{tool} cannot be applied to this study: {why}", study=study, column="design",
                            found=design, expected=repr(wanted), hint=f"use {better}"))


def _reason(value, name: str, caller: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"The '{name}' parameter of {caller} needs a non-empty reason. Got {value!r} instead.")
    return value.strip()


def _override(spec, allowed, name: str, caller: str) -> tuple[str, str]:
    """An override is (judgement, reason); the reason is mandatory."""
    if not (isinstance(spec, (tuple, list)) and len(spec) == 2):
        raise ParameterError(f"The '{name}' parameter of {caller} must be a (judgement, reason) pair. "
                             f"Got {spec!r} instead.")
    judgement = check_option(spec[0], name=name, allowed=allowed, caller=caller)
    return judgement, _reason(spec[1], name, caller)


def _answers(answers, allowed, known, study: str, tool: str) -> dict:
    if not isinstance(answers, Mapping):
        raise ParameterError(f"The 'answers' parameter of {tool} must be a mapping question -> answer. "
                             f"Got {type(answers).__name__} instead.")
    out, problems = {}, []
    for q, a in answers.items():
        q, text = str(q).strip(), str(a).strip().upper() if a is not None else ""
        if q not in known:
            problems.append(Problem("unknown signalling question", study=study, column=q,
                                    expected=f"one of {sorted(known)}"))
        elif text not in allowed:
            problems.append(Problem(f"bad answer to signalling question {q}", study=study, column=q,
                                    found=a, expected="/".join(allowed)))
        else:
            out[q] = text
    if problems:
        raise DataError(problems)
    return out


def _domain_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=DOMAIN_COLUMNS)


# ----------------------------------------------------------------------------- RoB 2

def rob2(study: str, answers: Mapping[str, str], *, result: str = "", effect: str = "assignment",
         overrides: Mapping[str, tuple[str, str]] | None = None, multiple_concerns_reason: str | None = None,
         overall_override: tuple[str, str] | None = None, design: str | None = "RCT") -> RiskOfBias:
    """RoB 2 assessment of one result, judged from the signalling-question answers.

    Parameters
    ----------
    study : str
    answers : mapping question id -> {"Y", "PY", "PN", "N", "NI", "NA"}
        E.g. ``{"1.1": "Y", "1.2": "PY", "1.3": "N", "2.1": "N", ...}``. Questions not on a
        domain's decision path are ignored.
    result : str
        Which result (outcome, time point) is assessed; RoB 2 is per result.
    effect : {"assignment", "adherence"}, default="assignment"
        Effect of interest, selecting the domain-2 variant.
    overrides : mapping domain ("D1".."D5") -> (judgement, reason), optional
        Assessor overrides of a domain's algorithmic judgement; the reason is recorded.
    multiple_concerns_reason : str, optional
        RoB 2's rule that the overall risk is High when several domains have "Some concerns" that
        together substantially lower confidence in the result: a recorded judgement, given as its reason.
    overall_override : (judgement, reason), optional
    design : str, default="RCT"
        The study design; RoB 2 refuses non-randomised designs.
    """
    tool = load_tool("rob2")
    effect = check_option(effect, name="effect", allowed=list(tool["effects"]), caller="rob2")
    _check_design(design, "RCT", "RoB 2", study)
    domains = [tool["domains"][k] for k in tool["effects"][effect]]
    known = {q for d in domains for q in d.questions}
    given = _answers(answers, tool["answers"], known, study, "rob2")
    order = tool["judgements"]
    overrides = dict(overrides or {})
    unknown = set(overrides) - {d.label for d in domains}
    if unknown:
        raise ParameterError(f"The 'overrides' parameter of rob2 names unknown domain(s) {sorted(unknown)}; "
                             f"allowed {[d.label for d in domains]}.")
    rows = []
    for d in domains:
        algo, path = walk_domain(d, given, order, study=study)
        final, why = (_override(overrides[d.label], order, f"overrides[{d.label}]", "rob2")
                      if d.label in overrides else (algo, ""))
        rows.append({"domain": d.label, "name": d.name, "algorithm": algo, "judgement": final,
                     "override_reason": why, "path": "; ".join(path)})
    frame = _domain_frame(rows)
    algo_overall = worst(frame["judgement"], order)
    overall, reason = algo_overall, ""
    if multiple_concerns_reason is not None:
        reason = _reason(multiple_concerns_reason, "multiple_concerns_reason", "rob2")
        n_sc = int((frame["judgement"] == "Some concerns").sum())
        if algo_overall != "Some concerns" or n_sc < 2:
            raise ParameterError("The 'multiple_concerns_reason' parameter of rob2 applies only when at least "
                                 f"two domains have 'Some concerns' and none is 'High'; found {n_sc} with "
                                 f"overall {algo_overall!r}.")
        overall = tool["multiple_concerns_judgement"]
        reason = f"multiple domains with some concerns: {reason}"
    if overall_override is not None:
        overall, reason = _override(overall_override, order, "overall_override", "rob2")
    return RiskOfBias("RoB 2", study, result, effect, frame, algo_overall, overall, reason, tool["reference"])


# ----------------------------------------------------------------------------- ROBINS-I

def robins_i(study: str, judgements: Mapping[str, str], *, answers: Mapping[str, str] | None = None,
             result: str = "", overall_override: tuple[str, str] | None = None,
             design: str | None = "NRS_comparative") -> RiskOfBias:
    """ROBINS-I assessment of one result of a comparative non-randomised study.

    Parameters
    ----------
    judgements : mapping "D1".."D7" -> {"Low", "Moderate", "Serious", "Critical", "No information"}
        Domain judgements made by the assessor (ROBINS-I 2016 has no domain algorithm).
    answers : mapping question id -> {"Y","PY","PN","N","NI","NA"}, optional
        Signalling answers, recorded in ``path`` and checked against the answer set.
    overall_override : (judgement, reason), optional
    design : str, default="NRS_comparative"
        ROBINS-I refuses single-arm studies (no comparison) and randomised trials (use RoB 2).

    Notes
    -----
    Overall (Sterne 2016, table 3): Critical if any domain is Critical; else Serious if any is
    Serious; else No information if any is No information; else Moderate if any is Moderate; else Low.
    """
    tool = load_tool("robins_i")
    _check_design(design, "NRS_comparative", "ROBINS-I", study)
    allowed = tool["judgements"]
    missing = [d for d in tool["domains"] if d not in (judgements or {})]
    extra = [d for d in (judgements or {}) if d not in tool["domains"]]
    if missing or extra:
        raise DataError(Problem("ROBINS-I needs a judgement for each of the seven domains", study=study,
                                found=f"missing {missing}, unknown {extra}", expected=str(tool["domains"])))
    known = {q for qs in tool["questions"].values() for q in qs}
    given = _answers(answers or {}, tool["answers"], known, study, "robins_i")
    rows = []
    for d in tool["domains"]:
        j = check_option(judgements[d], name=f"judgements[{d}]", allowed=allowed, caller="robins_i")
        path = "; ".join(f"{q}={given[q]}" for q in tool["questions"][d] if q in given)
        rows.append({"domain": d, "name": tool["domain_names"][d], "algorithm": j, "judgement": j,
                     "override_reason": "", "path": path})
    frame = _domain_frame(rows)
    algo_overall = worst(frame["judgement"], tool["overall_rank"])
    overall, reason = algo_overall, ""
    if overall_override is not None:
        overall, reason = _override(overall_override, allowed, "overall_override", "robins_i")
    return RiskOfBias("ROBINS-I", study, result, "", frame, algo_overall, overall, reason, tool["reference"])


# ----------------------------------------------------------------------------- JBI case series

def jbi_case_series(study: str, answers: Mapping[str, str], *, decision: str, reason: str,
                    design: str | None = "single_arm") -> CaseSeriesAppraisal:
    """JBI critical appraisal checklist for case series (10 items) for a single-arm study.

    Parameters
    ----------
    answers : mapping item "1".."10" -> {"Yes", "No", "Unclear", "Not applicable"}
        All ten items must be answered.
    decision : {"include", "exclude", "seek further info"}
        The reviewers' overall appraisal (the checklist has no scoring rule).
    reason : str
        Why (recorded).
    """
    tool = load_tool("jbi_case_series")
    _check_design(design, "single_arm", "The JBI case-series checklist", study)
    items = tool["items"]
    problems = [Problem("item unanswered", study=study, column=i, expected="/".join(tool["answers"]))
                for i in items if i not in {str(k) for k in answers}]
    problems += [Problem("unknown item", study=study, column=str(k), expected="items 1-10")
                 for k in answers if str(k) not in items]
    if problems:
        raise DataError(problems)
    rows = []
    for i, question in items.items():
        a = check_option(str(answers.get(i, answers.get(int(i), ""))), name=f"answers[{i}]",
                         allowed=tool["answers"], caller="jbi_case_series")
        rows.append({"item": i, "question": question, "answer": a})
    frame = pd.DataFrame(rows, columns=["item", "question", "answer"])
    decision = check_option(decision, name="decision", allowed=tool["decisions"], caller="jbi_case_series")
    n_yes = int((frame["answer"] == "Yes").sum())
    n_app = int((frame["answer"] != "Not applicable").sum())
    return CaseSeriesAppraisal(study, frame, n_yes, n_app, decision,
                               _reason(reason, "reason", "jbi_case_series"), tool["reference"])
