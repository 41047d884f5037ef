"""The plan's ``[evidence]`` section: which evidence layers are analysed in which stratum (issue 9).

::

    [evidence]
    layers = ["randomised", "nonrandomised", "single_arm"]   # default: all three
    data_collection = "prospective"                          # default "any"
    [evidence.by_stratum]                                    # optional per-stratum overrides
    "cervical" = ["randomised", "single_arm"]
    "cervical / complete_relief" = ["single_arm"]

A ``by_stratum`` key is a set of stratum name parts joined by ``" / "``: the stratification
variables' values and the outcome id (the lumped analysis of an outcome is ``all / OUTCOME``).
A key matches a stratum when every one of its parts is one of the stratum's parts, in any order
(so a prefix such as ``"cervical"`` or ``"cervical / facet_joint_pain"`` matches, and so does
``"complete_relief"``). The matching key with the most parts wins; two equally specific matching
keys that declare different layers are an error (add a more specific key). A stratum that no key
matches uses ``layers``.

``data_collection = "prospective"`` applies the multisociety letter's criterion ("well-designed
prospective studies where RCTs are lacking"): the non-randomised and single-arm layers take only
studies whose ``data_collection`` is ``prospective``; the records of the others go to the exclusion
register (``not_prospective``). RCTs are prospective by design. ``[sensitivity] data_collection``
varies it in the multiverse (its first alternative must equal this one).

Records of a layer not declared for their stratum are not analysed: they go to the exclusion
register with reason ``layer_not_declared``, and the stratum's primary layer (randomised, else
non-randomised, else single-arm) is chosen among the declared layers only. The lumped analysis of
an outcome uses the records its strata declare.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..data.plan import unknown_keys
from ..data.register import Exclusion
from ..errors import DataError, Problem, closest
from .choices import LAYERS, layer_of

__all__ = ["EVIDENCE_LAYERS", "EvidencePlan", "parse_evidence", "key_parts", "not_declared"]

#: evidence layers a plan may declare, in the order a stratum's primary layer is chosen
EVIDENCE_LAYERS = ("randomised", "nonrandomised", "single_arm")
_KEYS = ("layers", "by_stratum", "data_collection")
COLLECTION = ("any", "prospective")
SEP = " / "


def key_parts(key: str) -> tuple[str, ...]:
    """``"cervical / success"`` -> ``("cervical", "success")`` (blanks around ``/`` ignored)."""
    return tuple(p.strip() for p in key.split("/"))


@dataclass(frozen=True, slots=True)
class EvidencePlan:
    """Declared evidence layers: ``layers`` by default, ``by_stratum`` ((key, layers), ...) overrides."""

    layers: tuple[str, ...] = EVIDENCE_LAYERS
    by_stratum: tuple[tuple[str, tuple[str, ...]], ...] = ()
    data_collection: str = "any"

    @property
    def is_default(self) -> bool:
        return self.layers == EVIDENCE_LAYERS and not self.by_stratum and self.data_collection == "any"

    def matching(self, stratum) -> tuple[str, ...]:
        """The ``by_stratum`` keys that match ``stratum`` (a :class:`Stratum`), in plan order."""
        parts = set(stratum.name.split(SEP))
        return tuple(k for k, _ in self.by_stratum if set(key_parts(k)) <= parts)

    def key_for(self, stratum) -> str | None:
        """The most specific matching key (None: the default ``layers`` apply)."""
        keys = self.matching(stratum)
        if not keys:
            return None
        most = max(len(set(key_parts(k))) for k in keys)
        best = [k for k in keys if len(set(key_parts(k))) == most]
        declared = dict(self.by_stratum)
        if len({declared[k] for k in best}) > 1:
            raise DataError(Problem("stratum matched by equally specific [evidence.by_stratum] keys that "
                                    "declare different layers", file="netstrata.toml",
                                    column="evidence.by_stratum", found=", ".join(repr(k) for k in best),
                                    expected=f"one most specific key for stratum {stratum.name!r}",
                                    hint=f"add a key naming more of its values, e.g. {stratum.name!r}"))
        return best[0]

    def layers_for(self, stratum) -> tuple[str, ...]:
        """The layers declared for ``stratum`` (in :data:`EVIDENCE_LAYERS` order)."""
        key = self.key_for(stratum)
        return self.layers if key is None else dict(self.by_stratum)[key]

    def unused_keys(self, strata) -> tuple[str, ...]:
        """``by_stratum`` keys that match none of ``strata`` (a likely typo in the plan)."""
        used = {k for s in strata for k in self.matching(s)}
        return tuple(k for k, _ in self.by_stratum if k not in used)


def _problem(key, message, found=None, expected=None, hint=None, file="netstrata.toml"):
    return Problem(message, file=file, column=key, found=found, expected=expected, hint=hint)


def _layer_list(value, where: str, file: str) -> tuple[tuple[str, ...] | None, list[Problem]]:
    """A validated list of layer names (canonical order) or None, and the problems found."""
    allowed = "one of " + ", ".join(EVIDENCE_LAYERS)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None, [_problem(where, "expected a non-empty list of evidence layers", value, allowed,
                               'e.g. ["randomised", "single_arm"]', file)]
    problems = []
    for v in value:
        if v not in EVIDENCE_LAYERS:
            best = closest(v, EVIDENCE_LAYERS)
            hint = ("'comparative' (randomised and non-randomised pooled) is a [sensitivity] design "
                    "alternative, not a layer" if v == "comparative"
                    else f"did you mean {best!r}?" if best else None)
            problems.append(_problem(where, "unknown evidence layer", v, allowed, hint, file))
    if len(set(value)) != len(value):
        problems.append(_problem(where, "a layer is listed twice", value, allowed, None, file))
    if problems:
        return None, problems
    return tuple(x for x in EVIDENCE_LAYERS if x in value), []


def _by_stratum(table, file: str) -> tuple[tuple, list[Problem]]:
    if not isinstance(table, Mapping):
        return (), [_problem("evidence.by_stratum", "expected a table of stratum key = list of layers", table,
                             '[evidence.by_stratum] with e.g. "cervical" = ["randomised"]', None, file)]
    out: list[tuple[str, tuple[str, ...]]] = []
    problems: list[Problem] = []
    seen: dict[frozenset, str] = {}
    for key, value in table.items():
        where = f"evidence.by_stratum.{key}"
        parts = key_parts(key)
        if not all(parts):
            problems.append(_problem(where, "stratum key has an empty part", key,
                                     'stratum values and/or the outcome joined by " / "', None, file))
            continue
        if frozenset(parts) in seen:
            problems.append(_problem(where, "the same stratum key is declared twice", key,
                                     "each set of stratum values once", f"see {seen[frozenset(parts)]!r}", file))
            continue
        seen[frozenset(parts)] = key
        layers, found = _layer_list(value, where, file)
        problems += found
        if layers is not None:
            out.append((SEP.join(parts), layers))
    return tuple(out), problems


def parse_evidence(section: Mapping | None, file: str = "netstrata.toml") -> EvidencePlan:
    """Validate ``[evidence]``; raises DataError listing every problem (each names the key, the
    value found and the allowed values; an unknown key or layer name the closest allowed one)."""
    section = dict(section or {})
    problems = unknown_keys(section, _KEYS, "evidence", file)
    layers: tuple[str, ...] | None = EVIDENCE_LAYERS
    found: list[Problem] = []
    if "layers" in section:
        layers, found = _layer_list(section["layers"], "evidence.layers", file)
    problems += found
    by, found = _by_stratum(section.get("by_stratum", {}), file)
    problems += found
    collection = section.get("data_collection", "any")
    if collection not in COLLECTION:
        best = closest(str(collection), COLLECTION)
        problems.append(_problem("evidence.data_collection", "value not allowed", collection,
                                 "one of " + ", ".join(COLLECTION), f"did you mean {best!r}?" if best else None, file))
    if problems or layers is None:        # _layer_list gives None with its problems only
        raise DataError(problems)
    return EvidencePlan(layers, by, collection)


def not_declared(stratum, contrasts: pd.DataFrame, rates: pd.DataFrame,
                 declared: tuple[str, ...]):
    """(declared contrasts, declared rates, register rows of the others): a contrast's evidence
    layer follows its study design (RCT: randomised, else non-randomised), whatever the pooling."""
    keep = np.array([layer_of(d) in declared for d in contrasts["design"]], dtype=bool)
    keep_rates = "single_arm" in declared
    dropped = [(r, layer_of(r.design)) for r in contrasts[~keep].itertuples()] if not keep.all() else []
    dropped += [(r, "single_arm") for r in rates.itertuples()] if not keep_rates and len(rates) else []
    rows, seen = [], set()
    for r, layer in dropped:
        for table, row in r.records:
            if (table, row) not in seen:
                seen.add((table, row))
                rows.append(Exclusion(study=r.study, reason_code="layer_not_declared", stage="analysis",
                                      message=f"{LAYERS[layer]}: layer not declared for stratum {stratum.name!r} "
                                              f"(the plan declares {', '.join(declared)})",
                                      outcome=r.outcome, file=f"{table}.csv", row=int(row)))
    return contrasts[keep], (rates if keep_rates else rates.iloc[:0]), tuple(rows)
