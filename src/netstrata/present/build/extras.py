"""Stratum sections added to the report when a run has class models or threshold analyses.

:func:`add_class_and_threshold` is the one hook :func:`netstrata.present.build.build_context`
calls: each stratum gets its class-model tables (after its own tables) and its threshold forest
plot (after its forest plots).  Presentation only reads the results dictionary.
"""
from __future__ import annotations

import warnings
from dataclasses import replace

from ..class_models import class_model_tables
from ..threshold_plot import threshold_figure

__all__ = ["add_class_and_threshold"]


def add_class_and_threshold(strata: tuple, data: dict, notes: list) -> tuple:
    """``strata`` (StratumReport) with the class-model tables and threshold plots of ``data``."""
    classes = data.get("class_models") or {}
    thresh = data.get("threshold") or {}
    if not classes and not thresh:
        return strata
    out = []
    for st in strata:
        tables, figures = tuple(st.tables), tuple(st.forests)
        if st.key in classes:
            tables += _try(lambda: class_model_tables(classes[st.key], st.measure), notes,
                           f"{st.key}: class-model tables") or ()
        if st.key in thresh:
            fig = _try(lambda: threshold_figure(thresh[st.key], st.name), notes, f"{st.key}: threshold plot")
            figures += (fig,) if fig is not None else ()
        out.append(replace(st, tables=tables, forests=figures))
    return tuple(out)


def _try(fn, notes: list, what: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except (KeyError, TypeError, ValueError) as exc:
        notes.append(f"{what}: {type(exc).__name__}: {exc}")
        return None
