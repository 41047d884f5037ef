"""PRISMA-NMA checklist (Hutton et al. 2015) with pointers to the report sections that address each item.

The 27 PRISMA items (some reworded for networks) plus the five network items S1-S5 make the
32-item checklist. Item names live in ``data/prisma_nma.csv``; ``name_status`` is ``V``
when the name was checked against a copy of the checklist and ``U`` when it is from memory
(unverified; the full paper was not readable when this was written).

References
----------
Hutton B, Salanti G, Caldwell DM, et al. The PRISMA extension statement for reporting of
systematic reviews incorporating network meta-analyses of health care interventions: checklist
and explanations. Ann Intern Med 2015;162:777-84. doi:10.7326/M14-2385
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Collection, Mapping

import pandas as pd

__all__ = ["PrismaItem", "PRISMA_NMA_DOI", "checklist", "checklist_items"]

PRISMA_NMA_DOI = "10.7326/M14-2385"


@dataclass(frozen=True, slots=True)
class PrismaItem:
    """One checklist item and where this report addresses it (``sections``: anchor ids present)."""

    item: str
    part: str
    topic: str
    verified_name: bool
    asks: str
    sections: tuple[str, ...]
    note: str = ""

    @property
    def addressed(self) -> bool:
        return bool(self.sections or self.note)


@lru_cache(maxsize=1)
def checklist() -> pd.DataFrame:
    """The checklist data file as a frame (item, part, topic, name_status, sections, asks)."""
    with resources.files(__package__).joinpath("data/prisma_nma.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return frame


def checklist_items(present: Collection[str], notes: Mapping[str, str] | None = None) -> tuple[PrismaItem, ...]:
    """The checklist with pointers to the report sections in ``present`` (anchor ids).

    ``notes`` maps an item code ("5", "S1", ...) to text saying where else it is reported (e.g.
    "Protocol: PROSPERO CRD42..."); it is shown beside the pointers.
    """
    notes = {str(k): str(v) for k, v in (notes or {}).items()}
    out = []
    for row in checklist().itertuples(index=False):
        wanted = tuple(s for s in row.sections.split() if s)
        out.append(PrismaItem(item=row.item, part=row.part, topic=row.topic, verified_name=row.name_status == "V",
                              asks=row.asks, sections=tuple(s for s in wanted if s in present),
                              note=notes.get(row.item, "")))
    return tuple(out)
