"""Which studies a specification leaves out: the sensitivity filters and the prospective-only choice.

A filter is ``"any"`` or ``column=value|value`` on a column of studies.csv, else of arms.csv (a
study passes when all its active arms pass), or on a column derived from an appraisal table
(:data:`DERIVED_FILTER_COLUMNS`). :func:`filter_problems` is the check ``validate`` and ``run``
make before any filter is applied, so a filter never leaves studies out because of a typo.
"""
from __future__ import annotations

import pandas as pd

from ..appraisal.fidelity import appraise_fidelity
from ..appraisal.fidelity.rules import NOT_APPLICABLE, TIERS
from ..appraisal.fidelity.use import with_fidelity
from ..data.spec import table_spec
from ..errors import DataError, Problem, closest
from .certainty_inputs import risk_of_bias_table
from .choices import Choices
from .config import Filter, parse_filter

__all__ = ["filtered_out", "not_prospective", "filter_problems", "ROB_OVERALL", "DERIVED_FILTER_COLUMNS",
           "FIDELITY_COLUMNS"]

FIDELITY_COLUMNS = ("fidelity_tier", "fidelity_score")
#: overall risk-of-bias judgements a ``rob_overall`` filter may name (RoB 2, then ROBINS-I), by rank
ROB_OVERALL = {"low": 0, "some_concerns": 1, "moderate": 1, "high": 2, "serious": 2, "critical": 3}
#: filter columns derived from the appraisal tables (column -> where it comes from)
DERIVED_FILTER_COLUMNS = {"fidelity_tier": "fidelity.csv (tier of the arm)",
                          "fidelity_score": "fidelity.csv (score of the arm)",
                          "rob_overall": "rob.csv (worst overall judgement of the study)"}


def arms_with_fidelity(review) -> pd.DataFrame:
    """Arms plus ``fidelity_tier`` / ``fidelity_score`` (netstrata.appraisal's fidelity appraisal)."""
    return with_fidelity(review.arms, appraise_fidelity(review))


def _rob_code(value) -> str:
    """'Some concerns' -> 'some_concerns' (how a filter names a judgement)."""
    return "_".join(str(value).strip().lower().replace("-", " ").split())


def studies_with_rob(review) -> pd.DataFrame:
    """Studies plus ``rob_overall``: the worst overall judgement of each study's assessments in
    rob.csv (read by :func:`~netstrata.synthesis.certainty_inputs.risk_of_bias_table`, as the
    certainty ratings read it); ``NR`` for a study without one."""
    table = risk_of_bias_table(review)
    worst: dict[str, str] = {}
    if table is not None:
        for study, value in zip(table.frame["study"], table.frame["overall"]):
            code = _rob_code(value)
            if code in ROB_OVERALL and (study not in worst or ROB_OVERALL[code] > ROB_OVERALL[worst[study]]):
                worst[str(study)] = code
    return review.studies.assign(rob_overall=[worst.get(str(s), "NR") for s in review.studies["study"]])


def passes(study_rows: pd.DataFrame, arms: pd.DataFrame, f: Filter) -> dict[str, bool]:
    """Study -> passes filter ``f`` (studies column; else arms column: every active arm must pass;
    an arm with fidelity tier ``NA``, i.e. no checklist for its procedure, is not judged)."""
    if f.keeps_all:
        return {s: True for s in study_rows["study"]}
    if f.column in study_rows.columns:
        return {s: str(v) in f.values for s, v in zip(study_rows["study"], study_rows[f.column])}
    if f.column in arms.columns:
        active = arms[arms["family"].notna()] if "family" in arms else arms
        passed = active[f.column].astype(str).isin(f.values)
        if f.column == "fidelity_tier":
            passed |= active[f.column].astype(str) == "NA"
        ok = active.assign(_ok=passed).groupby("study")["_ok"].all()
        return {s: bool(ok.get(s, False)) for s in study_rows["study"]}
    raise DataError(Problem("sensitivity filter names an unknown column", file="netstrata.toml",
                            column="sensitivity", found=f.text,
                            expected="a column of studies.csv or arms.csv (e.g. selection_reporting)"))


def choice_filter(text: str) -> Filter:
    """The filter of a specification's choice (``"any"`` or ``column=value|value``); a DataError
    when the text is not a filter (the plan's are checked when it is read; this guards Choices
    built by hand)."""
    f = parse_filter(text)
    if f is None:
        raise DataError(Problem("sensitivity filter not understood", file="netstrata.toml", column="sensitivity",
                                found=text, expected='"any" or column=value|value (e.g. selection_reporting=yes)'))
    return f


def filtered_out(review, choices: Choices) -> set[str]:
    keep = {s: True for s in review.studies["study"]}
    for text in (choices.selection, choices.risk_of_bias, choices.fidelity):
        f = choice_filter(text)
        arms, studies = review.arms, review.studies
        if f.column in FIDELITY_COLUMNS and f.column not in arms.columns:
            arms = arms_with_fidelity(review)
        if f.column == "rob_overall" and f.column not in studies.columns:
            studies = studies_with_rob(review)
        for s, ok in passes(studies, arms, f).items():
            keep[s] = keep[s] and ok
    return {s for s, ok in keep.items() if not ok}


def not_prospective(review, choices: Choices) -> set[str]:
    """Non-randomised studies left out under ``data_collection="prospective"`` (RCTs are prospective)."""
    if choices.data_collection != "prospective":
        return set()
    st = review.studies
    given = st["data_collection"] if "data_collection" in st else pd.Series([None] * len(st), index=st.index)
    return {s for s, d, c in zip(st["study"], st["design"], given) if d != "RCT" and c != "prospective"}


def filter_problems(review, key: str, text: str, file: str = "netstrata.toml") -> list[Problem]:
    """Problems of one sensitivity filter ``column=value|value`` on ``review``: a column that is
    neither a studies or arms column nor derived (:data:`DERIVED_FILTER_COLUMNS`), or a value
    that cannot occur (not a code of the column's vocabulary or list, not a derived level, or for a
    free-text column, in no row): such a filter would leave every study out without a word."""
    f = parse_filter(text)
    if f is None or f.column is None:     # not understood (reported elsewhere) or keeps every study
        return []
    allowed = _filter_values(review, f.column)
    if allowed is None:
        known = sorted({*review.studies.columns, *review.arms.columns, *DERIVED_FILTER_COLUMNS} - {"row", "notes"})
        best = closest(f.column, known)
        return [Problem("filter names an unknown column", file=file, column=key, found=f.text,
                        expected="a column of studies.csv or arms.csv, or " + ", ".join(DERIVED_FILTER_COLUMNS),
                        hint=f"did you mean {best!r}?" if best else None)]
    if f.column == "rob_overall" and f.column not in review.studies.columns and review.table("rob") is None:
        return [Problem("filter on the risk of bias but the project has no rob.csv", file=file, column=key,
                        found=f.text, expected="a rob.csv table (every study would be left out)")]
    out = []
    for v in f.values:
        if allowed and v not in allowed:
            best = closest(v, allowed)
            shown = ", ".join(list(allowed)[:12]) + (", ..." if len(allowed) > 12 else "")
            out.append(Problem(f"filter value cannot occur in column '{f.column}'", file=file, column=key,
                               found=v, expected=f"one of {shown}",
                               hint=f"did you mean {best!r}?" if best and best != v else None))
    return out


def _filter_values(review, column: str) -> tuple[str, ...] | None:
    """Values a filter on ``column`` may name (None: unknown column)."""
    if column == "fidelity_tier":
        return (*TIERS, NOT_APPLICABLE, "NR")
    if column == "rob_overall":
        return (*ROB_OVERALL, "NR")
    if column == "fidelity_score":
        return ()
    for name, frame in (("studies", review.studies), ("arms", review.arms)):
        if column in frame.columns:
            col = table_spec(name, review.pack).column(column)
            if col is not None and col.kind == "choice":
                return col.choices
            if col is not None and col.kind == "vocab" and col.vocabulary in review.pack.vocabularies:
                return review.pack.vocabularies[col.vocabulary].allowed
            return tuple(sorted({str(v) for v in frame[column] if v is not None and str(v) != "nan"}))
    return None
