"""Domain packs: controlled vocabularies, clinical columns and node levels as data files.

A pack is a folder with ``pack.toml`` and a vocabularies file (see ``packs/spine/``). Nothing
domain-specific lives in Python: another field ships its own folder and loads it with
``load_pack("/path/to/pack")``. Packs bundled with netstrata are found by name (``"spine"``).

This module depends only on :mod:`netstrata.errors`, so the data layer can use it to validate
tables without an import cycle.
"""
from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..errors import DataError, Problem, closest

__all__ = ["Code", "Vocabulary", "ColumnBinding", "NodeLevel", "NodeCustomMap", "Pack",
           "load_pack", "available_packs", "is_pack_name", "STATUSES"]

PACKS_DIR = Path(__file__).resolve().parent.parent / "packs"
STATUSES = ("verified", "proposed", "unverified")
_COMPARATOR_MODES = ("parent", "code")


@dataclass(frozen=True, slots=True)
class Code:
    """One allowed value of a vocabulary, with its provenance."""

    code: str
    label: str
    status: str
    source: str
    parent: str | None = None
    note: str | None = None
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """A controlled vocabulary: its codes plus the special values it allows ("NR", "unclear")."""

    name: str
    label: str
    codes: tuple[Code, ...]
    special: tuple[str, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes) + self.special

    def __contains__(self, value: object) -> bool:
        return value in self.allowed

    def get(self, code: str) -> Code | None:
        return next((c for c in self.codes if c.code == code), None)

    def parent_of(self, code: str) -> str:
        """The code's parent (e.g. a sham subtype's ``sham_procedure``), or the code itself."""
        c = self.get(code)
        return c.parent if c is not None and c.parent else code

    def __repr__(self) -> str:
        return f"Vocabulary({self.name!r}, codes={len(self.codes)}, special={list(self.special)})"


@dataclass(frozen=True, slots=True)
class ColumnBinding:
    """A clinical column of a review table and the vocabulary its cells must come from."""

    table: str
    column: str
    vocabulary: str
    required: bool = True
    multi: bool = False


@dataclass(frozen=True, slots=True)
class NodeLevel:
    """A lumping level: active arms become nodes by ``fields``; controls by comparator code/parent."""

    name: str
    label: str
    fields: tuple[str, ...]
    comparator: str
    justification: str


@dataclass(frozen=True, slots=True)
class NodeCustomMap:
    """A hand-written node map: code of ``field`` -> node name (unmapped codes keep their code)."""

    name: str
    label: str
    field: str
    mapping: Mapping[str, str]
    comparator: str
    justification: str
    status: str = "proposed"


@dataclass(frozen=True, slots=True, eq=False)
class Pack:
    """A loaded domain pack (frozen). ``fingerprint`` is the sha256 of its files' bytes."""

    name: str
    version: str
    title: str
    description: str
    path: str
    vocabularies: Mapping[str, Vocabulary]
    columns: tuple[ColumnBinding, ...]
    node_levels: tuple[NodeLevel, ...]
    node_maps: tuple[NodeCustomMap, ...]
    default_node_level: str
    exclusion_reasons: Mapping[str, str] = field(default_factory=dict)
    fingerprint: str = ""

    def columns_of(self, table: str) -> tuple[ColumnBinding, ...]:
        return tuple(c for c in self.columns if c.table == table)

    def vocabulary(self, name: str) -> Vocabulary:
        return self.vocabularies[name]

    @property
    def all_levels(self) -> tuple[NodeLevel | NodeCustomMap, ...]:
        """The lumping levels, then the hand-written maps (the order of ``level_names``)."""
        return (*self.node_levels, *self.node_maps)

    def level(self, name: str) -> NodeLevel | NodeCustomMap:
        for lv in self.all_levels:
            if lv.name == name:
                return lv
        raise KeyError(name)

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(lv.name for lv in self.all_levels)

    def __repr__(self) -> str:
        return (f"Pack(name={self.name!r}, version={self.version!r}, vocabularies={len(self.vocabularies)}, "
                f"levels={list(self.level_names)})")


def available_packs() -> tuple[str, ...]:
    """Names of the packs bundled with netstrata."""
    return tuple(sorted(p.parent.name for p in PACKS_DIR.glob("*/pack.toml")))


def load_pack(name_or_path: str | Path | Pack) -> Pack:
    """Load a domain pack by bundled name (``"spine"``) or from a folder / ``pack.toml`` path.

    Raises
    ------
    DataError
        If the pack cannot be found or its files are malformed; every problem is listed.
    """
    if isinstance(name_or_path, Pack):
        return name_or_path
    folder = _resolve(name_or_path)
    stamp = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(folder.glob("*.toml")))
    return _load_resolved(str(folder), stamp)


def is_pack_name(ref) -> bool:
    """A bundled-pack name ("spine"), as opposed to a path ("./spine", "packs/spine", "/abs/spine")."""
    if not isinstance(ref, str):
        return False
    seps = {"/", "\\", os.sep} | ({os.altsep} if os.altsep else set())
    return bool(ref) and not any(c in ref for c in seps) and not ref.startswith((".", "~")) \
        and not ref.endswith(".toml")


def _resolve(name_or_path: str | Path) -> Path:
    """A bare name resolves to a bundled pack only (never a folder of that name in the working
    directory); a path (a Path, or text with a separator or a leading '.' or '~') to that folder."""
    if is_pack_name(name_or_path):
        if (PACKS_DIR / name_or_path / "pack.toml").is_file():
            return (PACKS_DIR / name_or_path).resolve()
        names = available_packs()
        hint = closest(name_or_path, names)
        local = Path(name_or_path)
        tip = (f"to use the folder {local.resolve()}, write it as a path: './{name_or_path}'"
               if (local / "pack.toml").is_file() else None)
        raise DataError(Problem(
            "domain pack not found", found=name_or_path,
            expected=f"a bundled pack name {list(names)} or a path to a folder containing pack.toml",
            hint=tip or (f"did you mean {hint!r}?" if hint else None)))
    p = Path(name_or_path).expanduser()
    if p.is_file() and p.name == "pack.toml":
        return p.parent.resolve()
    if p.is_dir() and (p / "pack.toml").is_file():
        return p.resolve()
    raise DataError(Problem("domain pack not found", found=str(name_or_path),
                            expected="a folder containing pack.toml (or the pack.toml file itself)"))


@lru_cache(maxsize=16)
def _load_resolved(folder: str, stamp: tuple = ()) -> Pack:
    """Load a pack folder; ``stamp`` (file names, mtimes, sizes) keys the cache so edits are seen."""
    root = Path(folder)
    problems: list[Problem] = []
    meta = _read_toml(root / "pack.toml", problems)
    head = meta.get("pack", {}) if isinstance(meta.get("pack"), dict) else {}
    vocab_file = root / str(head.get("vocabularies", "vocabularies.toml"))
    raw_vocab = _read_toml(vocab_file, problems)
    if problems:
        raise DataError(problems)
    vocabularies = _parse_vocabularies(raw_vocab, vocab_file.name, problems)
    columns = _parse_columns(meta.get("columns", {}), vocabularies, problems)
    nodes = meta.get("nodes", {})
    levels = tuple(_parse_level(d, i, problems) for i, d in enumerate(nodes.get("levels", [])))
    maps = tuple(_parse_map(d, i, problems) for i, d in enumerate(nodes.get("maps", [])))
    default = str(nodes.get("default", levels[0].name if levels else ""))
    names = [lv.name for lv in levels] + [m.name for m in maps]
    if names and default not in names:
        problems.append(Problem("default node level is not a declared level", file="pack.toml",
                                column="nodes.default", found=default, expected=str(names)))
    for name in ("name", "version"):
        if not head.get(name):
            problems.append(Problem("pack metadata is missing", file="pack.toml", column=f"pack.{name}"))
    if problems:
        raise DataError(problems)
    digest = hashlib.sha256()
    for f in sorted(root.glob("*.toml")):
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return Pack(
        name=str(head["name"]), version=str(head["version"]), title=str(head.get("title", "")),
        description=str(head.get("description", "")), path=str(root),
        vocabularies=MappingProxyType(vocabularies), columns=columns, node_levels=levels,
        node_maps=maps, default_node_level=default,
        exclusion_reasons=MappingProxyType({str(k): str(v) for k, v in meta.get("exclusion_reasons", {}).items()}),
        fingerprint=digest.hexdigest())


def _read_toml(path: Path, problems: list[Problem]) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        problems.append(Problem("pack file not found", file=str(path)))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"pack file is not valid TOML ({exc})", file=path.name))
    return {}


def _parse_vocabularies(raw: dict, fname: str, problems: list[Problem]) -> dict[str, Vocabulary]:
    out: dict[str, Vocabulary] = {}
    for name, body in raw.items():
        if not isinstance(body, dict) or not isinstance(body.get("codes"), list):
            problems.append(Problem("vocabulary needs a 'codes' list", file=fname, column=name))
            continue
        codes = []
        for i, c in enumerate(body["codes"]):
            if not isinstance(c, dict) or not c.get("code"):
                problems.append(Problem(f"code entry {i + 1} has no 'code'", file=fname, column=name))
                continue
            status = str(c.get("status", "proposed"))
            if status not in STATUSES:
                problems.append(Problem("unknown code status", file=fname, column=f"{name}.{c['code']}",
                                        found=status, expected=str(list(STATUSES))))
            requires = c.get("requires", {})
            if not isinstance(requires, dict):
                problems.append(Problem("'requires' must be a table column = [codes]", file=fname,
                                        column=f"{name}.{c['code']}", found=requires))
                requires = {}
            codes.append(Code(code=str(c["code"]), label=str(c.get("label", c["code"])), status=status,
                              source=str(c.get("source", "")), parent=c.get("parent"), note=c.get("note"),
                              requires=MappingProxyType({str(k): tuple(str(x) for x in v)
                                                         for k, v in requires.items()})))
        known = {c.code for c in codes}
        for c in codes:
            if c.parent and c.parent not in known:
                problems.append(Problem("parent code is not in the vocabulary", file=fname,
                                        column=f"{name}.{c.code}", found=c.parent))
        out[name] = Vocabulary(name=name, label=str(body.get("label", name)), codes=tuple(codes),
                               special=tuple(str(s) for s in body.get("special", [])))
    return out


def _parse_columns(raw: dict, vocabularies: Mapping[str, Vocabulary],
                   problems: list[Problem]) -> tuple[ColumnBinding, ...]:
    out: list[ColumnBinding] = []
    for table, cols in raw.items():
        for col, spec in cols.items():
            vname = spec.get("vocabulary") if isinstance(spec, dict) else spec
            if not isinstance(vname, str) or vname not in vocabularies:
                hint = closest(str(vname), vocabularies)
                problems.append(Problem("column refers to an unknown vocabulary", file="pack.toml",
                                        column=f"columns.{table}.{col}", found=vname,
                                        hint=f"did you mean {hint!r}?" if hint else None))
                continue
            opts = spec if isinstance(spec, dict) else {}
            out.append(ColumnBinding(table=table, column=col, vocabulary=vname,
                                     required=bool(opts.get("required", True)),
                                     multi=bool(opts.get("multi", False))))
    return tuple(out)


def _check_comparator(value, where: str, problems: list[Problem]) -> str:
    if value not in _COMPARATOR_MODES:
        problems.append(Problem("unknown comparator mode", file="pack.toml", column=where,
                                found=value, expected=str(list(_COMPARATOR_MODES))))
    return str(value)


def _parse_level(d: dict, i: int, problems: list[Problem]) -> NodeLevel:
    where = f"nodes.levels[{i}]"
    return NodeLevel(name=str(d.get("name", f"level{i}")), label=str(d.get("label", "")),
                     fields=tuple(str(f) for f in d.get("fields", [])),
                     comparator=_check_comparator(d.get("comparator", "code"), where, problems),
                     justification=" ".join(str(d.get("justification", "")).split()))


def _parse_map(d: dict, i: int, problems: list[Problem]) -> NodeCustomMap:
    where = f"nodes.maps[{i}]"
    return NodeCustomMap(name=str(d.get("name", f"map{i}")), label=str(d.get("label", "")),
                         field=str(d.get("field", "family")),
                         mapping=MappingProxyType({str(k): str(v) for k, v in d.get("map", {}).items()}),
                         comparator=_check_comparator(d.get("comparator", "parent"), where, problems),
                         justification=" ".join(str(d.get("justification", "")).split()),
                         status=str(d.get("status", "proposed")))
