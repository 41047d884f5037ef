"""The analysis plan (``netstrata.toml``) parsed and validated into a frozen :class:`Plan`.

Every problem (bad TOML, unknown key, wrong type, unknown option) is reported together in one
:class:`~netstrata.errors.DataError`; an unknown key names the closest known key.
Sections owned by later layers (``models``, ``sensitivity``, ``certainty``, ``appraisal``,
``report``) are kept as plain mappings in :attr:`Plan.sections` for those layers to validate.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import DataError, Problem, closest
from .timewindow import TimeWindow, parse_window

__all__ = ["Plan", "OutcomeSpec", "KnownTrial", "parse_plan", "load_plan", "MEASURES", "KINDS", "unknown_keys"]

KINDS = ("binary", "continuous")
# Effect measures a plan may name per outcome kind (metafor's codes; the effects layer computes them).
MEASURES = {"binary": ("RR", "OR", "RD", "PLO", "PR", "PAS", "PFT", "PLN"),
            "continuous": ("MD", "SMD", "ROM", "MN")}
SMALL_VALUES = ("desirable", "undesirable")
DEFERRED_SECTIONS = ("models", "sensitivity", "evidence", "certainty", "appraisal", "report", "panel")
_TOP = ("project", "outcomes", "nodes", "strata", "known_trials", *DEFERRED_SECTIONS)
_PROJECT = ("name", "pack", "description", "version", "authors")
_OUTCOME = ("label", "kind", "measure", "small_values", "mid", "time_window", "tolerance_weeks",
            "time_window_by_family", "description", "scale")
_NODES = ("level",)
_STRATA = ("variables",)
_KNOWN = ("study", "citation", "note")


@dataclass(frozen=True, slots=True)
class OutcomeSpec:
    """One outcome of the plan: kind, effect measure, MID, direction and time-window rule."""

    id: str
    label: str
    kind: str
    measure: str
    small_values: str = "desirable"
    mid: float | None = None
    time_window: TimeWindow | None = None
    time_window_by_family: Mapping[str, TimeWindow] = field(default_factory=dict)
    description: str = ""

    def window_for(self, families) -> TimeWindow | None:
        """The rule for a study whose active arms have ``families`` (first family-specific match)."""
        for fam in families:
            if fam in self.time_window_by_family:
                return self.time_window_by_family[fam]
        return self.time_window


@dataclass(frozen=True, slots=True)
class KnownTrial:
    """A trial the review must account for (included or excluded with a reason)."""

    study: str
    citation: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The validated analysis plan."""

    name: str
    pack: str
    outcomes: tuple[OutcomeSpec, ...]
    node_level: str | None = None
    strata: tuple[str, ...] = ()
    known_trials: tuple[KnownTrial, ...] = ()
    description: str = ""
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""

    def outcome(self, outcome_id: str) -> OutcomeSpec:
        for o in self.outcomes:
            if o.id == outcome_id:
                return o
        raise KeyError(outcome_id)

    @property
    def outcome_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.outcomes)

    def canonical(self) -> str:
        """Deterministic text of the plan, used in the review's fingerprint."""
        return repr((self.name, self.pack, self.outcomes, self.node_level, self.strata,
                     self.known_trials, sorted((k, repr(v)) for k, v in self.sections.items())))


def unknown_keys(table: Mapping, allowed, where: str, file: str = "netstrata.toml") -> list[Problem]:
    """One problem per key of ``table`` not in ``allowed`` (naming the closest allowed key); the
    plan's sections and every layer that reads a section report unknown keys alike."""
    out = []
    for k in (table or {}):
        if k not in allowed:
            best = closest(k, allowed)
            out.append(Problem("unknown key", file=file, column=f"{where}.{k}" if where else k, found=k,
                               expected="one of " + ", ".join(allowed),
                               hint=f"did you mean {best!r}?" if best else None))
    return out


class _Collector:
    """Collects problems for one plan file, with key paths as the 'column'."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, message, key, found=None, expected=None, hint=None):
        self.problems.append(Problem(message, file=self.file, column=key, found=found,
                                     expected=expected, hint=hint))

    def keys(self, table: Mapping, allowed, where: str):
        self.problems += unknown_keys(table, allowed, where, self.file)

    def table(self, value, where: str) -> Mapping:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add("expected a table", where, found=value, expected=f"[{where}]")
            return {}
        return value

    def text(self, table, key, where, required=False, default=""):
        value = table.get(key)
        if value is None:
            if required:
                self.add("required key is missing", f"{where}.{key}", expected="a text value")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.add("expected text", f"{where}.{key}", found=value)
            return default
        return value

    def choice(self, table, key, where, allowed, default=None):
        value = table.get(key, default)
        if value is None:
            self.add("required key is missing", f"{where}.{key}", expected="one of " + ", ".join(allowed))
            return default
        if value not in allowed:
            best = closest(str(value), allowed)
            self.add("value not allowed", f"{where}.{key}", found=value, expected="one of " + ", ".join(allowed),
                     hint=f"did you mean {best!r}?" if best else None)
            return default
        return value


def _outcome(c: _Collector, oid: str, raw) -> OutcomeSpec | None:
    where = f"outcomes.{oid}"
    t = c.table(raw, where)
    if not t:
        return None
    c.keys(t, _OUTCOME, where)
    kind = c.choice(t, "kind", where, KINDS)
    measure = c.choice(t, "measure", where, MEASURES.get(kind, sum(MEASURES.values(), ())))
    small = c.choice(t, "small_values", where, SMALL_VALUES, default="desirable")
    mid = t.get("mid")
    if mid is not None and (not isinstance(mid, (int, float)) or isinstance(mid, bool)
                            or not math.isfinite(mid) or mid <= 0):
        c.add("MID must be a positive number", f"{where}.mid", found=mid, expected="a number > 0")
        mid = None
    tol = t.get("tolerance_weeks", 0.0)
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not math.isfinite(tol) or tol < 0:
        c.add("tolerance must be a non-negative number of weeks", f"{where}.tolerance_weeks", found=tol)
        tol = 0.0
    window = _window(c, t.get("time_window"), tol, f"{where}.time_window")
    by_family = {}
    for fam, rule in c.table(t.get("time_window_by_family"), f"{where}.time_window_by_family").items():
        w = _window(c, rule, tol, f"{where}.time_window_by_family.{fam}")
        if w is not None:
            by_family[fam] = w
    return OutcomeSpec(id=oid, label=c.text(t, "label", where, default=oid) or oid, kind=kind or "",
                       measure=measure or "", small_values=small or "desirable",
                       mid=None if mid is None else float(mid), time_window=window,
                       time_window_by_family=MappingProxyType(by_family),
                       description=c.text(t, "description", where))


def _window(c: _Collector, value, tol, where) -> TimeWindow | None:
    if value is None:
        return None
    window, err = parse_window(value, tol)
    if err:
        c.add("time-window rule not understood", where, found=value, expected=err)
    return window


def _known(c: _Collector, raw) -> tuple[KnownTrial, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.add("expected a list", "known_trials", found=raw, expected="[[known_trials]] tables or a list of names")
        return ()
    out = []
    for i, item in enumerate(raw):
        where = f"known_trials[{i + 1}]"
        if isinstance(item, str) and item.strip():
            out.append(KnownTrial(item.strip()))
        elif isinstance(item, Mapping):
            c.keys(item, _KNOWN, where)
            out.append(KnownTrial(c.text(item, "study", where, required=True),
                                  c.text(item, "citation", where), c.text(item, "note", where)))
        else:
            c.add("expected a study name or a table", where, found=item)
    return tuple(out)


def parse_plan(data: Mapping, file: str = "netstrata.toml") -> Plan:
    """Validate a plan given as a mapping (parsed TOML). Raises DataError listing every problem."""
    c = _Collector(file)
    c.keys(data, _TOP, "")
    project = c.table(data.get("project"), "project")
    if "project" not in data:
        c.add("required section is missing", "project", expected="[project] with name and pack")
    c.keys(project, _PROJECT, "project")
    outcomes_raw = c.table(data.get("outcomes"), "outcomes")
    if not outcomes_raw:
        c.add("no outcomes declared", "outcomes", expected="at least one [outcomes.ID] table")
    outcomes = tuple(o for o in (_outcome(c, oid, raw) for oid, raw in outcomes_raw.items()) if o)
    nodes = c.table(data.get("nodes"), "nodes")
    c.keys(nodes, _NODES, "nodes")
    strata = c.table(data.get("strata"), "strata")
    c.keys(strata, _STRATA, "strata")
    level = nodes.get("level")
    if level is not None and not isinstance(level, str):
        c.add("expected the name of a node level", "nodes.level", found=level)
    variables = strata.get("variables", [])
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        c.add("expected a list of column names", "strata.variables", found=variables)
        variables = []
    sections = {k: MappingProxyType(dict(c.table(data.get(k), k))) for k in DEFERRED_SECTIONS if k in data}
    plan = Plan(name=c.text(project, "name", "project", required=True), pack=c.text(project, "pack", "project",
                required=True), outcomes=outcomes,
                node_level=nodes.get("level") if isinstance(nodes.get("level"), str) else None,
                strata=tuple(variables), known_trials=_known(c, data.get("known_trials")),
                description=c.text(project, "description", "project"),
                sections=MappingProxyType(sections), source=file)
    if c.problems:
        raise DataError(c.problems)
    return plan


def load_plan(path: str | Path, text: str | None = None) -> Plan:
    """Read and validate a plan file (or ``text`` given for it, e.g. from an xlsx 'plan' sheet)."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise DataError(Problem("the analysis plan is missing", file=path.name,
                                    expected=f"a file {path.name} with [project] and [outcomes.ID] tables",
                                    hint="see docs/data-format.md for a template")) from None
        except UnicodeDecodeError:
            raise DataError(Problem("the plan is not UTF-8 text", file=path.name)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise DataError(Problem(f"the plan is not valid TOML: {exc}", file=path.name,
                                row=int(m.group(1)) if m else None,
                                hint="check quotes around text values and '=' between key and value")) from None
    return parse_plan(data, file=path.name)
