"""Report tables: a full-precision frame plus how to show it (rounding, back-transform, badges).

:class:`Table` is what the pipeline hands over; :func:`table_view` turns it into rows of
:class:`Cell` (display text + a CSS class) for the template. Rounding happens here only.
Judgement columns get colour-coded badges: CINeMA domain judgements (no / some / major
concerns), overall certainty (High ... Very low) and study risk of bias (low / some / high).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd

from ..certainty.judgement import DOMAINS, MAJOR, NO, NOT_APPLICABLE, NOT_ASSESSABLE, RATINGS, SOME
from ..errors import ParameterError
from ._format import MISSING, fmt_num, format_frame, measure_scale

__all__ = ["Table", "Cell", "TableView", "table_view", "key_value_view", "as_tables", "EFFECT_COLUMNS", "HEADERS",
           "badge_class", "LIGHT_SYMBOLS"]

#: Columns holding effects on the analysis scale (back-transformed for ratio measures).
EFFECT_COLUMNS = ("effect", "estimate", "ci_low", "ci_high", "pi_low", "pi_high")

#: Display names of glossary columns (convention 1); others: underscores become spaces.
#: Badge vocabularies (domains, judgements, ratings) come from :mod:`netstrata.certainty.judgement`.
HEADERS = {
    "effect": "Estimate", "estimate": "Estimate", "ci_low": "CI lower", "ci_high": "CI upper",
    "pi_low": "PI lower", "pi_high": "PI upper", "se": "SE", "pvalue": "p", "q_pvalue": "p (Q)",
    "tau2": "\u03c4\u00b2", "tau": "\u03c4", "i2": "I\u00b2 (%)", "h2": "H\u00b2", "q": "Q", "k": "Studies",
    "n": "N", "study": "Study", "treatment": "Treatment", "treat1": "Treatment 1",
    "treat2": "Treatment 2", "treatment1": "Treatment 1", "treatment2": "Treatment 2",
    "comparison": "Comparison", "within_study_bias": "Within-study bias", "reporting_bias": "Reporting bias",
    "indirectness": "Indirectness", "imprecision": "Imprecision", "heterogeneity": "Heterogeneity",
    "incoherence": "Incoherence", "rating": "Certainty", "certainty": "Certainty", "rob": "Risk of bias",
    "reason_code": "Reason code", "p_score": "P-score", "pscore": "P-score", "sucra": "SUCRA",
}

_CONCERN_COLUMNS = DOMAINS + ("judgement",)
_RATING_COLUMNS = ("rating", "certainty", "rating_algorithm", "overall", "confidence")
_ROB_COLUMNS = ("rob", "risk_of_bias", "rob_overall", "overall_rob")
_BADGES = {
    "concern": dict(zip((NO, SOME, MAJOR, NOT_ASSESSABLE, NOT_APPLICABLE), ("b-good", "b-some", "b-bad", "b-na", "b-na"))),
    "rating": dict(zip((r.lower() for r in RATINGS), ("b-high", "b-moderate", "b-low", "b-verylow"))),
    "rob": {"low": "b-good", "1": "b-good", "l": "b-good", "some concerns": "b-some", "some": "b-some",
            "unclear": "b-some", "moderate": "b-some", "2": "b-some", "u": "b-some", "high": "b-bad",
            "serious": "b-bad", "critical": "b-bad", "3": "b-bad", "h": "b-bad"},
    # traffic lights of the per-study risk-of-bias table (robvis style: symbol and colour; the word
    # stays in the cell for screen readers, text search and the narrow card layout)
    "light": {"low": "tl-low", "some concerns": "tl-some", "moderate": "tl-some", "unclear": "tl-some",
              "high": "tl-high", "serious": "tl-high", "critical": "tl-critical", "no information": "tl-na"},
}

#: Symbol of each traffic light (robvis: + low, − some concerns, × high, ! critical, ? no information).
LIGHT_SYMBOLS = {"tl-low": "+", "tl-some": "\u2212", "tl-high": "\u00d7", "tl-critical": "!", "tl-na": "?"}


# GRADE's usual symbols for the four certainty levels.
_GRADE_SYMBOLS = {r.lower(): "\u2295" * (4 - i) + "\u25cb" * i for i, r in enumerate(RATINGS)}


def badge_class(kind: str | None, value) -> str:
    """CSS class of a judgement badge ('' when the value is not a known judgement)."""
    if kind is None:
        return ""
    return _BADGES[kind].get(_judgement(value), "")


def _judgement(value) -> str:
    """The judgement word of a cell: "Very low (provisional: ...)" -> "very low"."""
    return str(value).split(" (", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class Table:
    """A table for the report, kept at full precision.

    Parameters
    ----------
    frame : DataFrame
    title : str
    notes : tuple of str
    digits : int or mapping column -> int, default=2
    measure : str, optional
        Effect columns (:data:`EFFECT_COLUMNS`) are back-transformed for ratio measures (e.g. log
        OR -> OR) and labelled with the measure.
    index : bool, default=False
        Show the frame's index as the first column.
    combine_ci : bool, default=True
        Show ``effect``/``estimate`` with ``ci_low``/``ci_high`` as one column "estimate (low to
        high)", and ``pi_low``/``pi_high`` as one "prediction interval" column.
    level : float, default=0.95
        Confidence level named in the combined column's header.
    badges : mapping column -> {"concern", "rating", "rob", "light"}, optional
        Colour-coded judgement columns; default: detected from the column names.
    """

    frame: pd.DataFrame
    title: str = ""
    notes: tuple[str, ...] = ()
    digits: int | Mapping[str, int] = 2
    measure: str | None = None
    index: bool = False
    badges: Mapping[str, str] | None = field(default=None)
    combine_ci: bool = True
    level: float = 0.95
    #: CSS class of the table's block (e.g. "prominent") and call-out paragraphs shown above it
    css: str = ""
    lead: tuple[str, ...] = ()

    @classmethod
    def of(cls, obj, **kwargs) -> "Table":
        """From a DataFrame, a :class:`netstrata._summary.Summary`, or any result with
        ``summary()`` (preferred: its frame is meant for display) or ``to_frame()``. Title and
        notes are taken over when present; so is the measure (``obj.measure`` or
        ``obj.zone.measure``) unless given."""
        if isinstance(obj, Table):
            return obj
        if isinstance(obj, pd.DataFrame):
            return cls(obj, **kwargs)
        if hasattr(obj, "frame") and hasattr(obj, "title") and hasattr(obj, "notes"):
            kw = {"title": obj.title, "notes": tuple(obj.notes), "index": True} | kwargs
            return cls(obj.frame, **kw)
        measure = getattr(obj, "measure", None) or getattr(getattr(obj, "zone", None), "measure", None)
        if isinstance(measure, str) and "measure" not in kwargs:
            kwargs = kwargs | {"measure": measure}
        if callable(getattr(obj, "summary", None)):
            return cls.of(obj.summary(), **kwargs)
        if callable(getattr(obj, "to_frame", None)):
            return cls(obj.to_frame(), **kwargs)
        raise ParameterError(f"Table.of: cannot make a table from {type(obj).__name__}; give a DataFrame, a "
                             "Summary or a result with summary() / to_frame().")


class Cell(NamedTuple):
    text: str
    css: str = ""


class TableView(NamedTuple):
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...]
    css: str = ""
    lead: tuple[str, ...] = ()


def as_tables(value) -> tuple[Table, ...]:
    """None -> (); one table-like -> (Table,); a sequence -> tuple of Tables."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(Table.of(v) for v in value)
    return (Table.of(value),)


def _badge_kinds(table: Table, columns) -> dict[str, str]:
    if table.badges is not None:
        return dict(table.badges)
    kinds = {}
    for c in columns:
        key = str(c).lower()
        kinds[c] = ("concern" if key in _CONCERN_COLUMNS else "rating" if key in _RATING_COLUMNS
                    else "rob" if key in _ROB_COLUMNS else None)
    return {c: k for c, k in kinds.items() if k}


def _digits(frame: pd.DataFrame, digits) -> dict:
    """Decimals per column: 0 for float columns holding only whole numbers (counts stored as
    floats because of missing values), else the table's setting."""
    out = {}
    for c in frame.columns:
        d = digits.get(c, 2) if isinstance(digits, Mapping) else digits
        col = frame[c]
        if pd.api.types.is_float_dtype(col) and not (isinstance(digits, Mapping) and c in digits):
            values = col.to_numpy(float)
            finite = values[np.isfinite(values)]
            if len(finite) and np.all(finite == np.round(finite)) and c not in EFFECT_COLUMNS:
                d = 0
        out[c] = d
    return out


def _combine(cols: list, values: list, texts: list, numeric: list) -> tuple[list, list, list, list]:
    """Merge estimate + CI columns (and PI bounds) into single display columns: the column names,
    values, display texts and numeric flags (one list per column) without the merged-away bounds."""
    est = next((c for c in ("effect", "estimate") if c in cols), None)
    at = {c: j for j, c in enumerate(cols)}
    merged: dict = {}           # display column -> (its new name, its merged text)
    dropped: set = set()
    if est is not None and {"ci_low", "ci_high"} <= at.keys():
        merged[est] = (_WITH_CI, [e if lo == MISSING and hi == MISSING else f"{e} ({lo} to {hi})"
                                  for e, lo, hi in zip(texts[at[est]], texts[at["ci_low"]], texts[at["ci_high"]])])
        dropped |= {"ci_low", "ci_high"}
    if {"pi_low", "pi_high"} <= at.keys():
        merged["pi_low"] = (_PI, [MISSING if lo == MISSING and hi == MISSING else f"{lo} to {hi}"
                                  for lo, hi in zip(texts[at["pi_low"]], texts[at["pi_high"]])])
        dropped.add("pi_high")
    keep = [j for j, c in enumerate(cols) if c not in dropped]
    return ([merged[cols[j]][0] if cols[j] in merged else cols[j] for j in keep], [values[j] for j in keep],
            [merged[cols[j]][1] if cols[j] in merged else texts[j] for j in keep], [numeric[j] for j in keep])


_WITH_CI, _PI = "_estimate_with_ci", "_prediction_interval"


def _header(col, scale, level: float) -> str:
    if col == _WITH_CI:
        return f"{scale.label if scale.code else 'Estimate'} ({100 * level:g}% CI)"
    if col == _PI:
        return "Prediction interval"
    if col in ("effect", "estimate") and scale.code:
        return scale.label
    return HEADERS.get(str(col), str(col).replace("_", " ").capitalize() if str(col).islower() else str(col))


def table_view(table: Table) -> TableView:
    """Display text and CSS classes of every cell of ``table``."""
    frame = table.frame
    trivial = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    if table.index and not trivial:
        name = frame.index.name if frame.index.name is not None else ""
        frame = frame.rename_axis(index=name).reset_index() if name not in frame.columns else frame.reset_index(drop=True)
    scale = measure_scale(table.measure)
    shown = frame.copy()
    ratios = []
    if scale.is_ratio:
        for c in EFFECT_COLUMNS:
            if c in shown.columns and pd.api.types.is_numeric_dtype(shown[c]):
                shown[c] = scale.natural(shown[c].to_numpy(float))
                ratios.append(c)
    text = format_frame(shown, _digits(shown, table.digits), ratio_columns=ratios)
    cols = list(frame.columns)
    values = [frame[c].tolist() for c in cols]          # column lists: no per-cell pandas indexing
    texts = [text[c].tolist() for c in cols]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in cols]
    if table.combine_ci:
        cols, values, texts, numeric = _combine(cols, values, texts, numeric)
    kinds = _badge_kinds(table, cols)
    rows = []
    for i in range(len(frame)):
        row = []
        for j, c in enumerate(cols):
            value, kind = values[j][i], kinds.get(c)
            css = badge_class(kind, value) if kind else ""
            label = texts[j][i]
            if kind == "rating" and css:
                label = f"{_GRADE_SYMBOLS[_judgement(value)]} {label}"
            row.append(Cell(label, css or ("num" if numeric[j] else "")))
        rows.append(tuple(row))
    header = tuple(_header(c, scale, table.level) for c in cols)
    return TableView(table.title, header, tuple(rows), tuple(str(n) for n in table.notes), table.css,
                     tuple(str(x) for x in table.lead))


def key_value_view(mapping: Mapping, title: str = "") -> TableView:
    """A two-column table from a mapping (plan settings, software versions)."""
    rows = tuple((Cell(str(k)), Cell(fmt_num(v) if isinstance(v, (float, np.floating)) else
                                     (MISSING if v is None else str(v)))) for k, v in mapping.items())
    return TableView(title, ("Setting", "Value"), rows, ())

