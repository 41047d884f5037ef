"""netstrata.nma layer: network meta-analysis (netmeta 2.9-0 semantics).

``network(contrasts, ...)`` and ``network_from_arms(arms, ...)`` return a frozen
:class:`NetworkResult`; the graph kernel is in :mod:`netstrata.nma.kernel`.
``component_network(contrasts, ...)`` (netmeta ``netcomb`` / ``discomb``) returns a frozen
:class:`ComponentNetworkResult`; its kernels are in :mod:`netstrata.nma.cnma.kernels`.
"""
from .network import TAU2_METHODS, network, network_from_arms
from .notices import ComponentNotice, DroppedComparisonWarning
from .result import NetworkResult
from .netmetabin import netmetabin
from .cnma import ComponentIdentifiabilityWarning, ReconnectedNetworkNotice, component_network
from .cnma.result import ComponentNetworkResult
from .classes import class_network
from .classes.result import ClassComparison, ClassNetworkResult
from .threshold import reconstruct_likelihood, threshold, threshold_analysis
from .threshold.result import ThresholdResult

__all__ = ["network", "network_from_arms", "NetworkResult", "ComponentNotice",
           "DroppedComparisonWarning", "TAU2_METHODS", "netmetabin",
           "component_network", "ComponentNetworkResult", "ComponentIdentifiabilityWarning",
           "ReconnectedNetworkNotice",
           "class_network", "ClassNetworkResult", "ClassComparison",
           "threshold", "threshold_analysis", "reconstruct_likelihood", "ThresholdResult"]
