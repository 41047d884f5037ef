"""Declarative table contract: one ``TableSpec`` per review table, one ``ColumnSpec`` per column.

The core (domain-neutral) columns are declared here; the clinical columns and their vocabularies
come from the domain pack (``pack.toml`` ``[columns.TABLE]``) and are merged in by
:func:`table_spec`. Extra tables (risk of bias, fidelity items, ...) plug in with
:func:`register_table`; the loader reads every registered table whose file or sheet exists.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict

__all__ = ["ColumnSpec", "TableSpec", "Design", "DESIGNS", "TABLES", "register_table", "table_spec",
           "NR", "UNCLEAR", "FIDELITY", "ITEM_STATUSES", "ROB", "DATA_COLLECTION"]

NR = "NR"            # not reported (distinct from an empty cell = missing)
UNCLEAR = "unclear"  # reported but ambiguous


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: its type, whether it must be present / filled, its vocabulary or range.

    kind : {"id", "text", "int", "float", "choice", "vocab", "reason"}
        ``choice`` takes ``choices``; ``vocab`` a vocabulary of the pack; ``reason`` an
        exclusion reason code (core list + the pack's).
    """

    name: str
    kind: str = "text"
    required: bool = True
    nonempty: bool = False
    choices: tuple[str, ...] = ()
    vocabulary: str | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    allow_nr: bool = False
    multi: bool = False
    description: str = ""
    hint: str = ""          # shown with every problem in this column (the common mistake it prevents)

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float")

    def expected(self) -> str:
        """Human description of an acceptable cell, for error messages."""
        if self.kind in ("int", "float"):
            word = "a whole number" if self.kind == "int" else "a number"
            lo = "" if self.min is None else (f" > {self.min:g}" if self.min_exclusive else f" >= {self.min:g}")
            hi = "" if self.max is None else f" <= {self.max:g}"
            rng = f"{lo}{' and' if lo and hi else ''}{hi}"
            return word + rng + (" or 'NR'" if self.allow_nr else "")
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return "a value" if self.nonempty else "text"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table: columns, unique key, references to other tables, row rules.

    ``refs`` holds (columns, table, columns of that table) foreign keys; ``row_rules`` holds
    (left, op, right) comparisons between numeric columns of one row, e.g. ("events", "<=", "n").
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    refs: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = ()
    row_rules: tuple[tuple[str, str, str], ...] = ()
    required: bool = False
    pack_table: str | None = None
    description: str = ""

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


@dataclass(frozen=True, slots=True)
class Design:
    """A study design: its code, label and whether it compares arms."""

    code: str
    label: str
    comparative: bool
    min_arms: int


DESIGNS: dict[str, Design] = {d.code: d for d in (
    Design("RCT", "Randomised controlled trial", True, 2),
    Design("NRS_comparative", "Non-randomised comparative study", True, 2),
    Design("single_arm", "Single-arm study (case series, cohort)", False, 1),
)}

#: how a study collected its data (the multisociety letter asks for "well-designed prospective
#: studies where RCTs are lacking"); empty for an RCT = prospective by design
DATA_COLLECTION = ("prospective", "retrospective", NR, UNCLEAR)
_DESIGN_HINT = ("a cohort with a comparison group is 'NRS_comparative', a single cohort or case series is "
                "'single_arm'; prospective or retrospective goes in the column 'data_collection'")


class _Options(TypedDict, total=False):
    """Keyword options shared by several ``ColumnSpec`` declarations (typed for ``**`` unpacking)."""

    kind: str
    required: bool
    nonempty: bool
    min: float
    min_exclusive: bool
    allow_nr: bool


_ID: _Options = {"kind": "id", "nonempty": True}
_PROV = (
    ColumnSpec("source", nonempty=True, description="citation of the source of the number"),
    ColumnSpec("location", nonempty=True, description="page / table / section in the source"),
    ColumnSpec("quote", description="short quote supporting the value"),
    ColumnSpec("extractor", nonempty=True, description="who extracted the value"),
)
_COUNT: _Options = {"kind": "int", "required": True, "min": 0, "allow_nr": True}
_SIZE: _Options = {"kind": "int", "required": True, "min": 0, "min_exclusive": True, "allow_nr": True}
_TIME = ColumnSpec("timepoint_weeks", kind="float", min=0, allow_nr=True,
                   description="weeks after the intervention; months x 52/12")

STUDIES = TableSpec(
    "studies", required=True, key=("study",), pack_table="studies",
    description="one row per study",
    columns=(
        ColumnSpec("study", **_ID, description="unique study id, e.g. 'Lord 1996'"),
        ColumnSpec("citation"),
        ColumnSpec("year", kind="int", min=1900, max=2100, allow_nr=True),
        ColumnSpec("design", kind="choice", nonempty=True, choices=tuple(DESIGNS), hint=_DESIGN_HINT,
                   description="RCT, NRS_comparative (non-randomised, two or more groups) or single_arm"),
        ColumnSpec("data_collection", kind="choice", required=False, choices=DATA_COLLECTION,
                   description="prospective or retrospective (NR, unclear); empty for an RCT = prospective",
                   hint="an RCT is prospective; a cohort assembled from existing records is 'retrospective'"),
        ColumnSpec("notes", required=False),
    ))

ARMS = TableSpec(
    "arms", required=True, key=("study", "arm"), pack_table="arms",
    refs=((("study",), "studies", ("study",)),),
    description="one row per arm (randomised group or cohort)",
    columns=(
        ColumnSpec("study", **_ID),
        ColumnSpec("arm", **_ID, description="arm id, unique within the study"),
        ColumnSpec("n", **_SIZE, description="randomised / enrolled"),
        ColumnSpec("label"),
    ))

OUTCOMES = TableSpec(
    "outcomes", required=True, key=("study", "arm", "outcome", "timepoint_weeks"),
    refs=((("study", "arm"), "arms", ("study", "arm")),),
    row_rules=(("events", "<=", "n"),),
    description="one row per arm x outcome x time point",
    columns=(
        ColumnSpec("study", **_ID), ColumnSpec("arm", **_ID),
        ColumnSpec("outcome", **_ID, description="outcome id declared in netstrata.toml"),
        _TIME,
        ColumnSpec("events", **_COUNT), ColumnSpec("n", **_SIZE),
        ColumnSpec("mean", kind="float", allow_nr=True),
        ColumnSpec("sd", kind="float", min=0, min_exclusive=True, allow_nr=True),
        *_PROV,
        ColumnSpec("definition", required=False, description="outcome definition used by the study"),
        ColumnSpec("note", required=False),
    ))

CONTRASTS = TableSpec(
    "contrasts", key=("study", "outcome", "timepoint_weeks", "arm1", "arm2"),
    refs=((("study", "arm1"), "arms", ("study", "arm")), (("study", "arm2"), "arms", ("study", "arm"))),
    row_rules=(("ci_low", "<=", "effect"), ("effect", "<=", "ci_high")),
    description="contrast-level results (arm1 vs arm2) when arm-level data are not reported",
    columns=(
        ColumnSpec("study", **_ID), ColumnSpec("outcome", **_ID), _TIME,
        ColumnSpec("arm1", **_ID), ColumnSpec("arm2", **_ID),
        ColumnSpec("measure", kind="id", nonempty=True),
        ColumnSpec("effect", kind="float", nonempty=True),
        ColumnSpec("ci_low", kind="float", allow_nr=True), ColumnSpec("ci_high", kind="float", allow_nr=True),
        ColumnSpec("se", kind="float", required=False, min=0, min_exclusive=True, allow_nr=True),
        *_PROV, ColumnSpec("note", required=False),
    ))

EXCLUSIONS = TableSpec(
    "exclusions", key=("study", "reason_code"),
    description="candidate studies excluded before analysis, one row per reason",
    columns=(
        ColumnSpec("study", **_ID),
        ColumnSpec("reason_code", kind="reason", nonempty=True),
        ColumnSpec("message", nonempty=True),
        ColumnSpec("citation", required=False),
        ColumnSpec("source", required=False),
    ))

# Technical-fidelity items (issue 6): one row per arm x checklist item of the pack's fidelity.toml.
ITEM_STATUSES = ("reported", "not_reported", "unclear")
FIDELITY = TableSpec(
    "fidelity", key=("study", "arm", "item"),
    refs=((("study", "arm"), "arms", ("study", "arm")),),
    description="technical-fidelity items, one row per arm x checklist item (pack fidelity.toml)",
    columns=(
        ColumnSpec("study", **_ID), ColumnSpec("arm", **_ID),
        ColumnSpec("item", **_ID, description="item field of the arm's checklist"),
        ColumnSpec("value", description="code, codes joined by '|', or number; empty unless reported"),
        ColumnSpec("status", kind="choice", nonempty=True, choices=ITEM_STATUSES),
        ColumnSpec("quote", description="short quote supporting the value"),
        ColumnSpec("location", description="page / table / section in the source"),
        ColumnSpec("extractor", nonempty=True, description="who extracted the value"),
    ))

# Risk of bias (RoB 2 / ROBINS-I / JBI case series / a CINeMA level), long (one row per answered
# item) or wide (one row per study x result with D1 ... / overall columns); the tools, items and
# judgement words are checked by netstrata.appraisal.appraise_table (format: appraisal/rob_table.py).
ROB = TableSpec(
    "rob", key=("study", "result", "tool", "item"),
    refs=((("study",), "studies", ("study",)),),
    description="risk-of-bias assessments: per study (and result) an overall judgement, domain judgements "
                "or signalling answers (RoB 2, ROBINS-I, CINeMA levels, JBI)",
    columns=(
        ColumnSpec("study", **_ID),
        ColumnSpec("result", required=False, description="the assessed result (outcome id); empty = every result"),
        ColumnSpec("tool", required=False, description="RoB 2, ROBINS-I, JBI case series, or empty for a CINeMA "
                                                        "level (low / some concerns / high)"),
        ColumnSpec("item", required=False, description="long layout: signalling question (1.1, ...), domain (D1, ...), "
                                                        "overall, ..."),
        ColumnSpec("answer", required=False, description="long layout: answer (Y/PY/PN/N/NI) or judgement"),
        ColumnSpec("overall", required=False, description="wide layout: the overall judgement"),
        ColumnSpec("reason", required=False, description="why (required for overrides)"),
        ColumnSpec("source", required=False, description="where the judgement comes from (a review's RoB table, "
                                                          "the team's own assessment, ...)"),
    ))

# A panel's CINeMA-style overrides (issue 12): any domain of any comparison, or the rating itself,
# set with a recorded reason; netstrata.synthesis.certainty_inputs checks strata, comparisons,
# domains and words against the analysis.
CERTAINTY_OVERRIDES = TableSpec(
    "certainty-overrides", key=("stratum", "layer", "comparison", "domain"),
    description="panel overrides of certainty domains or ratings, each with its reason",
    columns=(
        ColumnSpec("stratum", nonempty=True, description="stratum name as in the report, e.g. 'lumbar / "
                                                          "facet_joint_pain / success' or 'all / success'"),
        ColumnSpec("layer", required=False, description="randomised (default), nonrandomised or comparative"),
        ColumnSpec("comparison", nonempty=True, description="'A:B' (or 'A vs B') with the nodes of the analysis"),
        ColumnSpec("domain", nonempty=True, description="a domain of the framework (e.g. imprecision) or 'rating'"),
        ColumnSpec("judgement", nonempty=True, description="no / some / major concerns, or a rating (High ... "
                                                            "Very low) for domain 'rating'"),
        ColumnSpec("reason", nonempty=True, description="why the panel sets it (shown in the report)"),
        ColumnSpec("decided_by", required=False, description="who decided"),
    ))

TABLES: dict[str, TableSpec] = {}


def register_table(spec: TableSpec) -> TableSpec:
    """Declare a table the loader should read when its file/sheet is present (e.g. ``rob``)."""
    TABLES[spec.name] = spec
    return spec


for _spec in (STUDIES, ARMS, OUTCOMES, EXCLUSIONS, CONTRASTS, FIDELITY, ROB, CERTAINTY_OVERRIDES):
    register_table(_spec)
# Second, independent extraction (double extraction): same contracts, own files.
register_table(replace(OUTCOMES, name="extraction-b", required=False, refs=(),
                       description="second independent extraction of outcomes.csv"))
register_table(replace(STUDIES, name="studies-b", required=False,
                       description="second independent extraction of study-level fields"))
register_table(replace(ARMS, name="arms-b", required=False, refs=(),
                       description="second independent extraction of arm-level fields"))


def table_spec(name: str | TableSpec, pack=None) -> TableSpec:
    """The full spec of a table (by name or spec): its core columns plus the pack's clinical columns."""
    spec = name if isinstance(name, TableSpec) else TABLES[name]
    if pack is None or spec.pack_table is None:
        return spec
    extra = tuple(
        ColumnSpec(b.column, kind="vocab", vocabulary=b.vocabulary, required=b.required, multi=b.multi)
        for b in pack.columns_of(spec.pack_table) if spec.column(b.column) is None)
    return replace(spec, columns=spec.columns + extra)

