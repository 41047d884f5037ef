"""Random-effects logistic meta-analysis of proportions (metafor rma.glmm, PLO): :mod:`.api`, :mod:`.agq` (adaptive Gauss-Hermite quadrature)."""
from __future__ import annotations

from .api import GlmmProportion, proportion_glmm

__all__ = ["GlmmProportion", "proportion_glmm"]
