"""Mantel-Haenszel pooling of 2x2 tables and incidence rates (metafor rma.mh): :mod:`.api`, :mod:`.tables`, :mod:`.rates`."""
from __future__ import annotations

from .api import MH_MEASURES, MantelHaenszelResult, mantel_haenszel

__all__ = ["MH_MEASURES", "MantelHaenszelResult", "mantel_haenszel"]
