"""Clinical strata: the plan's stratification variables split the records into named subsets.

A variable is a column of ``studies.csv`` (e.g. ``region``, ``diagnosis``, ``pain_distribution``,
``duration``, ``design``), else a column of ``arms.csv`` (the study's distinct values joined by
``+``), or ``time_window`` (the rule the plan applies to the study for that outcome). Missing
values form their own ``NR`` stratum: a study is never dropped for an unknown stratum value.
The outcome always splits; the *lumped* stratum of an outcome has no variables.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.crosscheck import SPECIAL_VARIABLES, strata_problems
from ..errors import DataError

__all__ = ["Stratum", "stratum_values", "check_variables", "SPECIAL_VARIABLES"]

MISSING = "NR"


@dataclass(frozen=True, slots=True, order=True)
class Stratum:
    """A named subset: ``values`` = ((variable, value), ...) and the outcome."""

    outcome: str
    values: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """Readable name, e.g. ``lumbar / facet_joint_pain / success`` (``all / success`` if lumped)."""
        parts = [v for _, v in self.values] or ["all"]
        return " / ".join([*parts, self.outcome])

    @property
    def lumped(self) -> bool:
        return not self.values

    def as_dict(self) -> dict:
        return {"name": self.name, "outcome": self.outcome, "values": {k: v for k, v in self.values}}

    def __repr__(self) -> str:
        return f"Stratum({self.name!r})"


def check_variables(variables, studies: pd.DataFrame, arms: pd.DataFrame) -> None:
    """DataError naming every stratification variable that is no column and no special variable
    (the loader's check, :func:`netstrata.data.crosscheck.strata_problems`)."""
    problems = strata_problems(variables, studies.columns, arms.columns)
    if problems:
        raise DataError(problems)


def _text(v) -> str:
    if v is None or (isinstance(v, float) and v != v) or str(v).strip() in ("", "nan"):
        return MISSING
    return str(v)


def stratum_values(variables, review, study: str, outcome: str) -> tuple[tuple[str, str], ...]:
    """The (variable, value) pairs of ``study`` for the stratum of ``outcome``."""
    studies, arms = review.studies, review.arms
    out = []
    row = studies[studies["study"] == study]
    for v in variables:
        if v in studies.columns:
            value = _text(row[v].iat[0]) if len(row) else MISSING
        elif v == "time_window":
            value = _window_text(review, study, outcome)
        else:
            vals = [_text(x) for x in arms.loc[arms["study"] == study, v]]
            vals = [x for x in dict.fromkeys(vals) if x != MISSING] or [MISSING]
            value = "+".join(sorted(vals))
        out.append((v, value))
    return tuple(out)


def _window_text(review, study: str, outcome: str) -> str:
    arms = review.arms
    fams = [p.strip() for f in arms.loc[arms["study"] == study, "family"].dropna() for p in str(f).split("|")]
    w = review.plan.outcome(outcome).window_for(tuple(dict.fromkeys(fams)))
    return "no time-window rule" if w is None else (w.text or w.describe())
