"""Network meta-analysis of binary outcomes without inverse variances (netmeta netmetabin): :mod:`.api`, :mod:`.kernels`."""
from __future__ import annotations

from .api import BinaryNetworkResult, netmetabin, node_split_mh

__all__ = ["BinaryNetworkResult", "netmetabin", "node_split_mh"]
