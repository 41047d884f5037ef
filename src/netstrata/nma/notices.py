"""Typed warnings of the network layer."""
from __future__ import annotations

from ..errors import NetstrataWarning

__all__ = ["ComponentNotice", "DroppedComparisonWarning"]


class ComponentNotice(NetstrataWarning):
    """The network is disconnected: each sub-network is analysed separately.

    Comparisons across sub-networks are not estimable; they are NaN in league tables and listed
    in ``NetworkResult.not_comparable`` (for the exclusion register).
    """


class DroppedComparisonWarning(NetstrataWarning):
    """Comparisons with a missing effect or a missing/zero/negative se were left out
    (as netmeta does); they are listed in ``NetworkResult.excluded``."""
