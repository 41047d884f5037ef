"""Registry of the ways randomised and non-randomised layers may be (not) combined, with citations."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["DESIGN_CODES", "LayerApproach", "LAYER_APPROACHES"]

#: Comparative designs, in analysis order (the first is the reference level of every contrast);
#: the codes of ``netstrata.data.spec.DESIGNS``.
DESIGN_CODES = ("RCT", "NRS_comparative")


@dataclass(frozen=True, slots=True)
class LayerApproach:
    """One way of (not) combining the randomised and non-randomised layers."""

    code: str
    label: str
    combined: str                  # what the combined result is
    parameters: tuple[str, ...]    # the arguments the approach takes (beyond method, ci, level)
    reference: str
    doi: str


#: The approaches :func:`combine_layers` knows (registry data: validation, summary notes and
#: the report's methods paragraph read it).
LAYER_APPROACHES = MappingProxyType({a.code: a for a in (
    LayerApproach("separate", "Layers reported separately (no combination)", "none", (),
                  "Cuello-Garcia et al. 2022, GRADE guidance 24", "10.1016/j.jclinepi.2021.11.026"),
    LayerApproach("subgroup", "Design as a subgroup (between-design Q test)",
                  "all studies pooled ignoring design", ("common_tau2",),
                  "Borenstein & Higgins 2013", "10.1007/s11121-013-0377-7"),
    LayerApproach("moderator", "Design as a meta-regression moderator (common tau2)",
                  "RCT-level estimate of the design meta-regression", (),
                  "Thompson & Higgins 2002", "10.1002/sim.1187"),
    LayerApproach("downweight", "Bias-adjusted down-weighting of non-randomised studies",
                  "RCTs pooled with NRS whose variances are inflated (and effects shifted)",
                  ("inflation", "shift"),
                  "Turner et al. 2009; Efthimiou et al. 2017 (design-adjusted analysis)",
                  "10.1111/j.1467-985X.2008.00547.x; 10.1002/sim.7223"),
)})
