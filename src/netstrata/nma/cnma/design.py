"""The component design of a component network meta-analysis: labels -> components -> C matrix.

Follows netmeta 2.9-0 ``createC`` / ``compsplit`` (and ``netcomb``'s checks of a given
``C.matrix``): every treatment label is split at the separator, spaces around each part are
removed, the components are sorted as R's ``sort()`` orders labels, and ``C[i, k] = 1`` when
treatment i contains component k.  The *inactive* component (e.g. placebo) has no column, so a
treatment that is only the inactive component has a row of zeros (effect 0 by definition).
Interaction columns extend C (netmeta's user-given ``C.matrix``): column ``A*B`` is 1 for every
treatment containing all of A and B.

References
----------
Rücker G, Petropoulou M, Schwarzer G (2020). Network meta-analysis of multicomponent
interventions. Biom J 62:808-821. doi:10.1002/bimj.201800167
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from ..._collate import collate_key
from ...errors import DataError, ParameterError, Problem, closest

__all__ = ["ComponentDesign", "split_label", "component_design", "match_component"]

INTERACTION_SEP = "*"


@dataclass(frozen=True, slots=True)
class ComponentDesign:
    """C matrix (treatments × components) with its labels."""

    treatments: tuple[str, ...]
    components: tuple[str, ...]        # additive components (sorted), then interaction columns
    interactions: tuple[str, ...]      # names of the interaction columns (a suffix of components)
    inactive: str | None               # canonical spelling of the inactive component
    sep: str
    C: np.ndarray                      # (n, c) of 0.0 / 1.0
    parts: tuple[tuple[str, ...], ...]  # the components of each treatment label (inactive included)
    #: components of each interaction column; () for a column given as a list of treatments
    interaction_parts: tuple[tuple[str, ...], ...] = ()

    @property
    def c(self) -> int:
        return len(self.components)

    def row(self, label: str, caller: str = "combination") -> np.ndarray:
        """C row of any combination of the network's components, e.g. ``"A + B"`` (a new one).

        A label with the components of a treatment of the network gets that treatment's row;
        for a new combination, component interactions (``A*B``) apply when it contains all of
        their components, interaction columns given as treatment lists do not apply.
        """
        parts = split_label(str(label), self.sep)
        if not parts:
            raise DataError(Problem(f"{caller}: no component in the label", found=label,
                                    expected=f"components separated by {self.sep!r}"))
        known = sorted({p for ps in self.parts for p in ps}, key=collate_key)
        found = {match_component(p, known, what="component", caller=caller, label=label) for p in parts}
        for t, ps in enumerate(self.parts):
            if set(ps) == found:
                return self.C[t].copy()
        out = np.zeros(self.c)
        for name in found - {self.inactive}:
            out[self.components.index(name)] = 1.0
        first = self.c - len(self.interactions)
        for j, needs in enumerate(self.interaction_parts):
            if needs and set(needs) <= found:
                out[first + j] = 1.0
        return out


def split_label(label: str, sep: str) -> tuple[str, ...]:
    """Components of one treatment label: split at ``sep``, surrounding spaces removed (netmeta
    ``compsplit``); empty parts (``"A + "``) are kept out."""
    return tuple(p.strip() for p in label.split(sep) if p.strip())


def split_interaction(name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in name.split(INTERACTION_SEP))


def match_component(value: str, components, *, what: str, caller: str, label: str | None = None) -> str:
    """``value`` as one of ``components``: exact, else ignoring case when that is unambiguous
    (netmeta ``setchar``); otherwise a DataError naming what was given and what exists."""
    comps = list(components)
    if value in comps:
        return value
    lower = [c for c in comps if c.lower() == str(value).lower()]
    if len(lower) == 1:
        return lower[0]
    hint = closest(value, comps)
    where = f" (in {label!r})" if label is not None and label != value else ""
    raise DataError(Problem(f"{caller}: {what} {value!r}{where} is not a component of the network",
                            found=value, expected="one of " + ", ".join(repr(c) for c in comps),
                            hint=f"did you mean {hint!r}?" if hint else None))


def _interaction_items(interactions, caller: str) -> list[tuple[str, object, bool]]:
    """(name, spec, explicit) per requested interaction column.

    ``interactions``: an iterable whose items are ``"A*B"`` strings or sequences of component
    names (column 1 for every treatment containing all of them), or a mapping ``name ->
    treatments`` (column 1 exactly for those treatments, as a column of a user-given netmeta
    ``C.matrix``).
    """
    if interactions is None:
        return []
    if isinstance(interactions, str):
        interactions = [interactions]
    if isinstance(interactions, Mapping):
        return [(str(k), v, True) for k, v in interactions.items()]
    items: list[tuple[str, object, bool]] = []
    for it in interactions:
        if isinstance(it, str):
            items.append((it, split_interaction(it), False))
        elif isinstance(it, Iterable):
            it = tuple(str(x) for x in it)
            items.append((INTERACTION_SEP.join(it), it, False))
        else:
            raise ParameterError(f"The 'interactions' parameter of {caller} must list strings such as "
                                 f"'A*B' or tuples of component names. Got {it!r} instead.")
    return items


def _explicit_column(name, treatments_given, labels, caller) -> np.ndarray:
    given = [treatments_given] if isinstance(treatments_given, str) else list(treatments_given)
    col = np.zeros(len(labels))
    for t in given:
        if str(t) not in labels:
            hint = closest(str(t), labels)
            raise DataError(Problem(f"{caller}: interaction {name!r} lists treatment {t!r}, which is not in "
                                    "the network", found=t, expected="treatment labels of the network",
                                    hint=f"did you mean {hint!r}?" if hint else None))
        col[labels.index(str(t))] = 1.0
    return col


def _component_column(name, needs, parts, comps, inactive, caller) -> tuple[str, np.ndarray, tuple[str, ...]]:
    if len(needs) < 2:
        raise ParameterError(f"The 'interactions' parameter of {caller}: {name!r} names "
                             f"{len(needs)} component(s); an interaction needs two or more, written "
                             "'A*B' or ('A', 'B').")
    known = comps + ([inactive] if inactive is not None else [])
    canon = [match_component(x, known, what="component", caller=caller, label=name) for x in needs]
    if inactive is not None and inactive in canon:
        raise DataError(Problem(f"{caller}: interaction {name!r} involves the inactive component",
                                found=inactive, expected="active components only"))
    col = np.array([1.0 if all(c in p for c in canon) else 0.0 for p in parts])
    if not col.any():
        raise DataError(Problem(f"{caller}: interaction {name!r} can never be identified from the data: "
                                "no treatment contains all of its components",
                                found=INTERACTION_SEP.join(canon),
                                expected="at least one treatment combining " + " and ".join(map(repr, canon))))
    return INTERACTION_SEP.join(canon), col, tuple(canon)


def component_design(treatments: tuple[str, ...], sep: str = "+", inactive: str | None = None,
                     interactions=None, caller: str = "component_network") -> ComponentDesign:
    """Build the C matrix of ``treatments`` (netmeta ``createC`` plus interaction columns)."""
    if not isinstance(sep, str) or len(sep) != 1 or sep.isspace():
        raise ParameterError(f"The 'sep' parameter of {caller} must be a single non-blank character "
                             f"(netmeta sep.comps). Got {sep!r} instead.")
    parts = tuple(split_label(t, sep) for t in treatments)
    empty = [t for t, p in zip(treatments, parts) if not p]
    if empty:
        raise DataError([Problem(f"{caller}: treatment label has no component", found=t,
                                 expected=f"components separated by {sep!r}") for t in empty])
    comps = sorted({p for ps in parts for p in ps}, key=collate_key)
    if inactive is not None:
        if not isinstance(inactive, str):
            raise ParameterError(f"The 'inactive' parameter of {caller} must be a component name. "
                                 f"Got {inactive!r} instead.")
        inactive = match_component(inactive.strip(), comps, what="inactive treatment", caller=caller)
        comps = [c for c in comps if c != inactive]
        if not comps:
            raise DataError(Problem(f"{caller}: every treatment is the inactive component",
                                    found=inactive, expected="at least one active component"))
    C = np.array([[1.0 if c in p else 0.0 for c in comps] for p in parts]).reshape(len(treatments), len(comps))
    items = _interaction_items(interactions, caller)
    names: list[str] = []
    cols: list[np.ndarray] = []
    needs: list[tuple[str, ...]] = []
    for name, spec, explicit in items:
        if explicit:
            col = _explicit_column(name, spec, list(treatments), caller)
            needs.append(())
        else:
            name, col, canon = _component_column(name, spec, parts, comps, inactive, caller)
            needs.append(canon)
        if name in comps or name in names:
            raise ParameterError(f"The 'interactions' parameter of {caller} lists {name!r} twice or "
                                 "under the name of a component.")
        names.append(name)
        cols.append(col)
    if cols:
        C = np.column_stack([C, *cols])
    design = ComponentDesign(tuple(treatments), tuple(comps) + tuple(names), tuple(names), inactive, sep,
                             C, parts, tuple(needs))
    check_separable(design, caller)
    return design


def inseparable_groups(C: np.ndarray, tol: float = 1e-10) -> list[list[int]]:
    """Groups of C columns involved in a linear dependence (null space of C), each group the
    columns linked through one null-space direction set (connected through shared support)."""
    _, s, vt = np.linalg.svd(C, full_matrices=True)
    rank = int(np.sum(s > max(C.shape) * np.finfo(float).eps * (s[0] if s.size else 0.0)))
    null = vt[rank:].T                      # (c, c - rank)
    if null.shape[1] == 0:
        return []
    P = null @ null.T                       # projector onto null(C); P_ij != 0 links i and j
    involved = np.flatnonzero(np.diag(P) > tol)
    groups: list[list[int]] = []
    for i in involved.tolist():
        linked = [g for g in groups if any(abs(P[i, j]) > tol for j in g)]
        merged = [i] + [j for g in linked for j in g]
        groups = [g for g in groups if g not in linked] + [sorted(merged)]
    return sorted(groups)


def check_separable(design: ComponentDesign, caller: str) -> None:
    """A rank-deficient C matrix cannot be fitted by any data on these treatments: raise a
    DataError naming the components that cannot be separated and where they occur."""
    groups = inseparable_groups(design.C)
    if not groups:
        return
    problems = []
    for g in groups:
        names = [design.components[j] for j in g]
        where = [t for t, row in zip(design.treatments, design.C) if row[g].any()]
        problems.append(Problem(
            f"{caller}: the components {', '.join(map(repr, names))} cannot be separated (the C matrix "
            "is rank-deficient): on these treatments their effects are confounded",
            found="they occur in " + ", ".join(map(repr, where)),
            expected="each component (and interaction) varying independently of the others across treatments",
            hint="merge them into one component, drop an interaction, or add studies of them apart"))
    raise DataError(problems)
