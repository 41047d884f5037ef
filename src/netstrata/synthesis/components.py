"""Component network meta-analysis of each stratum's primary network (plan ``[models] components``).

Node maps name a combination arm by joining its procedure codes with ``+`` (e.g. the MINT
combination trial's ``RFN_FACET+RFN_SIJ+DISC_PROC``).  When the plan asks, each stratum whose
primary network has such a node is also analysed by :func:`netstrata.component_network`: the
combination's effect is the sum of its components', which lets a combination trial inform its
single procedures and tests whether additivity holds.  The standard network stays the primary
analysis; the component model is reported beside it.  Runs once per stratum of the primary
specification (not in the multiverse).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import DataError, ParameterError
from ..nma import component_network
from .stage import warnings_noted

if TYPE_CHECKING:
    from ..nma import ComponentNetworkResult

__all__ = ["ComponentAnalysis", "analyse_components", "SEP"]

SEP = "+"          # the node map's join of procedure codes (taxonomy.nodemap)
_FIELD_JOIN = ":"  # the node map's join of several fields (a multi-field lumping level)


@dataclass(frozen=True, slots=True, eq=False)
class ComponentAnalysis:
    """The component model of one stratum's primary layer, or why there is none (``note``)."""

    layer: str
    inactive: str | None = None
    result: ComponentNetworkResult | None = None
    note: str = ""
    warnings: tuple[str, ...] = ()

    def to_dict(self, model: str) -> dict:
        out: dict[str, object] = {"layer": self.layer, "inactive": self.inactive, "note": self.note,
               "warnings": list(self.warnings), "result": None}
        if self.result is not None:
            out["result"] = self.result.to_dict(model)
        return out


def _inactive(net, roles: Mapping[str, str], preferred: str | None) -> tuple[str | None, str]:
    """The plan's inactive node if it is in the network, else the reference when it is a control."""
    if preferred is not None and preferred in net.treatments:
        return preferred, ""
    ref = net.reference if roles.get(net.reference) == "control" else None
    note = (f"components_inactive {preferred!r} is not a node of this network; " if preferred is not None else "")
    return ref, note + (f"inactive component: the reference {ref!r}" if ref else "no inactive component")


def _one(lay, roles: Mapping[str, str], settings) -> ComponentAnalysis:

    net = lay.network
    combos = [t for t in net.treatments if SEP in t]
    if not combos:
        return ComponentAnalysis(lay.layer, note="no combination node (no '+' in a node name): the component "
                                                 "model would equal the standard network")
    if any(_FIELD_JOIN in t for t in combos):
        return ComponentAnalysis(lay.layer, note="node names join several fields (':'), so their '+' parts are "
                                                 "not procedures: use a single-field node level (e.g. family) "
                                                 "for the component analysis")
    inactive, how = _inactive(net, roles, settings.components_inactive)
    rows = net.rows[["study", "treat1", "treat2", "effect", "se"]]
    caught: list[str] = []
    with warnings_noted(caught):
        try:
            res = component_network(rows, sep=SEP, inactive=inactive, method=settings.network,
                                    reference=net.reference)
        except (DataError, ParameterError) as exc:
            return ComponentAnalysis(lay.layer, inactive, note=f"not analysed: {exc}")
    # CIs and the additivity verdict at the plan's level (the fit itself does not depend on it)
    res = replace(res, level=settings.level)
    return ComponentAnalysis(lay.layer, inactive, res, note=how, warnings=tuple(caught))


def analyse_components(results, settings, roles: Mapping[str, str]) -> tuple:
    """``results`` (StratumResult) with ``components`` filled where the primary layer is a network."""
    out = []
    for res in results:
        lay = res.primary
        if lay is None or lay.network is None:
            out.append(res)
            continue
        out.append(replace(res, components=_one(lay, roles, settings)))
    return tuple(out)
