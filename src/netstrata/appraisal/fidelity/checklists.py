"""Technical-fidelity checklists as pack data (``packs/<pack>/fidelity.toml``).

A checklist (C1..C7 in the spine pack) applies to arms of some procedure families (and regions);
each item says what meets the reference standard, the citation and status of that standard, and
whether it is critical by default. Nothing clinical is written in Python: another domain pack ships
its own ``fidelity.toml``.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ...errors import DataError, Problem, closest
from ...taxonomy.pack import load_pack

__all__ = ["Item", "Checklist", "Checklists", "load_checklists", "ITEM_KINDS", "STANDARD_STATUS",
           "FIDELITY_FILE"]

FIDELITY_FILE = "fidelity.toml"
#: Item kinds: one code, several codes joined by "|", a number, free text (never scored).
ITEM_KINDS = ("choice", "set", "number", "text")
#: Status of a reference standard, as the domain brief's legend: checked, unverified, secondary.
STANDARD_STATUS = {"V": "checked against a source", "U": "unverified", "S": "secondary source only"}
_STANDARD_KEYS = {"choice": ("in",), "set": ("requires",),
                  "number": ("min", "max", "min_exclusive", "max_exclusive"), "text": ()}


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist item: allowed values, the reference standard and its provenance."""

    field: str
    label: str
    kind: str
    allowed: tuple[str, ...] = ()
    unit: str = ""
    conforming: tuple[str, ...] = ()      # choice: values meeting the standard
    requires: tuple[str, ...] = ()        # set: codes that must all be present
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    families: tuple[str, ...] = ()        # empty = every family of the checklist
    reference: str = ""
    status: str = "U"
    critical: bool = False

    @property
    def scored(self) -> bool:
        """True when the item has a standard (it counts in the score and may be critical)."""
        return bool(self.conforming or self.requires) or self.min is not None or self.max is not None

    def standard_text(self) -> str:
        """The standard in words, e.g. ``'80 <= x <= 90 C'`` or ``"one of ['parallel']"``."""
        if self.kind == "number" and self.scored:
            lo = "" if self.min is None else f"{self.min:g} {'<' if self.min_exclusive else '<='} "
            hi = "" if self.max is None else f" {'<' if self.max_exclusive else '<='} {self.max:g}"
            return f"{lo}x{hi}" + (f" {self.unit}" if self.unit else "")
        if self.conforming:
            return f"one of {list(self.conforming)}"
        if self.requires:
            return f"includes {list(self.requires)}"
        return "recorded, not scored"


@dataclass(frozen=True, slots=True)
class Checklist:
    """A procedure's checklist: which arms it applies to and its items."""

    id: str
    label: str
    families: tuple[str, ...]
    regions: tuple[str, ...]
    reference: str
    items: tuple[Item, ...]

    def item(self, name: str) -> Item:
        for it in self.items:
            if it.field == name:
                return it
        raise KeyError(name)

    def items_for(self, family: str) -> tuple[Item, ...]:
        """Items that apply to an arm of ``family``."""
        return tuple(it for it in self.items if not it.families or family in it.families)

    @property
    def default_critical(self) -> tuple[str, ...]:
        return tuple(it.field for it in self.items if it.critical)

    def applies_to(self, family: str, region: str | None) -> bool:
        return family in self.families and (not self.regions or region in self.regions)


@dataclass(frozen=True, slots=True, eq=False)
class Checklists:
    """All checklists of a pack, by id, with the file they came from."""

    checklists: Mapping[str, Checklist]
    path: str
    version: str

    def __getitem__(self, cid: str) -> Checklist:
        return self.checklists[cid]

    def __iter__(self):
        return iter(self.checklists.values())

    def __len__(self) -> int:
        return len(self.checklists)

    def for_arm(self, family: str | None, region: str | None) -> tuple[tuple[str, Checklist], ...]:
        """(family, checklist) pairs for an arm; ``family`` may list components joined by '|'."""
        if not family:
            return ()
        out = []
        for fam in str(family).split("|"):
            fam = fam.strip()
            hit = next((c for c in self if c.applies_to(fam, region)), None)
            if hit is not None:
                out.append((fam, hit))
        return tuple(out)

    def __repr__(self) -> str:
        return f"Checklists({list(self.checklists)}, version={self.version!r})"


def load_checklists(pack="spine") -> Checklists:
    """Read the fidelity checklists of a domain pack (name, folder or loaded ``Pack``).

    Codes of families, regions and item vocabularies are checked against the pack's
    vocabularies. Raises :class:`DataError` listing every problem of the file.
    """
    pack_obj = load_pack(pack)
    return _load(pack_obj.path, pack_obj)


@lru_cache(maxsize=8)
def _load(folder: str, pack) -> Checklists:
    path = Path(folder) / FIDELITY_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(Problem("the pack has no fidelity checklists", file=str(path),
                                expected=f"{FIDELITY_FILE} in the pack folder")) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(Problem(f"not valid TOML ({exc})", file=FIDELITY_FILE)) from None
    problems: list[Problem] = []
    out = {}
    for i, c in enumerate(raw.get("checklists", [])):
        cl = _checklist(c, i, pack, problems)
        if cl.id in out:
            problems.append(Problem("duplicate checklist id", file=FIDELITY_FILE, column="checklists.id",
                                    found=cl.id))
        out[cl.id] = cl
    if problems:
        raise DataError(problems)
    return Checklists(MappingProxyType(out), str(path), str(raw.get("meta", {}).get("version", "")))


def _codes(pack, vocab: str, values, where: str, problems: list[Problem]) -> tuple[str, ...]:
    allowed = pack.vocabulary(vocab).allowed
    for v in values:
        if v not in allowed:
            best = closest(v, allowed)
            problems.append(Problem(f"code is not in the pack vocabulary '{vocab}'", file=FIDELITY_FILE,
                                    column=where, found=v, hint=f"did you mean {best!r}?" if best else None))
    return tuple(str(v) for v in values)


def _checklist(c: dict, i: int, pack, problems: list[Problem]) -> Checklist:
    cid = str(c.get("id", f"checklist{i + 1}"))
    fams = _codes(pack, "family", c.get("families", []), f"{cid}.families", problems)
    regions = _codes(pack, "region", c.get("regions", []), f"{cid}.regions", problems)
    items = tuple(_item(d, f"{cid}.items[{j + 1}]", fams, pack, problems)
                  for j, d in enumerate(c.get("items", [])))
    names = [it.field for it in items]
    for n in {n for n in names if names.count(n) > 1}:
        problems.append(Problem("duplicate item field", file=FIDELITY_FILE, column=cid, found=n))
    return Checklist(id=cid, label=str(c.get("label", cid)), families=fams, regions=regions,
                     reference=str(c.get("reference", "")), items=items)


def _item(d: dict, where: str, fams, pack, problems: list[Problem]) -> Item:
    kind = str(d.get("kind", "text"))
    if kind not in ITEM_KINDS:
        problems.append(Problem("unknown item kind", file=FIDELITY_FILE, column=f"{where}.kind", found=kind,
                                expected=str(list(ITEM_KINDS))))
        kind = "text"
    allowed = tuple(str(a) for a in d.get("allowed", []))
    if "vocabulary" in d:
        if d["vocabulary"] not in pack.vocabularies:
            best = closest(d["vocabulary"], pack.vocabularies)
            problems.append(Problem("unknown vocabulary", file=FIDELITY_FILE, column=f"{where}.vocabulary",
                                    found=d["vocabulary"], hint=f"did you mean {best!r}?" if best else None))
        else:
            allowed = tuple(c.code for c in pack.vocabulary(d["vocabulary"]).codes)
    std = d.get("standard", {}) or {}
    for k in std:
        if k not in _STANDARD_KEYS[kind]:
            problems.append(Problem("standard key not valid for this item kind", file=FIDELITY_FILE,
                                    column=f"{where}.standard.{k}", found=k, expected=str(list(_STANDARD_KEYS[kind]))))
    codes = tuple(str(v) for v in std.get("in", std.get("requires", [])))
    for v in codes:
        if allowed and v not in allowed:
            problems.append(Problem("standard value is not an allowed value", file=FIDELITY_FILE,
                                    column=f"{where}.standard", found=v, expected=str(list(allowed))))
    status = str(d.get("status", "U"))
    if status not in STANDARD_STATUS:
        problems.append(Problem("unknown standard status", file=FIDELITY_FILE, column=f"{where}.status",
                                found=status, expected=str(list(STANDARD_STATUS))))
    families = tuple(str(f) for f in d.get("families", []))
    for f in families:
        if f not in fams:
            problems.append(Problem("item family is not a family of its checklist", file=FIDELITY_FILE,
                                    column=f"{where}.families", found=f, expected=str(list(fams))))
    lo, hi = std.get("min"), std.get("max")
    item = Item(field=str(d.get("field", "")), label=str(d.get("label", "")), kind=kind, allowed=allowed,
                unit=str(d.get("unit", "")), conforming=codes if kind == "choice" else (),
                requires=codes if kind == "set" else (),
                min=None if lo is None else float(lo), max=None if hi is None else float(hi),
                min_exclusive=bool(std.get("min_exclusive", False)),
                max_exclusive=bool(std.get("max_exclusive", False)), families=families,
                reference=str(d.get("reference", "")), status=status, critical=bool(d.get("critical", False)))
    if not item.field:
        problems.append(Problem("item has no field name", file=FIDELITY_FILE, column=where))
    if item.critical and not item.scored:
        problems.append(Problem("a critical item needs a standard", file=FIDELITY_FILE, column=where,
                                found=item.field))
    if any(x is not None and not math.isfinite(x) for x in (item.min, item.max)):
        problems.append(Problem("standard bounds must be finite", file=FIDELITY_FILE, column=where))
    return item
