"""Risk-of-bias assessments from a table (``rob.csv``), as reviewers have them.

Per study (and per result when ``result`` is filled: the outcome id, or empty for every result of
the study) one of:

- an **overall judgement** only (what CINeMA asks for);
- **per-domain judgements** (``D1`` ... ``D5`` for RoB 2, ``D1`` ... ``D7`` for ROBINS-I);
- **full signalling answers** (RoB 2's decision trees are walked; ROBINS-I answers are recorded).

Two layouts, told apart by their columns:

*long* (``item`` and ``answer`` columns): one row per answered item. ``item`` is a signalling
question (``1.1``), a domain (``D1``), ``overall``, ``effect`` (RoB 2: assignment/adherence),
``multiple_concerns`` (RoB 2's recorded High, reason required) or, for the JBI case-series
checklist, ``1`` ... ``10`` and ``decision``.

*wide* (no ``item`` column): one row per study and result with columns ``D1`` ... and/or
``overall``; empty cells are "not given".

``tool`` is ``RoB 2``, ``ROBINS-I``, ``JBI case series`` or empty / ``CINeMA`` for a tool-free
judgement on CINeMA's three levels (low / some concerns / high; 1 / 2 / 3 and L / M / H are read
too). ``reason`` records why; it is required where a judgement replaces what the signalling
answers or the domains give (an override). Other columns (``source``, ``assessor``, ...) are kept
as provenance.

Every problem in the table is collected into one DataError (file, row, column, study, found,
expected).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .._summary import Summary
from ..errors import DataError, ParameterError, Problem, closest
from .rob import CaseSeriesAppraisal, RiskOfBias, jbi_case_series, rob2, robins_i

__all__ = ["RiskOfBiasTable", "appraise_table", "TOOLS", "CINEMA", "CINEMA_LEVELS", "cinema_judgement"]

CINEMA = "CINeMA"
TOOLS = {"rob2": "RoB 2", "rob20": "RoB 2", "robinsi": "ROBINS-I", "jbicaseseries": "JBI case series",
         "jbi": "JBI case series", "cinema": CINEMA, "": CINEMA}
# CINeMA's three study levels (Nikolakopoulou 2020: 1/2/3 = low/some/high; the web application
# writes L/M/H) -> their RoB 2 spelling.
CINEMA_LEVELS = {"1": "Low", "l": "Low", "low": "Low",
                 "2": "Some concerns", "m": "Some concerns", "u": "Some concerns", "some": "Some concerns",
                 "some concerns": "Some concerns", "moderate": "Some concerns", "unclear": "Some concerns",
                 "3": "High", "h": "High", "high": "High"}
_REQUIRED = ("study",)
_DOMAIN = re.compile(r"^[dD]\d$")
_PROVENANCE = ("reason", "source", "assessor", "location", "note", "notes")


def _tool(name) -> str | None:
    return TOOLS.get("".join(ch for ch in str(name).casefold() if ch.isalnum()))


def cinema_judgement(study: str, overall, *, result: str = "", reason: str = "") -> RiskOfBias:
    """A tool-free study-level judgement on CINeMA's three levels (low / some concerns / high)."""
    key = " ".join(str(overall).strip().casefold().split())
    if key not in CINEMA_LEVELS:
        raise DataError(Problem("unknown risk-of-bias level", study=study, column="overall", found=overall,
                                expected="low, some concerns or high (CINeMA's levels; 1/2/3 or L/M/H)",
                                hint="name the tool ('RoB 2', 'ROBINS-I') to use its own words"))
    level = CINEMA_LEVELS[key]
    frame = pd.DataFrame(columns=["domain", "name", "algorithm", "judgement", "override_reason", "path", "basis"])
    ref = "Nikolakopoulou A et al. PLoS Med 2020;17:e1003082. doi:10.1371/journal.pmed.1003082"
    return RiskOfBias(CINEMA, study, result, "", frame, "", level, str(reason or "").strip(), ref, "overall")


@dataclass(frozen=True, slots=True, eq=False)
class RiskOfBiasTable:
    """All assessments of a ``rob`` table; ``frame`` has one row per study, result and tool
    (domain columns ``D1`` ..., ``overall``, ``basis``, ``detail`` and provenance ``source``)."""

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

    def tools(self) -> dict[tuple[str, str], str]:
        """(study, result) -> tool of its assessment."""
        return {(s, r): t for s, r, t in zip(self.frame["study"], self.frame["result"], self.frame["tool"])}

    def to_dict(self) -> dict:
        """JSON-ready: one record per study and result, domain judgements and their names."""
        names: dict[str, dict[str, str]] = {}
        for rec in self.records:
            if isinstance(rec, RiskOfBias):
                names.setdefault(rec.tool, dict(zip(rec.domains["domain"], rec.domains["name"])))
        return {"assessments": self.frame.to_dict("records"), "domains": names}


# ------------------------------------------------------------------------------------ long layout
def _split(rows: pd.DataFrame):
    """Items of one assessment -> (answers, extras {item: (answer, reason, row)})."""
    answers, extras = {}, {}
    for row, r in rows.iterrows():
        item = str(r["item"]).strip()
        if item[:1].isdigit():
            answers[item] = str(r["answer"]).strip()
        else:
            key = item.upper() if _DOMAIN.match(item) else item.casefold()
            extras[key] = (str(r["answer"]).strip(), str(r.get("reason", "")).strip(), row)
    return answers, extras


def _judged(extras: dict):
    """Domain items -> (direct judgements, overrides with a reason)."""
    domains = {k: v for k, v in extras.items() if k.startswith("D")}
    return ({k: a for k, (a, why, _) in domains.items() if not why},
            {k: (a, why) for k, (a, why, _) in domains.items() if why})


def _overall_item(extras: dict):
    """The ``overall`` item -> (given judgement, override (judgement, reason))."""
    if "overall" not in extras:
        return None, None
    answer, why, _ = extras.pop("overall")
    return (None, (answer, why)) if why else (answer, None)


def _assess_rob2(study, result, answers, extras, design):
    effect = extras.pop("effect", ("assignment", "", None))[0]
    mc = extras.pop("multiple_concerns", None)
    given, override = _overall_item(extras)
    unknown = sorted(k for k in extras if not k.startswith("D"))
    if unknown:
        raise DataError(Problem("unknown RoB 2 item(s)", study=study, column="item", found=unknown,
                                expected="1.1 ... 5.3, D1 ... D5, overall, effect, multiple_concerns"))
    judged, overrides = _judged(extras)
    answered = {q.split(".")[0] for q in answers}
    # a reasoned domain row without signalling answers is a judgement with its reason, not an override
    for d in [d for d in overrides if d[1:] not in answered]:
        judged[d] = overrides.pop(d)[0]
    return rob2(study, answers, result=result, effect=effect, judgements=judged, overall=given,
                overrides=overrides, multiple_concerns_reason=mc[1] if mc else None, overall_override=override,
                design=design or "RCT")


def _assess_robins(study, result, answers, extras, design):
    given, override = _overall_item(extras)
    unknown = sorted(k for k in extras if not k.startswith("D"))
    if unknown:
        raise DataError(Problem("unknown ROBINS-I item(s)", study=study, column="item", found=unknown,
                                expected="1.1 ... 7.3, D1 ... D7, overall"))
    judged = {k: a for k, (a, _, _) in extras.items()}
    return robins_i(study, judged, answers=answers, result=result, overall=given, overall_override=override,
                    design=design or "NRS_comparative")


def _assess_cinema(study, result, answers, extras, design):
    if answers or set(extras) - {"overall"}:
        raise DataError(Problem("a tool-free (CINeMA) judgement is one overall level", study=study, column="tool",
                                found="signalling answers or domain judgements",
                                expected="'RoB 2' or 'ROBINS-I' in the tool column for domain-level input"))
    if "overall" not in extras:
        raise DataError(Problem("no overall judgement", study=study, column="overall", expected="low, some "
                                "concerns or high"))
    answer, why, _ = extras["overall"]
    return cinema_judgement(study, answer, result=result, reason=why)


def _assess(tool, study, result, rows, design):
    answers, extras = _split(rows)
    if tool == "RoB 2":
        return _assess_rob2(study, result, answers, extras, design)
    if tool == "ROBINS-I":
        return _assess_robins(study, result, answers, extras, design)
    if tool == CINEMA:
        return _assess_cinema(study, result, answers, extras, design)
    decision, reason, _ = extras.pop("decision", ("", "", None))
    return jbi_case_series(study, answers, decision=decision, reason=reason, design=design or "single_arm")


# ------------------------------------------------------------------------------------ wide layout
def _wide_to_long(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per study x result with D1 ... / overall columns -> one row per judged item (the
    spreadsheet row is kept as the index)."""
    items = [c for c in frame.columns if _DOMAIN.match(str(c)) or str(c).casefold() == "overall"]
    rows = []
    for row, r in frame.iterrows():
        for c in items:
            value = str(r[c]).strip()
            if value:
                reason = str(r.get("reason", "")).strip() if str(c).casefold() == "overall" else ""
                rows.append((row, {"study": r["study"], "result": r["result"], "tool": r["tool"],
                                   "item": str(c), "answer": value, "reason": reason}))
    if not rows:
        return pd.DataFrame(columns=["study", "result", "tool", "item", "answer", "reason"])
    return pd.DataFrame([d for _, d in rows], index=[i for i, _ in rows])


# ------------------------------------------------------------------------------------ the table
def _row(rec, source: str) -> dict:
    if isinstance(rec, CaseSeriesAppraisal):
        return {"study": rec.study, "result": "", "tool": "JBI case series", "overall": rec.decision,
                "basis": "checklist", "detail": f"{rec.n_yes}/{rec.n_applicable} Yes", "source": source}
    doms = dict(zip(rec.domains["domain"], rec.domains["judgement"]))
    return {"study": rec.study, "result": rec.result, "tool": rec.tool, **doms, "overall": rec.overall,
            "basis": rec.basis, "detail": rec.overall_reason, "source": source}


def _tool_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    unknown: dict[str, list[int]] = {}
    for row, name in zip(frame.index, frame["tool"]):
        if _tool(name) is None:
            unknown.setdefault(str(name), []).append(int(row))
    problems = []
    names = sorted(set(TOOLS.values()))
    for name, rows in unknown.items():
        hint = closest(name, names)
        more = f" (also rows {', '.join(map(str, rows[1:6]))}{', ...' if len(rows) > 6 else ''})" if len(rows) > 1 else ""
        problems.append(Problem("unknown appraisal tool" + more, file=file, row=rows[0], column="tool",
                                found=name, expected=", ".join(names) + " (or empty for a CINeMA level)",
                                hint=f"did you mean {hint!r}?" if hint else None))
    return problems


def _first_row(rows: pd.DataFrame, p: Problem) -> int | None:
    """The spreadsheet row of a problem within one assessment's rows (its item, else the first)."""
    if "item" in rows.columns and p.column is not None:
        hit = rows.index[rows["item"].astype(str).str.strip().str.casefold() == str(p.column).casefold()]
        if len(hit):
            return int(hit[0])
    return int(rows.index[0]) if len(rows) else None


def _prepared(frame: pd.DataFrame, file: str, first_row: int) -> tuple[pd.DataFrame, bool]:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"The 'frame' parameter of appraise_table must be a DataFrame. "
                             f"Got {type(frame).__name__} instead.")
    long = "item" in frame.columns
    needed = ("study", "item", "answer") if long else _REQUIRED
    missing = [c for c in needed if c not in frame.columns]
    judged = [c for c in frame.columns if _DOMAIN.match(str(c)) or str(c).casefold() == "overall"]
    if missing or (not long and not judged):
        raise DataError(Problem("risk-of-bias table lacks required columns", file=file, found=missing or list(frame.columns),
                                expected="study and either item + answer (one row per item) or overall and/or "
                                         "D1, D2, ... (one row per study)"))
    frame = frame.astype(object).where(frame.notna(), "")
    if frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.set_axis(range(first_row, first_row + len(frame)))   # spreadsheet rows (header = 1)
    for c in ("result", "tool", "reason"):
        if c not in frame.columns:
            frame[c] = ""
    frame = frame.assign(study=frame["study"].astype(str).str.strip(), result=frame["result"].astype(str).str.strip())
    return frame, long


def appraise_table(frame: pd.DataFrame, studies: pd.DataFrame | None = None, *,
                   file: str = "rob.csv", first_row: int = 2) -> RiskOfBiasTable:
    """Build every assessment of a ``rob`` table (layouts and rules: see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        The table (cells as text). Its index is taken as the spreadsheet row of each line when it
        is not a plain 0..n-1 range (the loader's tables are indexed so); otherwise rows are
        numbered from ``first_row``.
    studies : DataFrame, optional
        The studies table; its ``design`` column is checked against each tool (ROBINS-I on a
        single-arm study is refused with a clear message).
    """
    frame, long = _prepared(frame, file, first_row)
    provenance = {c: frame[c] for c in _PROVENANCE[1:] if c in frame.columns}
    problems = _tool_problems(frame, file)
    if problems:
        raise DataError(problems)
    items = frame if long else _wide_to_long(frame)
    designs = dict(zip(studies["study"].astype(str), studies["design"])) if studies is not None else {}
    records, sources = [], []
    tools = items["tool"].map(_tool)
    for (study, result, tool), rows in items.groupby([items["study"], items["result"], tools], sort=True):
        try:
            records.append(_assess(tool, study, result, rows, designs.get(study)))
            src = provenance.get("source")
            sources.append("; ".join(dict.fromkeys(str(src[r]) for r in rows.index if str(src.get(r, ""))))
                           if src is not None else "")
        except (DataError, ParameterError) as exc:
            found = exc.problems if isinstance(exc, DataError) else (Problem(str(exc), study=study),)
            problems += [Problem(p.message, file=file, row=_first_row(rows, p), column=p.column,
                                 study=p.study or study, found=p.found, expected=p.expected, hint=p.hint)
                         for p in found]
    if problems:
        raise DataError(problems)
    return _table(records, sources)


def _table(records, sources) -> RiskOfBiasTable:
    table = pd.DataFrame([_row(r, s) for r, s in zip(records, sources)])
    if table.empty:
        table = pd.DataFrame(columns=["study", "result", "tool", "overall", "basis", "detail", "source"])
    domains = sorted(c for c in table.columns if _DOMAIN.match(c))
    table = table[["study", "result", "tool", *domains, "overall", "basis", "detail", "source"]].fillna("")
    return RiskOfBiasTable(tuple(records), table)
