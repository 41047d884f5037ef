"""netstrata.ma: pairwise meta-analysis (metafor 3.8-1 ``rma.uni`` parity).

One entry point for a pairwise meta-analysis: :func:`pairwise` (``rma`` + ``predict``; it takes
effects and variances, or the frame of ``effect_sizes``). Further functions: :func:`meta_regression`
(``rma(mods=)``), :func:`subgroups`, :func:`heterogeneity_ci` (``confint``, Q-profile),
:func:`leave1out`; binary-outcome and incidence-rate pooling :func:`mantel_haenszel` (``rma.mh``:
OR, RR, RD, IRR, IRD) and :func:`peto` (``rma.peto``);
small-study effects :func:`regtest`, :func:`ranktest`, :func:`trimfill`; single-arm rates
:func:`study_proportions`, :func:`pooled_proportion`, :func:`proportion_glmm` (``rma.glmm``, PLO);
responder helpers :func:`nnt`, :func:`mid_units`; randomised and non-randomised evidence side by side
(:func:`combine_layers`: separate, subgroup, moderator or bias-adjusted down-weighting).

Every pairwise-type result shares one vocabulary (:class:`~netstrata.ma.pooled.PooledEstimate`:
``estimate, se, ci_low, ci_high, pvalue, measure, level``, back-transformation on request); the
interval option is ``ci`` ("wald" or "hksj") everywhere.

Low level, not in ``__all__``: :func:`rma` (metafor's ``rma.uni`` with a design matrix, returning
the kernel's :class:`RmaFit`) and the kernel :func:`rma_fit` itself (used by the small-study tests,
the network layer and the batch refits). Users call :func:`pairwise` or :func:`meta_regression`.
"""
from __future__ import annotations

from .batch import BatchFit, rma_batch
from .confint import HeterogeneityCI, heterogeneity_ci
from .estimators import METHODS
from .fit import RmaFit, rma_fit
from .leave1out import LeaveOneOut, leave1out
from .metareg import MetaRegressionResult, meta_regression
from .pairwise import CI_METHODS, PairwiseResult, pairwise, rma
from .pooled import POOLED_FIELDS, Pooled, PooledEstimate
from .subgroups import SubgroupResult, subgroups
from .mh import MH_MEASURES, MantelHaenszelResult, mantel_haenszel
from .peto import PetoResult, peto
from .bias import (REGTEST_PREDICTORS, TRIMFILL_ESTIMATORS, RankTestResult, RegTestResult,
                   TrimFillResult, ranktest, regtest, trimfill)
from .proportions import (PROPORTION_CI_METHODS, PROPORTION_MEASURES, PooledProportion,
                          StudyProportions, pooled_proportion, study_proportions)
from .glmm import GlmmProportion, proportion_glmm
from .responder import MidUnits, NntResult, mid_units, nnt, nnt_from_counts
from .layers import LayerSpec, combine_layers, combine_layers_frame, layer_spec
from .layers.approaches import LAYER_APPROACHES
from .layers.result import DesignComparison, LayeredResult

__all__ = [
    "pairwise", "PairwiseResult", "meta_regression", "MetaRegressionResult",
    "heterogeneity_ci", "HeterogeneityCI", "leave1out", "LeaveOneOut",
    "subgroups", "SubgroupResult", "rma_batch", "BatchFit", "RmaFit", "METHODS", "CI_METHODS",
    "PooledEstimate", "Pooled", "POOLED_FIELDS",
    "mantel_haenszel", "MantelHaenszelResult", "MH_MEASURES", "peto", "PetoResult",
    "regtest", "RegTestResult", "REGTEST_PREDICTORS", "ranktest", "RankTestResult",
    "trimfill", "TrimFillResult", "TRIMFILL_ESTIMATORS",
    "study_proportions", "StudyProportions", "pooled_proportion", "PooledProportion",
    "PROPORTION_CI_METHODS", "PROPORTION_MEASURES", "proportion_glmm", "GlmmProportion",
    "nnt", "nnt_from_counts", "NntResult", "mid_units", "MidUnits",
    "combine_layers", "combine_layers_frame", "layer_spec", "LayerSpec", "LayeredResult",
    "DesignComparison", "LAYER_APPROACHES",
]
