"""Small-study effects and publication bias (metafor 3.8-1 ``regtest``, ``ranktest``, ``trimfill``).

The implementations live in :mod:`~netstrata.ma.bias.regtest` (Egger's regression test and
variants), :mod:`~netstrata.ma.bias.ranktest` (Begg and Mazumdar's rank correlation test) and
:mod:`~netstrata.ma.bias.trimfill` (Duval and Tweedie's trim and fill). Each accepts effects and
variances, or a fitted ``PairwiseResult``/``RmaFit`` as metafor accepts a fitted model.

References
----------
Egger M, Davey Smith G, Schneider M, Minder C (1997). BMJ 315(7109):629-634. doi:10.1136/bmj.315.7109.629
Begg CB, Mazumdar M (1994). Biometrics 50(4):1088-1101. doi:10.2307/2533446
Duval SJ, Tweedie RL (2000). Biometrics 56(2):455-463. doi:10.1111/j.0006-341x.2000.00455.x
"""
from __future__ import annotations

from .ranktest import RankTestResult, ranktest
from .regtest import REGTEST_PREDICTORS, RegTestResult, regtest
from .trimfill import TRIMFILL_ESTIMATORS, TrimFillResult, trimfill

__all__ = ["regtest", "RegTestResult", "REGTEST_PREDICTORS", "ranktest", "RankTestResult",
           "trimfill", "TrimFillResult", "TRIMFILL_ESTIMATORS"]
