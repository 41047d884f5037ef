"""Exceptions and warnings shared by every layer.

``DataError`` collects *all* problems found in a piece of input, each naming where it is
(file, row, column, study), what was found and what was expected. ``ParameterError`` is raised
by public functions for a bad argument, in one message format (scikit-learn style)::

    The 'method' parameter of pairwise must be one of {'DL', 'REML'}. Got 'reml2' instead.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = [
    "ANALYSIS_ERRORS",
    "Problem",
    "DataError",
    "ParameterError",
    "NetstrataWarning",
    "ConvergenceWarning",
    "StatisticalWarning",
    "closest",
]


def closest(value: object, allowed: Iterable[str]) -> str | None:
    """Return the allowed value closest to ``value`` (case-insensitive), or None."""
    allowed = [str(a) for a in allowed]
    lowered = {a.lower(): a for a in allowed}
    hits = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[hits[0]] if hits else None


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in the input: where it is, what was found, what was expected."""

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    study: str | None = None
    found: object = None
    expected: str | None = None
    hint: str | None = None

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        if self.study:
            parts.append(f"study '{self.study}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = self.message
        if self.found is not None or self.expected:
            text += f": found {self.found!r}" if self.found is not None else ""
            if self.expected:
                text += f"; expected {self.expected}"
        if self.hint:
            text += f" ({self.hint})"
        where = self.location()
        return f"{where}: {text}" if where else text


class DataError(ValueError):
    """Input data that cannot be used, with every problem found (not just the first)."""

    def __init__(self, problems: Sequence[Problem] | Problem | str):
        if isinstance(problems, (str, Problem)):
            problems = [problems if isinstance(problems, Problem) else Problem(problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:" if n > 1 else ""
        body = "\n".join(f"  - {p}" for p in self.problems) if n > 1 else str(self.problems[0])
        super().__init__(f"{head}\n{body}" if head else body)


class ParameterError(ValueError):
    """A public function was called with an argument outside its allowed values."""


#: What an analysis stage raises on data it cannot analyse: DataError and ParameterError (both
#: ValueErrors), numpy's LinAlgError (a ValueError), overflow or division (ArithmeticError). A run
#: reports these as a note on the stage and goes on; any other exception is a bug and propagates.
ANALYSIS_ERRORS: tuple[type[Exception], ...] = (ValueError, ArithmeticError)


class NetstrataWarning(UserWarning):
    """Base class of netstrata's warnings."""


class ConvergenceWarning(NetstrataWarning):
    """An iterative estimator stopped before meeting its convergence rule."""


class StatisticalWarning(NetstrataWarning):
    """A result is valid but needs care in interpretation (e.g. few studies)."""
