"""netstrata.ma: pairwise meta-analysis (metafor 3.8-1 ``rma.uni`` parity).

Public functions: :func:`pairwise` (``rma`` + ``predict``), :func:`meta_regression`
(``rma(mods=)``), :func:`subgroups`, :func:`heterogeneity_ci` (``confint``, Q-profile),
:func:`leave1out`; the kernel :func:`rma_fit` (any design matrix, used by the small-study tests);
binary-outcome pooling :func:`mantel_haenszel` (``rma.mh``) and :func:`peto` (``rma.peto``);
small-study effects :func:`regtest`, :func:`ranktest`, :func:`trimfill`; single-arm rates
:func:`study_proportions`, :func:`pooled_proportion`, :func:`proportion_glmm` (``rma.glmm``, PLO);
responder helpers :func:`nnt`, :func:`mid_units`; randomised and non-randomised evidence side by side
(:func:`combine_layers`: separate, subgroup, moderator or bias-adjusted down-weighting).
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
from .mh import MH_MEASURES, MantelHaenszelResult, mantel_haenszel
from .peto import PetoResult, peto
from .bias import (REGTEST_PREDICTORS, TRIMFILL_ESTIMATORS, RankTestResult, RegTestResult,
                   TrimFillResult, ranktest, regtest, trimfill)
from .proportions import (PROPORTION_CI_METHODS, PROPORTION_MEASURES, PooledProportion,
                          StudyProportions, pooled_proportion, study_proportions)
from .glmm import GlmmProportion, proportion_glmm
from .responder import MidUnits, NntResult, mid_units, nnt, nnt_from_counts
from .layers import LayerSpec, combine_layers, combine_layers_frame, layer_spec
from .layers_registry import LAYER_APPROACHES
from .layers_result import DesignComparison, LayeredResult

__all__ = [
    "pairwise", "PairwiseResult", "rma", "meta_regression", "MetaRegressionResult",
    "heterogeneity_ci", "HeterogeneityCI", "leave1out", "LeaveOneOut",
    "subgroups", "SubgroupResult", "rma_batch", "BatchFit", "rma_fit", "RmaFit", "METHODS", "CI_METHODS",
    "mantel_haenszel", "MantelHaenszelResult", "MH_MEASURES", "peto", "PetoResult",
    "regtest", "RegTestResult", "REGTEST_PREDICTORS", "ranktest", "RankTestResult",
    "trimfill", "TrimFillResult", "TRIMFILL_ESTIMATORS",
    "study_proportions", "StudyProportions", "pooled_proportion", "PooledProportion",
    "PROPORTION_CI_METHODS", "PROPORTION_MEASURES", "proportion_glmm", "GlmmProportion",
    "nnt", "nnt_from_counts", "NntResult", "mid_units", "MidUnits",
    "combine_layers", "combine_layers_frame", "layer_spec", "LayerSpec", "LayeredResult",
    "DesignComparison", "LAYER_APPROACHES",
]
