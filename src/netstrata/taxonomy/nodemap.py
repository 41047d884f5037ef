"""Node maps: which arms form one treatment node, at a lumping level declared by the domain pack.

An arm with a ``family`` is an *active* arm; its node is built from the level's fields (e.g.
family only, or family + approach + energy). An arm with only a ``comparator_type`` is a
*control* arm; its node is its comparator code or that code's parent (all sham subtypes ->
``sham_procedure``). Every node lists its arms, the distinct full-resolution definitions it
merges, the fields on which they differ and the justification for merging them (PRISMA-NMA
item 6; Hutton 2015, doi:10.7326/M14-2385).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from .._summary import Summary
from ..errors import ParameterError
from .pack import NodeCustomMap, NodeLevel, Pack

__all__ = ["Node", "NodeMap", "build_node_map"]

_SEP_IN, _SEP_OUT, _JOIN = "|", "+", ":"
ACTIVE, CONTROL = "active", "control"


@dataclass(frozen=True, slots=True)
class Node:
    """A treatment node: its arms, the definitions it merges and why."""

    name: str
    role: str
    arms: tuple[tuple[str, str], ...]
    definitions: tuple[str, ...]
    differing: tuple[str, ...]
    justification: str

    @property
    def studies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for s, _ in self.arms))

    @property
    def merged(self) -> bool:
        return len(self.definitions) > 1


@dataclass(frozen=True, slots=True, eq=False)
class NodeMap:
    """Arms -> nodes at one lumping level, with a recorded justification per merge."""

    level: str
    label: str
    nodes: tuple[Node, ...]
    assignment: Mapping[tuple[str, str], str]
    justification: str

    def node_of(self, study: str, arm: str) -> str:
        return self.assignment[(study, arm)]

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def to_frame(self) -> pd.DataFrame:
        """One row per arm: study, arm, node, role."""
        role = {n.name: n.role for n in self.nodes}
        rows = [{"study": s, "arm": a, "node": v, "role": role[v]} for (s, a), v in self.assignment.items()]
        return pd.DataFrame(rows, columns=["study", "arm", "node", "role"])

    def nodes_frame(self) -> pd.DataFrame:
        """One row per node: role, arm and study counts, merged definitions and justification."""
        rows = [{"node": n.name, "role": n.role, "arms": len(n.arms), "studies": len(n.studies),
                 "definitions": len(n.definitions), "differing": ", ".join(n.differing),
                 "justification": n.justification} for n in self.nodes]
        return pd.DataFrame(rows, columns=["node", "role", "arms", "studies", "definitions", "differing",
                                           "justification"]).set_index("node")

    def summary(self) -> Summary:
        return Summary(title=f"Node map at level '{self.level}' ({self.label})",
                       frame=self.nodes_frame().drop(columns="justification"),
                       notes=(self.justification,))

    def __repr__(self) -> str:
        merged = sum(n.merged for n in self.nodes)
        return f"NodeMap(level={self.level!r}, nodes={len(self.nodes)}, merged={merged}, arms={len(self.assignment)})"


def _text(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    return _SEP_OUT.join(p.strip() for p in str(v).split(_SEP_IN))


def _value(arm: pd.Series, study: Mapping | None, field: str) -> str:
    if field.startswith("studies."):
        return _text(None if study is None else study.get(field.split(".", 1)[1]))
    return _text(arm.get(field))


def _resolve_level(pack: Pack, level) -> NodeLevel | NodeCustomMap:
    if isinstance(level, (NodeLevel, NodeCustomMap)):
        return level
    name = level or pack.default_node_level
    try:
        return pack.level(name)
    except KeyError:
        raise ParameterError(f"The 'level' parameter of build_node_map must be one of "
                             f"{{{', '.join(repr(n) for n in pack.level_names)}}}. Got {name!r} instead.") from None


def build_node_map(arms: pd.DataFrame, studies: pd.DataFrame, pack: Pack, level=None, *,
                   custom: Mapping[str, str] | None = None, field: str = "family",
                   justification: str = "") -> NodeMap:
    """Group arms into treatment nodes.

    Parameters
    ----------
    arms, studies : DataFrame
        Validated tables (``Review.arms``, ``Review.studies``).
    pack : Pack
        Domain pack declaring the levels (``[nodes]`` of ``pack.toml``).
    level : str or NodeLevel or NodeCustomMap, optional
        Lumping level; default the pack's default level.
    custom : mapping, optional
        A custom map ``code of field -> node name`` (e.g. ``{"RFN_FACET": "joint_RFA"}``); needs
        ``justification``. Overrides ``level``.
    """
    lv: NodeLevel | NodeCustomMap
    if custom is not None:
        if not justification.strip():
            raise ParameterError("The 'justification' parameter of build_node_map is required with a custom "
                                 "map (PRISMA-NMA item 6: state why treatments are merged).")
        lv = NodeCustomMap("custom", "custom map", field, MappingProxyType(dict(custom)), "parent", justification)
    else:
        lv = _resolve_level(pack, level)
    study_rows = {s: r for s, r in zip(studies["study"], studies.to_dict("records"))}
    finest = tuple(dict.fromkeys(f for l in pack.node_levels for f in l.fields)) or ("family",)
    vocab = pack.vocabularies.get("comparator_type")
    groups: dict[str, dict] = {}
    for _, arm in arms.iterrows():
        study = study_rows.get(arm["study"])
        active = _text(arm.get("family")) != "-"
        if active:
            name = _active_name(arm, study, lv)
            full = tuple((f, _value(arm, study, f)) for f in finest)
        else:
            code = str(arm.get("comparator_type"))
            name = vocab.parent_of(code) if (vocab is not None and lv.comparator == "parent") else code
            full = (("comparator_type", code),)
        g = groups.setdefault(name, {"role": ACTIVE if active else CONTROL, "arms": [], "defs": {}})
        g["arms"].append((arm["study"], arm["arm"]))
        g["defs"].setdefault(full, None)
    nodes = tuple(_node(name, g, lv) for name, g in sorted(groups.items(), key=lambda kv: (kv[1]["role"], kv[0])))
    assignment = {a: n.name for n in nodes for a in n.arms}
    return NodeMap(level=lv.name, label=lv.label, nodes=nodes, assignment=MappingProxyType(assignment),
                   justification=lv.justification)


def _active_name(arm, study, lv) -> str:
    if isinstance(lv, NodeCustomMap):
        codes = [p.strip() for p in str(arm.get(lv.field) or "").split(_SEP_IN) if p.strip()]
        return _SEP_OUT.join(dict.fromkeys(lv.mapping.get(c, c) for c in codes)) or "-"
    return _JOIN.join(_value(arm, study, f) for f in lv.fields)


def _node(name: str, g: dict, lv) -> Node:
    defs = list(g["defs"])
    differing = tuple(f for i, (f, _) in enumerate(defs[0]) if len({d[i][1] for d in defs}) > 1) if defs else ()
    shown = tuple(", ".join(f"{f}={v}" for f, v in d) for d in defs)
    why = ""
    if len(defs) > 1:
        why = (f"{lv.justification} Merges {len(defs)} arm definitions differing in "
               f"{', '.join(differing) or 'no field'}.")
    return Node(name=name, role=g["role"], arms=tuple(g["arms"]), definitions=shown, differing=differing,
                justification=why.strip())
