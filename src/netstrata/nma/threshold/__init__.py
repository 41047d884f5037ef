"""Threshold analysis (Phillippo et al. 2018, 2019; nmathresh): :mod:`.api` (threshold), :mod:`.inputs`, :mod:`.kernel`, :mod:`.result`."""
from __future__ import annotations

from .api import reconstruct_likelihood, threshold, threshold_analysis

__all__ = ["reconstruct_likelihood", "threshold", "threshold_analysis"]
