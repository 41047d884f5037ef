"""Simulated spine-like reviews with known true effects per stratum (for recovery tests and demos).

- :mod:`.scenario`: populations, effect models and everything that defines a simulated review;
- :mod:`.review`: :func:`simulate_review` (a whole project) and :func:`simulate_contrasts`;
- :mod:`.write`: the project's tables and files; :mod:`.fidelity`: simulated technique items.
"""
from __future__ import annotations

from .review import (
                     Design,
                     SimulatedContrasts,
                     SimulatedReview,
                     draw_designs,
                     simulate_contrasts,
                     simulate_review,
                     truth_table,
)
from .scenario import OUTCOMES, SHAM, STRATUM_COLUMNS

__all__ = ["simulate_review", "simulate_contrasts", "SimulatedReview", "SimulatedContrasts", "Design",
           "draw_designs", "truth_table", "STRATUM_COLUMNS", "OUTCOMES", "SHAM"]
