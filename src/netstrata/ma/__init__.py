"""netstrata.ma: pairwise meta-analysis (metafor 3.8-1 ``rma.uni`` parity).

Public functions: :func:`pairwise` (``rma`` + ``predict``), :func:`meta_regression`
(``rma(mods=)``), :func:`subgroups`, :func:`heterogeneity_ci` (``confint``, Q-profile),
:func:`leave1out`; the kernel :func:`rma_fit` (any design matrix, used by the small-study tests).
"""
from __future__ import annotations

from .batch import BatchFit, rma_batch
from .confint import HeterogeneityCI, heterogeneity_ci
from .estimators import METHODS
from .fit import RmaFit, rma_fit
from .leave1out import LeaveOneOut, leave1out
from .metareg import MetaRegressionResult, meta_regression
from .pairwise import CI_METHODS, PairwiseResult, pairwise, rma
from .subgroups import SubgroupResult, subgroups

__all__ = [
    "pairwise", "PairwiseResult", "rma", "meta_regression", "MetaRegressionResult",
    "heterogeneity_ci", "HeterogeneityCI", "leave1out", "LeaveOneOut",
    "subgroups", "SubgroupResult", "rma_batch", "BatchFit", "rma_fit", "RmaFit", "METHODS", "CI_METHODS",
]
