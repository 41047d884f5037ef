"""netstrata.data (layer 0): review tables, loaders, validation, provenance, exclusion register.

>>> from netstrata.data import load_review
>>> review = load_review("examples/spine-landmark")            # doctest: +SKIP
>>> review.register.to_frame()                                  # doctest: +SKIP
"""
from __future__ import annotations

from .load import PLAN_FILE, load_review
from .plan import KnownTrial, OutcomeSpec, Plan, load_plan, parse_plan
from .register import REASONS, Exclusion, ExclusionRegister, Reason
from .review import Review, fingerprint
from .spec import DESIGNS, TABLES, ColumnSpec, TableSpec, register_table, table_spec
from .timewindow import TimeWindow, parse_window

__all__ = [
    "load_review", "PLAN_FILE", "Review", "fingerprint",
    "Plan", "OutcomeSpec", "KnownTrial", "load_plan", "parse_plan", "TimeWindow", "parse_window",
    "ExclusionRegister", "Exclusion", "Reason", "REASONS",
    "ColumnSpec", "TableSpec", "TABLES", "DESIGNS", "register_table", "table_spec",
    "example_path",
]


def example_path(name: str = "spine-landmark"):
    """Path of a bundled example project."""
    from pathlib import Path
    return Path(__file__).resolve().parent.parent / "examples" / name
