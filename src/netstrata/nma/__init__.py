"""netstrata.nma layer: network meta-analysis (netmeta 2.9-0 semantics).

``network(contrasts, ...)`` and ``network_from_arms(arms, ...)`` return a frozen
:class:`NetworkResult`; the graph kernel is in :mod:`netstrata.nma.kernel`.
"""
from .network import TAU2_METHODS, network, network_from_arms
from .notices import ComponentNotice, DroppedComparisonWarning
from .result import NetworkResult
from .netmetabin import netmetabin
from .classes import class_network
from .classes_result import ClassComparison, ClassNetworkResult
from .threshold import reconstruct_likelihood, threshold, threshold_analysis
from .threshold_result import ThresholdResult

__all__ = ["network", "network_from_arms", "NetworkResult", "ComponentNotice",
           "DroppedComparisonWarning", "TAU2_METHODS", "netmetabin",
           "class_network", "ClassNetworkResult", "ClassComparison",
           "threshold", "threshold_analysis", "reconstruct_likelihood", "ThresholdResult"]
