"""Class-effect network models (Dias et al., NICE DSU TSD 2): :mod:`.api` (class_network), :mod:`.fit`, :mod:`.kernel`, :mod:`.result`."""
from __future__ import annotations

from .api import class_network

__all__ = ["class_network"]
