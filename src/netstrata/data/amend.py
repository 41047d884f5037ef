"""Amendments: cell values and row decisions made after extraction (e.g. by adjudication).

An :class:`Amendment` changes one cell of a table (``column`` + ``value``) or decides a whole row
(``column="*"``, value ``"drop"`` or ``"keep"``). Amendments are applied to the raw cells *before*
validation, so an amended value passes every check a typed value does. Rows are matched on the
table's key columns (whitespace collapsed, case folded, numbers compared as numbers); a row
decision whose key leaves the trailing columns empty applies to every matching row (e.g. all rows
of a study). A dropped record stays in its table, unselected, with an exclusion-register row
(``adjudicated_drop``) naming the decision. The latest amendment of a cell wins.

The data layer knows nothing of where amendments come from: ``netstrata.synthesis`` turns the
plan's adjudication log into amendments.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from .readers import RawTable

__all__ = ["Amendment", "AmendmentOutcome", "apply_amendments", "norm_cell", "AMENDABLE"]

#: table -> key columns (a decision on 'arms' or 'studies' drops the matching outcome/contrast rows)
AMENDABLE: dict[str, tuple[str, ...]] = {
    "outcomes": ("study", "arm", "outcome", "timepoint_weeks"),
    "arms": ("study", "arm"),
    "studies": ("study",),
}
_WS = re.compile(r"\s+")


def norm_cell(value) -> str:
    """A key cell as matched: whitespace collapsed, case folded; numbers canonical (12 = 12.0)."""
    text = _WS.sub(" ", str(value if value is not None else "").strip())
    try:
        number = float(text)
    except ValueError:
        return text.casefold()
    return repr(number) if math.isfinite(number) else text.casefold()


@dataclass(frozen=True, slots=True)
class Amendment:
    """One decision: ``key`` is ((column, value), ...) in the table's key order."""

    table: str
    key: tuple[tuple[str, str], ...]
    column: str
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class AmendmentOutcome:
    """What became of an amendment: applied to ``rows`` rows, or not, and why."""

    amendment: Amendment
    applied: bool
    rows: int
    detail: str = ""


def _matches(raw: RawTable, key: tuple[tuple[str, str], ...]) -> list[int]:
    cols = {c: raw.header.index(c) for c, _ in key if c in raw.header}
    wanted = [(cols[c], norm_cell(v)) for c, v in key if v != "" and c in cols]
    return [i for i, row in enumerate(raw.rows) if all(norm_cell(row[j]) == v for j, v in wanted)]


def _check(a: Amendment, raws: dict[str, RawTable]) -> str | None:
    if a.table not in AMENDABLE:
        return f"table {a.table!r} cannot be amended (one of {', '.join(AMENDABLE)})"
    if a.table not in raws:
        return f"the project has no {a.table} table"
    keys = AMENDABLE[a.table]
    given = [c for c, v in a.key if v != ""]
    if "study" not in given:
        return "the decision names no study"
    if a.column != "*" and len(given) < len(keys):
        return f"a cell decision needs the whole key ({', '.join(keys)})"
    if a.column == "*" and a.value not in ("drop", "keep"):
        return f"a row decision must be 'drop' or 'keep', not {a.value!r}"
    if a.column != "*" and (a.column in keys or a.column not in raws[a.table].header):
        return f"column {a.column!r} is not an amendable column of {a.table}"
    return None


def apply_amendments(raws: dict[str, RawTable], amendments
                     ) -> tuple[dict[str, RawTable], dict[tuple[str, int], str], tuple[AmendmentOutcome, ...]]:
    """Apply ``amendments`` (oldest first) to raw tables.

    Returns
    -------
    (raws, dropped, outcomes)
        The amended tables; ``{(table, row number): source}`` of outcome/contrast rows to leave
        out; and one :class:`AmendmentOutcome` per amendment.
    """
    tables = {name: [list(r) for r in raw.rows] for name, raw in raws.items()}
    latest: dict = {}
    for i, a in enumerate(amendments):
        norm = tuple((c, norm_cell(v)) for c, v in a.key)
        latest[(a.table, norm, a.column)] = i
    outcomes, drops = [], []
    for i, a in enumerate(amendments):
        problem = _check(a, raws)
        if problem is None and latest[(a.table, tuple((c, norm_cell(v)) for c, v in a.key), a.column)] != i:
            problem = "superseded by a later decision for the same cell"
        hits = _matches(raws[a.table], a.key) if problem is None else []
        if problem is None and not hits:
            problem = "matches no row of the table"
        if problem is not None:
            outcomes.append(AmendmentOutcome(a, False, 0, problem))
            continue
        if a.column == "*":
            if a.value == "drop":
                drops.append(a)
        else:
            j = raws[a.table].header.index(a.column)
            for h in hits:
                tables[a.table][h][j] = a.value
        outcomes.append(AmendmentOutcome(a, True, len(hits)))
    out = {n: replace(raw, rows=tuple(tuple(r) for r in tables[n])) for n, raw in raws.items()}
    return out, _dropped(out, drops), tuple(outcomes)


def _dropped(raws: dict[str, RawTable], drops: list[Amendment]) -> dict[tuple[str, int], str]:
    """Rows of the record tables (outcomes, contrasts) that row decisions leave out: an outcome row
    decision drops its rows; an arm decision the arm's outcome rows and the contrasts naming the
    arm; a study decision every outcome and contrast row of the study."""
    dropped: dict[tuple[str, int], str] = {}
    for a in drops:
        key = dict(a.key)
        keys = [("outcomes", a.key)] if a.table == "outcomes" else [("outcomes", tuple(
            (c, v) for c, v in a.key if c in ("study", "arm")))]
        if a.table == "studies":
            keys.append(("contrasts", (("study", key.get("study", "")),)))
        elif a.table == "arms":
            keys += [("contrasts", (("study", key.get("study", "")), (side, key.get("arm", ""))))
                     for side in ("arm1", "arm2")]
        for table, k in keys:
            raw = raws.get(table)
            if raw is not None:
                for h in _matches(raw, k):
                    dropped.setdefault((table, raw.row_numbers[h]), a.source)
    return dropped
