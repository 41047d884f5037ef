"""Component network meta-analysis (netmeta netcomb / discomb): :mod:`.api` (component_network), :mod:`.design`, :mod:`.kernels`, :mod:`.result`, :mod:`.summary`."""
from __future__ import annotations

from .api import ComponentIdentifiabilityWarning, ReconnectedNetworkNotice, component_network

__all__ = ["ComponentIdentifiabilityWarning", "ReconnectedNetworkNotice", "component_network"]
