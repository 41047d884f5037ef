"""Risk-of-bias assessments from a long table (``rob.csv``): one row per answered item.

Columns: ``study``, ``result`` (optional; RoB 2 and ROBINS-I are per result), ``tool``
(``RoB 2`` / ``ROBINS-I`` / ``JBI case series``; spelling-tolerant), ``item``, ``answer``,
``reason`` (optional) and any provenance columns (assessor, location, ...). Items:

- RoB 2: signalling questions ``1.1`` ... ``5.3``; ``effect`` (assignment/adherence);
  ``D1`` ... ``D5`` = an override (answer = judgement, reason required); ``overall`` = an overall
  override; ``multiple_concerns`` (answer ``High``, reason required) = RoB 2's recorded judgement.
- ROBINS-I: ``D1`` ... ``D7`` = domain judgements; ``1.1`` ... = signalling answers; ``overall``.
- JBI case series: items ``1`` ... ``10``; ``decision`` (answer include/exclude/seek further info,
  reason required).

Every problem in the table is collected into one DataError (file, row, study, item).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .._summary import Summary
from ..errors import DataError, ParameterError, Problem, closest
from .rob import CaseSeriesAppraisal, RiskOfBias, jbi_case_series, rob2, robins_i

__all__ = ["RiskOfBiasTable", "appraise_table", "TOOLS"]

TOOLS = {"rob2": "RoB 2", "rob20": "RoB 2", "robinsi": "ROBINS-I", "jbicaseseries": "JBI case series",
         "jbi": "JBI case series"}
_REQUIRED = ("study", "tool", "item", "answer")
_DOMAIN = re.compile(r"^[dD]\d$")


def _tool(name) -> str | None:
    return TOOLS.get("".join(ch for ch in str(name).casefold() if ch.isalnum()))


@dataclass(frozen=True, slots=True, eq=False)
class RiskOfBiasTable:
    """All assessments of a ``rob`` table; ``frame`` has one row per study and result."""

    records: tuple
    frame: pd.DataFrame

    def __repr__(self) -> str:
        tools = self.frame["tool"].value_counts().sort_index()
        return "RiskOfBiasTable(" + ", ".join(f"{k}={int(v)}" for k, v in tools.items()) + ")"

    def summary(self) -> Summary:
        return Summary("Risk of bias", self.frame)

    def overall(self, study: str, result: str = "") -> str:
        """Overall judgement of one study's result (KeyError if not assessed)."""
        hit = self.frame[(self.frame["study"] == study) & (self.frame["result"] == result)]
        if hit.empty:
            raise KeyError((study, result))
        return str(hit.iloc[0]["overall"])


def _split(rows: pd.DataFrame):
    """Items of one assessment -> (answers, extras {item: (answer, reason)})."""
    answers, extras = {}, {}
    for _, r in rows.iterrows():
        item = str(r["item"]).strip()
        if item[:1].isdigit():
            answers[item] = str(r["answer"]).strip()
        else:
            key = item.upper() if _DOMAIN.match(item) else item.casefold()
            extras[key] = (str(r["answer"]).strip(), str(r.get("reason", "")).strip())
    return answers, extras


def _assess(tool, study, result, rows, design):
    answers, extras = _split(rows)
    overall = extras.pop("overall", None)
    if tool == "RoB 2":
        effect = extras.pop("effect", ("assignment", ""))[0]
        mc = extras.pop("multiple_concerns", None)
        overrides = {k: v for k, v in extras.items() if k.startswith("D")}
        unknown = sorted(set(extras) - set(overrides))
        if unknown:
            raise DataError(Problem("unknown RoB 2 item(s)", study=study, found=unknown))
        return rob2(study, answers, result=result, effect=effect, overrides=overrides,
                    multiple_concerns_reason=mc[1] if mc else None, overall_override=overall,
                    design=design or "RCT")
    if tool == "ROBINS-I":
        judgements = {k: v[0] for k, v in extras.items()}
        return robins_i(study, judgements, answers=answers, result=result, overall_override=overall,
                        design=design or "NRS_comparative")
    decision, reason = extras.pop("decision", ("", ""))
    return jbi_case_series(study, answers, decision=decision, reason=reason, design=design or "single_arm")


def _row(rec) -> dict:
    if isinstance(rec, CaseSeriesAppraisal):
        return {"study": rec.study, "result": "", "tool": "JBI case series",
                "overall": rec.decision, "detail": f"{rec.n_yes}/{rec.n_applicable} Yes"}
    doms = dict(zip(rec.domains["domain"], rec.domains["judgement"]))
    return {"study": rec.study, "result": rec.result, "tool": rec.tool, **doms, "overall": rec.overall,
            "detail": rec.overall_reason}


def appraise_table(frame: pd.DataFrame, studies: pd.DataFrame | None = None, *,
                   file: str = "rob.csv") -> RiskOfBiasTable:
    """Build every assessment of a long ``rob`` table (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        The table (cells as text).
    studies : DataFrame, optional
        The studies table; its ``design`` column is checked against each tool (ROBINS-I on a
        single-arm study is refused with a clear message).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"The 'frame' parameter of appraise_table must be a DataFrame. "
                             f"Got {type(frame).__name__} instead.")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(Problem("risk-of-bias table lacks required columns", file=file, found=missing,
                                expected=", ".join(_REQUIRED)))
    frame = frame.assign(result=frame["result"] if "result" in frame.columns else "").fillna("")
    designs = dict(zip(studies["study"], studies["design"])) if studies is not None else {}
    problems, records = [], []
    unknown: dict[str, list[int]] = {}
    for pos, name in enumerate(frame["tool"]):
        if _tool(name) is None:
            unknown.setdefault(str(name), []).append(pos + 2)
    for name, rows in unknown.items():
        hint = closest(name, sorted(set(TOOLS.values())))
        more = f" (also rows {', '.join(map(str, rows[1:6]))}{', ...' if len(rows) > 6 else ''})" if len(rows) > 1 else ""
        problems.append(Problem("unknown appraisal tool" + more, file=file, row=rows[0], column="tool",
                                found=name, expected=", ".join(sorted(set(TOOLS.values()))),
                                hint=f"did you mean {hint!r}?" if hint else None))
    if problems:
        raise DataError(problems)
    tools = frame["tool"].map(_tool)
    for (study, result, tool), rows in frame.groupby([frame["study"].str.strip(), frame["result"].str.strip(),
                                                      tools], sort=True):
        try:
            records.append(_assess(tool, study, result, rows, designs.get(study)))
        except (DataError, ParameterError) as exc:
            found = exc.problems if isinstance(exc, DataError) else (Problem(str(exc), study=study),)
            problems += [Problem(p.message, file=file, row=None, column=p.column, study=p.study or study,
                                 found=p.found, expected=p.expected, hint=p.hint) for p in found]
    if problems:
        raise DataError(problems)
    table = pd.DataFrame([_row(r) for r in records])
    domains = sorted(c for c in table.columns if _DOMAIN.match(c))
    table = table[["study", "result", "tool", *domains, "overall", "detail"]].fillna("")
    return RiskOfBiasTable(tuple(records), table)
