"""The frozen :class:`Review`: validated tables, plan, pack, fingerprint and exclusion register."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import pandas as pd

from .._summary import Summary
from .._validate import check_option
from .plan import Plan
from .register import ExclusionRegister

if TYPE_CHECKING:
    from ..taxonomy.pack import Pack

__all__ = ["Review", "fingerprint", "PROVENANCE_COLUMNS"]

PROVENANCE_COLUMNS = ("source", "location", "quote", "extractor")
DERIVED_COLUMNS = ("selected",)


def _canonical_cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return repr(float(v))
    return str(v)


def fingerprint(tables: Mapping[str, pd.DataFrame], plan: Plan, pack_fingerprint: str) -> str:
    """sha256 of a canonical serialisation of the input: independent of row and column order.

    Each table contributes its name, sorted column names and its rows (as text, sorted); derived
    columns (``selected``) and spreadsheet row numbers are left out. The plan's canonical text and
    the pack's file digest complete it.
    """
    canonical: dict[str, dict[str, list]] = {}
    for name in sorted(tables):
        frame = tables[name]
        cols = sorted(c for c in frame.columns if c not in DERIVED_COLUMNS)
        rows = sorted(tuple(_canonical_cell(v) for v in r) for r in frame[cols].itertuples(index=False))
        canonical[name] = {"columns": cols, "rows": rows}
    payload = {"plan": plan.canonical(), "pack": pack_fingerprint, "tables": canonical}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, eq=False)
class Review:
    """A validated review project (frozen; its DataFrames are read-only by convention).

    Attributes
    ----------
    name : str
        Project name from the plan.
    path : str
        Folder or workbook it was loaded from.
    plan : Plan
        The validated analysis plan.
    pack : netstrata.taxonomy.Pack
        The domain pack whose vocabularies validated the clinical columns.
    tables : Mapping[str, DataFrame]
        Validated tables by name (``studies``, ``arms``, ``outcomes``, ``exclusions`` and any
        optional table present: ``contrasts``, ``extraction-b``, ``studies-b``, ...). Index =
        spreadsheet row number; ``outcomes``/``contrasts`` carry a boolean ``selected`` column
        (the row enters the analysis of its outcome).
    register : ExclusionRegister
        Every study, arm or outcome row that does not enter an analysis, with a reason.
    known_trials : DataFrame
        The plan's known trials with status included / excluded (reasons) / not found.
    fingerprint : str
        sha256 of the canonical input (tables, plan, pack), after any amendments.
    amendments : tuple of AmendmentOutcome
        Decisions applied to the raw cells before validation (e.g. from the adjudication log),
        each with whether it was applied.
    """

    name: str
    path: str
    plan: Plan
    pack: Pack
    tables: Mapping[str, pd.DataFrame]
    register: ExclusionRegister
    known_trials: pd.DataFrame
    fingerprint: str
    amendments: tuple = ()
    # NodeMaps (frozen) by level name, built on first use: a pure function of this instance's arms,
    # studies and pack. Not an init field, so dataclasses.replace() starts a new, empty cache.
    _node_maps: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def studies(self) -> pd.DataFrame:
        return self.tables["studies"]

    @property
    def arms(self) -> pd.DataFrame:
        return self.tables["arms"]

    @property
    def outcomes(self) -> pd.DataFrame:
        return self.tables["outcomes"]

    @property
    def exclusions(self) -> pd.DataFrame:
        return self.tables["exclusions"]

    def table(self, name: str) -> pd.DataFrame | None:
        """An optional table by name (e.g. ``"contrasts"``, ``"extraction-b"``), or None."""
        return self.tables.get(name)

    def analysis_rows(self, outcome: str, *, level: str = "arm") -> pd.DataFrame:
        """Rows entering the analysis of ``outcome``: arm-level (``level="arm"``) or ``"contrast"``."""
        check_option(outcome, name="outcome", allowed=self.plan.outcome_ids, caller="Review.analysis_rows",
                     ignore_case=False)
        level = check_option(level, name="level", allowed=("arm", "contrast"), caller="Review.analysis_rows")
        frame = self.outcomes if level == "arm" else self.tables.get("contrasts")
        if frame is None:
            return self.outcomes.iloc[0:0]
        return frame[(frame["outcome"] == outcome) & frame["selected"]]

    def provenance(self, study: str, outcome: str | None = None) -> pd.DataFrame:
        """Source, location, quote and extractor of every outcome value of ``study``."""
        o = self.outcomes
        mask = o["study"] == study
        if outcome is not None:
            mask &= o["outcome"] == outcome
        cols = ["study", "arm", "outcome", "timepoint_weeks", *PROVENANCE_COLUMNS]
        return o.loc[mask, [c for c in cols if c in o]]

    def node_map(self, level: str | None = None):
        """Treatment nodes at a lumping level of the pack (default: the plan's, else the pack's)."""
        from ..taxonomy.nodemap import build_node_map
        level = level or self.plan.node_level
        if level is not None and not isinstance(level, str):   # a NodeLevel / NodeCustomMap: not cached
            return build_node_map(self.arms, self.studies, self.pack, level)
        cached = self._node_maps.get(level)
        if cached is None:
            cached = self._node_maps[level] = build_node_map(self.arms, self.studies, self.pack, level)
        return cached

    def designs(self) -> pd.Series:
        return self.studies["design"].value_counts().sort_index()

    def summary(self) -> Summary:
        """One row per study: design, arms, participants, outcome rows used / registered."""
        o, reg = self.outcomes, self.register.to_frame()
        rows = []
        for s, design in zip(self.studies["study"], self.studies["design"]):
            arms = self.arms[self.arms["study"] == s]
            rows.append({"study": s, "design": design, "arms": len(arms),
                         "n": float(arms["n"].sum(min_count=1)),
                         "outcome_rows": int((o["study"] == s).sum()),
                         "selected_rows": int(((o["study"] == s) & o["selected"]).sum()),
                         "register_rows": int((reg["study"] == s).sum())})
        frame = pd.DataFrame(rows).set_index("study") if rows else pd.DataFrame()
        notes = (f"fingerprint {self.fingerprint[:16]}", f"pack {self.pack.name} {self.pack.version}",
                 f"{len(self.register)} exclusion-register rows")
        return Summary(title=f"Review '{self.name}'", frame=frame, notes=notes)

    def __repr__(self) -> str:
        return (f"Review(name={self.name!r}, studies={len(self.studies)}, arms={len(self.arms)}, "
                f"outcome_rows={len(self.outcomes)}, register={len(self.register)}, "
                f"fingerprint='{self.fingerprint[:12]}')")
