"""``validate_project``: every problem ``run`` would meet, without analysing (``netstrata validate``).

It loads the project (:func:`netstrata.data.load_review`: tables and the plan's core sections)
and runs :func:`netstrata.synthesis.checks.check_review`, the checks ``run`` makes before it
analyses. When the tables have problems the plan sections are still checked, so one round of
fixes sees everything that can be seen.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..data import load_review
from ..data.load import project_plan
from ..errors import DataError, Problem
from .canonical import canonical_review
from .checks import check_review, plan_problems

if TYPE_CHECKING:
    from ..data import Review

__all__ = ["Validation", "validate_project", "problem_dict"]

_FIELDS = ("message", "file", "row", "column", "study", "found", "expected", "hint")


def _plain(value):
    """A JSON value for ``found``: numbers stay numbers, anything else becomes text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value):
        return int(value) if float(value).is_integer() and not isinstance(value, float) else float(value)
    if hasattr(value, "item") and not isinstance(value, (list, tuple)):
        return _plain(value.item())
    return str(value)


def problem_dict(p: Problem) -> dict:
    """One problem as a JSON-ready mapping (every field, None where not known)."""
    return {f: (_plain(getattr(p, f)) if f == "found" else getattr(p, f)) for f in _FIELDS}


@dataclass(frozen=True, slots=True, eq=False)
class Validation:
    """The outcome of :func:`validate_project`: ``problems`` (empty = valid) and the loaded
    ``review`` when the tables loaded."""

    path: str
    problems: tuple[Problem, ...]
    review: Review | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        r = self.review
        counts = None if r is None else {"studies": len(r.studies), "arms": len(r.arms),
                                         "outcome_rows": len(r.outcomes), "register_rows": len(r.register)}
        return {"project": self.path, "ok": self.ok, "problems": [problem_dict(p) for p in self.problems],
                "counts": counts if self.ok else None,
                "fingerprint": r.fingerprint if (r is not None and self.ok) else None}

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, problems in the order found)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def __repr__(self) -> str:
        return f"Validation(path={self.path!r}, ok={self.ok}, problems={len(self.problems)})"


def validate_project(path) -> Validation:
    """Check the project at ``path`` as ``run`` would, collecting every problem (never raises
    DataError; a path that is no project is one problem)."""
    try:
        review = load_review(path)
    except DataError as exc:
        problems = list(exc.problems)
        plan, pack = project_plan(path)
        if plan is not None:
            seen = {str(p) for p in problems}
            problems += [p for p in plan_problems(plan, pack) if str(p) not in seen]
        return Validation(str(path), tuple(problems))
    try:
        check_review(canonical_review(review))
    except DataError as exc:
        return Validation(str(path), exc.problems, review)
    return Validation(str(path), (), review)
