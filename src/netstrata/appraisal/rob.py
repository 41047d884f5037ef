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

__all__ = ["RiskOfBias", "CaseSeriesAppraisal", "rob2", "robins_i", "jbi_case_series", "DOMAIN_COLUMNS", "WORDS",
           "judgement_word"]

DOMAIN_COLUMNS = ["domain", "name", "algorithm", "judgement", "override_reason", "path", "basis"]
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
    #: how the overall judgement was reached: "domains" (worst domain), "overall" (given directly,
    #: domains not all judged) or "override" (a recorded judgement replacing the algorithm's)
    basis: str = "domains"

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


# ----------------------------------------------------------------------------- judgement words

# Accepted spellings of each tool's judgements (case-insensitive) -> the tool's own word. RoB 2's
# three levels are CINeMA's three levels; ROBINS-I keeps its five (Sterne 2016).
WORDS = {
    "RoB 2": {"low": "Low", "l": "Low", "some concerns": "Some concerns", "some": "Some concerns",
              "s": "Some concerns", "high": "High", "h": "High"},
    "ROBINS-I": {"low": "Low", "moderate": "Moderate", "serious": "Serious", "critical": "Critical",
                 "no information": "No information", "ni": "No information"},
}


def judgement_word(value, tool: str, *, study: str, column: str) -> str:
    """The tool's spelling of a judgement (``"some concerns"`` -> ``"Some concerns"``), or a
    DataError naming the study, the column and the accepted words."""
    key = " ".join(str(value).strip().casefold().split())
    if key in WORDS[tool]:
        return WORDS[tool][key]
    expected = ", ".join(dict.fromkeys(WORDS[tool].values()))
    hint = ("ROBINS-I judges Low / Moderate / Serious / Critical / No information; for a tool-free "
            "CINeMA level (low / some concerns / high) leave 'tool' empty") if tool == "ROBINS-I" else None
    raise DataError(Problem(f"unknown {tool} judgement", study=study, column=column, found=value,
                            expected=expected, hint=hint))


def _direct(judgements, tool: str, study: str) -> dict[str, str]:
    return {str(d).strip().upper(): judgement_word(j, tool, study=study, column=str(d))
            for d, j in dict(judgements or {}).items()}


def _missing_domains(tool: str, missing: list[str], study: str, detail: str = "") -> DataError:
    return DataError(Problem(f"{tool} domain(s) {', '.join(missing)} not judged{detail}", study=study,
                             column=missing[0], found="no judgement",
                             expected="signalling answers, a domain judgement or an overall judgement",
                             hint="give the domain judgements (D1, D2, ...) or one 'overall' judgement"))


def _overall(algorithm: str, given, override, allowed, tool: str, caller: str, study: str):
    """(overall, reason, basis) from the algorithm's overall (``""`` when some domain is not judged),
    a directly given overall judgement and an override (judgement, reason)."""
    if override is not None:
        j, why = _override(override, allowed, "overall_override", caller)
        return j, why, ("domains" if j == algorithm else "override") if algorithm else "overall"
    if given is None:
        return algorithm, "", "domains"
    j = judgement_word(given, tool, study=study, column="overall")
    if algorithm and j != algorithm:
        raise DataError(Problem(f"the overall {tool} judgement differs from its domains' ({algorithm}) without a "
                                "reason", study=study, column="overall", found=j, expected=algorithm,
                                hint="give a reason to record it as an override"))
    return j, "", "overall" if not algorithm else "domains"


# ----------------------------------------------------------------------------- RoB 2

def _rob2_domain(d, given: dict, judged: dict, overrides: dict, order, study: str) -> dict:
    """One RoB 2 domain: walked from its signalling answers, or judged directly (``judged``), or
    overridden with a reason; ``judgement`` is "" when nothing was given."""
    answered = any(q in given for q in d.questions)
    if answered:
        algo, path = walk_domain(d, given, order, study=study)
    else:
        algo, path = "", ()
    final, why = algo, ""
    if d.label in overrides:
        final, why = _override(overrides[d.label], order, f"overrides[{d.label}]", "rob2")
    elif d.label in judged:
        final = judged[d.label]
        if answered and final != algo:
            raise DataError(Problem(f"{d.label} judgement differs from its signalling answers' ({algo}) without a "
                                    "reason", study=study, column=d.label, found=final, expected=algo,
                                    hint="give a reason to record it as an override"))
    return {"domain": d.label, "name": d.name, "algorithm": algo, "judgement": final, "override_reason": why,
            "path": "; ".join(path), "basis": "signalling" if answered else ("judgement" if final else "")}


def rob2(study: str, answers: Mapping[str, str] | None = None, *, result: str = "", effect: str = "assignment",
         judgements: Mapping[str, str] | None = None, overall: str | None = None,
         overrides: Mapping[str, tuple[str, str]] | None = None, multiple_concerns_reason: str | None = None,
         overall_override: tuple[str, str] | None = None, design: str | None = "RCT") -> RiskOfBias:
    """RoB 2 assessment of one result: from signalling answers, domain judgements or one overall judgement.

    Parameters
    ----------
    study : str
    answers : mapping question id -> {"Y", "PY", "PN", "N", "NI", "NA"}, optional
        E.g. ``{"1.1": "Y", "1.2": "PY", "1.3": "N", "2.1": "N", ...}``. A domain with any answer
        is judged by its decision tree (every question on its path must be answered); questions
        not on a domain's decision path are ignored.
    result : str
        Which result (outcome, time point) is assessed; RoB 2 is per result.
    effect : {"assignment", "adherence"}, default="assignment"
        Effect of interest, selecting the domain-2 variant.
    judgements : mapping domain ("D1".."D5") -> {"Low", "Some concerns", "High"}, optional
        Domain judgements as a reviewer records them (CINeMA's three levels). For a domain with
        signalling answers the judgement must agree with the tree, or be given as an override.
    overall : {"Low", "Some concerns", "High"}, optional
        An overall judgement. Enough on its own (domains are then "not judged"); with every
        domain judged it must equal the worst domain unless given as ``overall_override``.
    overrides : mapping domain -> (judgement, reason), optional
        Assessor overrides of a domain's algorithmic judgement; the reason is recorded.
    multiple_concerns_reason : str, optional
        RoB 2's rule that the overall risk is High when several domains have "Some concerns" that
        together substantially lower confidence in the result: a recorded judgement, given as its reason.
    overall_override : (judgement, reason), optional
    design : str, default="RCT"
        The study design; RoB 2 refuses non-randomised designs.

    Notes
    -----
    Every domain needs a judgement (from answers, ``judgements`` or ``overrides``) unless an
    overall judgement is given; a domain missing for a tool that needs it is a DataError.
    """
    tool = load_tool("rob2")
    effect = check_option(effect, name="effect", allowed=list(tool["effects"]), caller="rob2")
    _check_design(design, "RCT", "RoB 2", study)
    domains = [tool["domains"][k] for k in tool["effects"][effect]]
    labels = [d.label for d in domains]
    known = {q for d in domains for q in d.questions}
    given = _answers(answers or {}, tool["answers"], known, study, "rob2")
    order = tool["judgements"]
    overrides, judged = dict(overrides or {}), _direct(judgements, "RoB 2", study)
    unknown = (set(overrides) | set(judged)) - set(labels)
    if unknown:
        raise ParameterError(f"The 'overrides' parameter of rob2 names unknown domain(s) {sorted(unknown)}; "
                             f"allowed {labels}.")
    frame = _domain_frame([_rob2_domain(d, given, judged, overrides, order, study) for d in domains])
    missing = [d for d, j in zip(frame["domain"], frame["judgement"]) if not j]
    if missing and overall is None and overall_override is None:
        unanswered = [q for d in domains if d.label in missing for q in d.questions][:3]
        raise _missing_domains("RoB 2", missing, study, f" (signalling question(s) {', '.join(unanswered)} "
                                                        "unanswered)")
    algo_overall = "" if missing else worst(frame["judgement"], order)
    if multiple_concerns_reason is not None:
        n_sc = int((frame["judgement"] == "Some concerns").sum())
        if algo_overall != "Some concerns" or n_sc < 2:
            raise ParameterError("The 'multiple_concerns_reason' parameter of rob2 applies only when at least "
                                 f"two domains have 'Some concerns' and none is 'High'; found {n_sc} with "
                                 f"overall {algo_overall!r}.")
        reason = "multiple domains with some concerns: " + _reason(multiple_concerns_reason,
                                                                   "multiple_concerns_reason", "rob2")
        final, why, basis = tool["multiple_concerns_judgement"], reason, "override"
        if overall_override is not None:
            final, why = _override(overall_override, order, "overall_override", "rob2")
    else:
        final, why, basis = _overall(algo_overall, overall, overall_override, order, "RoB 2", "rob2", study)
    return RiskOfBias("RoB 2", study, result, effect, frame, algo_overall, final, why, tool["reference"], basis)


# ----------------------------------------------------------------------------- ROBINS-I

def robins_i(study: str, judgements: Mapping[str, str] | None = None, *, answers: Mapping[str, str] | None = None,
             result: str = "", overall: str | None = None, overall_override: tuple[str, str] | None = None,
             design: str | None = "NRS_comparative") -> RiskOfBias:
    """ROBINS-I assessment of one result of a comparative non-randomised study.

    Parameters
    ----------
    judgements : mapping "D1".."D7" -> {"Low", "Moderate", "Serious", "Critical", "No information"}
        Domain judgements made by the assessor (ROBINS-I 2016 has no domain algorithm). All seven
        are needed unless an ``overall`` judgement is given.
    answers : mapping question id -> {"Y","PY","PN","N","NI","NA"}, optional
        Signalling answers, recorded in ``path`` and checked against the answer set.
    overall : str, optional
        An overall judgement: enough on its own; with all seven domains it must equal their
        overall (below) unless given as ``overall_override``.
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
    judged = {str(d).strip().upper(): j for d, j in dict(judgements or {}).items()}
    extra = [d for d in judged if d not in tool["domains"]]
    missing = [d for d in tool["domains"] if d not in judged]
    if extra or (missing and judged and overall is None and overall_override is None):
        raise DataError(Problem("ROBINS-I needs a judgement for each of the seven domains (or an overall judgement)",
                                study=study, found=f"missing {missing}, unknown {extra}",
                                expected=str(tool["domains"])))
    if missing and overall is None and overall_override is None:
        raise _missing_domains("ROBINS-I", missing, study)
    known = {q for qs in tool["questions"].values() for q in qs}
    given = _answers(answers or {}, tool["answers"], known, study, "robins_i")
    rows = []
    for d in tool["domains"]:
        j = ""
        if d in judged:
            j = check_option(judgement_word(judged[d], "ROBINS-I", study=study, column=d)
                             if isinstance(judged[d], str) else judged[d],
                             name=f"judgements[{d}]", allowed=allowed, caller="robins_i")
        path = "; ".join(f"{q}={given[q]}" for q in tool["questions"][d] if q in given)
        rows.append({"domain": d, "name": tool["domain_names"][d], "algorithm": j, "judgement": j,
                     "override_reason": "", "path": path, "basis": "judgement" if j else ""})
    frame = _domain_frame(rows)
    algo_overall = "" if missing else worst(frame["judgement"], tool["overall_rank"])
    final, why, basis = _overall(algo_overall, overall, overall_override, allowed, "ROBINS-I", "robins_i", study)
    return RiskOfBias("ROBINS-I", study, result, "", frame, algo_overall, final, why, tool["reference"], basis)


# ----------------------------------------------------------------------------- JBI case series

def jbi_case_series(study: str, answers: Mapping[str, str] | Mapping[int, str], *, decision: str, reason: str,
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
    by_item = {str(k): v for k, v in answers.items() if not isinstance(k, str)}
    by_item.update((k, v) for k, v in answers.items() if isinstance(k, str))   # "1" wins over 1
    rows = []
    for i, question in items.items():
        a = check_option(str(by_item.get(i, "")), name=f"answers[{i}]",
                         allowed=tool["answers"], caller="jbi_case_series")
        rows.append({"item": i, "question": question, "answer": a})
    frame = pd.DataFrame(rows, columns=["item", "question", "answer"])
    decision = check_option(decision, name="decision", allowed=tool["decisions"], caller="jbi_case_series")
    n_yes = int((frame["answer"] == "Yes").sum())
    n_app = int((frame["answer"] != "Not applicable").sum())
    return CaseSeriesAppraisal(study, frame, n_yes, n_app, decision,
                               _reason(reason, "reason", "jbi_case_series"), tool["reference"])
