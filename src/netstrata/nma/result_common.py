"""What every network-type result derives the same way from its league tables and Q.

Mixins for the frozen result dataclasses (``NetworkResult``, ``ComponentNetworkResult``): Wald
intervals, z and p of every comparison from ``league(model)`` / ``league_se(model)``, the
estimates versus a reference, and I² with its interval from ``_i2()``.  A result provides
``league``, ``league_se``, ``treatments``, ``reference``, ``level``, ``_frame`` and ``_i2``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from .._validate import check_option
from .tables import wald

__all__ = ["LeagueCI", "EffectSE", "PredictionIntervals", "WaldLeague", "I2Interval", "EFFECT_COLUMNS"]

EFFECT_COLUMNS = ["effect", "se", "ci_low", "ci_high", "z", "pvalue"]


class LeagueCI(NamedTuple):
    """Confidence bounds of every comparison (n × n, cell [i, j] = i versus j)."""

    ci_low: pd.DataFrame
    ci_high: pd.DataFrame


class EffectSE(NamedTuple):
    """Estimates and their standard errors (n × n; netmeta's TE.* and seTE.*)."""

    effect: pd.DataFrame
    se: pd.DataFrame


class PredictionIntervals(NamedTuple):
    """Prediction intervals of every comparison (netmeta's seTE.predict, lower.predict, upper.predict)."""

    se: pd.DataFrame
    pi_low: pd.DataFrame
    pi_high: pd.DataFrame


class WaldLeague:
    """``league_ci``, ``league_z``, ``league_pvalue`` and ``estimates`` (meta's ``ci``)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the result mixing this in provides (see the module docstring)
        reference: str
        level: float

        @property
        def treatments(self) -> tuple[str, ...]: ...

        def league(self, model: str = "random") -> pd.DataFrame: ...

        def league_se(self, model: str = "random") -> pd.DataFrame: ...

        def _frame(self, values: np.ndarray) -> pd.DataFrame: ...

    def _league_wald(self, model: str):
        with np.errstate(invalid="ignore", divide="ignore"):
            return wald(self.league(model).to_numpy(), self.league_se(model).to_numpy(), self.level)

    def league_ci(self, model: str = "random") -> LeagueCI:
        """(ci_low, ci_high) at ``level`` (netmeta lower.common / upper.common ...)."""
        lo, hi, _, _ = self._league_wald(model)
        return LeagueCI(self._frame(lo), self._frame(hi))

    def league_z(self, model: str = "random") -> pd.DataFrame:
        return self._frame(self._league_wald(model)[2])

    def league_pvalue(self, model: str = "random") -> pd.DataFrame:
        return self._frame(self._league_wald(model)[3])

    def estimates(self, model: str = "random", reference: str | None = None) -> pd.DataFrame:
        """Every treatment versus ``reference`` (default: the fit's reference)."""
        ref = self.reference if reference is None else check_option(
            str(reference), name="reference", allowed=self.treatments, caller="estimates", ignore_case=False)
        te, se = self.league(model)[ref], self.league_se(model)[ref]
        with np.errstate(invalid="ignore", divide="ignore"):
            lo, hi, z, p = wald(te.to_numpy(), se.to_numpy(), self.level)
        return pd.DataFrame(dict(zip(EFFECT_COLUMNS, (te, se, lo, hi, z, p))))


class I2Interval:
    """``i2``, ``i2_ci_low``, ``i2_ci_high`` in percent from ``_i2()``."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by the result mixing this in
        def _i2(self) -> tuple[float, float, float]: ...

    @property
    def i2(self) -> float:
        """I² in percent (Higgins & Thompson 2002, doi:10.1002/sim.1186)."""
        return self._i2()[0]

    @property
    def i2_ci_low(self) -> float:
        return self._i2()[1]

    @property
    def i2_ci_high(self) -> float:
        return self._i2()[2]
