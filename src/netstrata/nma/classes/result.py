"""ClassNetworkResult (frozen result of :func:`netstrata.class_network`) and ClassComparison."""
from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd
from ..._dist import chi2_sf

from ..._summary import Summary
from ..._validate import check_option
from ...ma.pooled import backtransform_columns
from .fit import CLASS_MODELS, EFFECTS, ClassFit, ClassInputs, fit_class_model
from ..kernel import pscores, resistance
from ..result import LeagueCI
from ..summary import scale_note
from ..tables import wald

__all__ = ["ClassNetworkResult", "ClassComparison", "LikelihoodRatioTest", "mixture_pvalue"]


class LikelihoodRatioTest(NamedTuple):
    """Common versus exchangeable class model (ML): ``statistic = 2 (logL_exch - logL_common)``."""

    statistic: float
    df: int
    pvalue: float        # chi-bar-square mixture (variances on the boundary; Self & Liang 1987)
    pvalue_chi2: float   # naive chi-square with df degrees of freedom (conservative)
    note: str


def mixture_pvalue(statistic: float, df: int) -> float:
    """P-value of ``statistic`` under the 50:50-type mixture ``Σ_j C(df, j) 2^-df χ²_j`` (χ²_0 a
    point mass at 0) for df variances tested at their boundary 0 (Self & Liang 1987,
    doi:10.1080/01621459.1987.10478472; Stram & Lee 1994, doi:10.2307/2533455)."""
    if df <= 0 or not np.isfinite(statistic):
        return float("nan")
    total = 1.0 if statistic <= 0 else 0.0
    total *= 0.5 ** df
    for j in range(1, df + 1):
        total += comb(df, j) * 0.5 ** df * float(chi2_sf(max(statistic, 0.0), j))
    return float(min(total, 1.0))


@dataclass(frozen=True, slots=True)
class ClassComparison:
    """The three class models side by side (``compare()``): ``models`` (log-likelihood and AIC by
    ML, tau², parameters), ``lrt`` (common versus exchangeable), ``shrinkage`` per treatment and
    ``sigma2`` (the exchangeable model's within-class variances, ML)."""

    effects: str
    method: str
    models: pd.DataFrame
    lrt: LikelihoodRatioTest
    shrinkage: pd.DataFrame
    sigma2: pd.Series

    def to_frame(self) -> pd.DataFrame:
        return self.models.copy()

    def to_dict(self) -> dict:
        return {"effects": self.effects, "method": self.method,
                "models": self.models.to_dict("records"), "lrt": self.lrt._asdict(),
                "shrinkage": self.shrinkage.to_dict("records"),
                "sigma2": {str(k): float(v) for k, v in self.sigma2.items()}}

    def summary(self) -> Summary:
        notes = (f"Log-likelihoods and AIC by maximum likelihood ({self.effects} effects): REML "
                 "likelihoods are not comparable between models with different fixed effects.",
                 f"Likelihood-ratio test, common versus exchangeable: {self.lrt.note}")
        return Summary(title="Class models compared", frame=self.models.set_index("model"), notes=notes)


def _shrink_note(treatment: str, reference: str, size: int) -> str:
    if treatment == reference:
        return "reference (fixed at 0)"
    if size < 2:
        return "only member of its class: no within-class variance, its effect is the class effect"
    return ""


@dataclass(frozen=True, slots=True)
class ClassNetworkResult:
    """Class-effect network meta-analysis (see :func:`netstrata.class_network`).

    Matrices are n × n DataFrames over treatments, cell [i, j] = i versus j, as
    :class:`~netstrata.nma.NetworkResult`.  ``model`` is the class model; the ``model`` argument
    of the accessors is the effects model ("common": tau² = 0, "random": tau² estimated).
    """

    treatments: tuple[str, ...]
    classes: tuple[str, ...]
    class_of: Mapping[str, str]
    reference: str
    model: str
    method: str
    small_values: str
    level: float
    sigma2_option: str
    fits: Mapping[str, ClassFit]
    inputs: ClassInputs
    excluded: pd.DataFrame
    notes: tuple[str, ...]
    measure: str | None = None     # effect measure of the contrasts (None when not given)

    # ------------------------------------------------------------------ estimates
    def _fit(self, model: str) -> ClassFit:
        return self.fits[check_option(model, name="model", allowed=EFFECTS, caller="ClassNetworkResult")]

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=list(self.treatments), columns=list(self.treatments))

    def league(self, model: str = "random") -> pd.DataFrame:
        """Estimates, cell [i, j] = i versus j."""
        d = self._fit(model).effects
        return self._frame(d[:, None] - d[None, :])

    def league_se(self, model: str = "random") -> pd.DataFrame:
        """Standard errors of the league cells: ``sqrt(P_ii + P_jj - 2 P_ij)``, P the
        prediction-error covariance of the treatment effects."""
        return self._frame(np.sqrt(resistance(self._fit(model).cov)))

    def league_ci(self, model: str = "random") -> LeagueCI:
        lo, hi, _, _ = wald(self.league(model).to_numpy(), self.league_se(model).to_numpy(), self.level)
        return LeagueCI(self._frame(lo), self._frame(hi))

    def estimates(self, model: str = "random") -> pd.DataFrame:
        """Every treatment versus the reference, with its class."""
        te, se = self.league(model)[self.reference], self.league_se(model)[self.reference]
        lo, hi, z, p = wald(te.to_numpy(), se.to_numpy(), self.level)
        return pd.DataFrame({"class": [self.class_of[t] for t in self.treatments], "effect": te, "se": se,
                             "ci_low": lo, "ci_high": hi, "z": z, "pvalue": p})

    def p_scores(self, model: str = "random", small_values: str | None = None) -> pd.Series:
        """P-scores (Rücker & Schwarzer 2015, doi:10.1186/s12874-015-0060-8) of the class model."""
        sv = self.small_values if small_values is None else check_option(
            small_values, name="small_values", allowed=("desirable", "undesirable"), caller="p_scores")
        te, se = self.league(model).to_numpy(), self.league_se(model).to_numpy()
        with np.errstate(invalid="ignore"):
            return pd.Series(pscores(te, se, sv == "desirable"), index=list(self.treatments), name="p_score")

    # ------------------------------------------------------------------ variances
    @property
    def tau2(self) -> float:
        """Between-study variance of the random-effects fit."""
        return self.fits["random"].tau2

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def loglik(self) -> float:
        """(Restricted) log-likelihood of the random-effects fit (``method``)."""
        return self.fits["random"].loglik

    @property
    def converged(self) -> bool:
        return all(f.converged for f in self.fits.values())

    @property
    def sigma2_class(self) -> pd.Series:
        """Within-class variance per class (random-effects fit): NaN for a one-member class, for
        the independent and common models; one value repeated with ``sigma2="shared"``."""
        return pd.Series(self.fits["random"].sigma2, index=list(self.classes), name="sigma2")

    def class_estimates(self, model: str = "random") -> pd.DataFrame:
        """Class effects versus the reference's class (0 by construction): estimate, se, CI,
        members and within-class variance (NaN for the independent model: it has no class
        effect)."""
        f = self._fit(model)
        se = np.sqrt(np.maximum(np.diag(f.class_cov), 0.0))
        lo, hi, z, p = wald(f.class_effects, se, self.level)
        members = ["; ".join(t for t in self.treatments if self.class_of[t] == c) for c in self.classes]
        return pd.DataFrame({"members": members, "estimate": f.class_effects, "se": se, "ci_low": lo,
                             "ci_high": hi, "z": z, "pvalue": p, "sigma2": f.sigma2},
                            index=pd.Index(list(self.classes), name="class"))

    @property
    def class_effects(self) -> pd.DataFrame:
        """:meth:`class_estimates` of the random-effects fit."""
        return self.class_estimates("random")

    # ------------------------------------------------------------------ model comparison
    def _fits_of(self, reml: bool, effects: str) -> dict[str, ClassFit]:
        """The three models fitted by (RE)ML; the exchangeable one last, started from the others."""
        same = reml == (self.method == "REML")
        out: dict[str, ClassFit] = {}
        for m in ("independent", "common", "exchangeable"):
            known = {k: f.tau2 for k, f in out.items()}
            out[m] = (self.fits[effects] if same and m == self.model else
                      fit_class_model(self.inputs, m, reml=reml, effects=effects, known=known))
        return {m: out[m] for m in CLASS_MODELS}

    def compare(self, model: str = "random") -> ClassComparison:
        """Independent, exchangeable and common class models side by side (Perren et al. 2025).

        Log-likelihoods, AIC and the likelihood-ratio test use maximum likelihood (REML
        likelihoods are not comparable across different fixed effects); estimates and
        ``shrinkage`` use ``method``.  ``shrinkage`` = (independent - exchangeable) /
        (independent - class effect): 0 keeps the treatment's own estimate, 1 pulls it onto its
        class effect.
        """
        effects = check_option(model, name="model", allowed=EFFECTS, caller="compare")
        ml = self._fits_of(False, effects)
        rows = []
        for m, f in ml.items():
            rows.append({"model": m, "assumption": CLASS_MODELS[m], "n_parameters": f.n_parameters,
                         "loglik": f.loglik, "aic": -2 * f.loglik + 2 * f.n_parameters, "tau2": f.tau2,
                         "converged": f.converged})
        frame = pd.DataFrame(rows)
        frame["delta_aic"] = frame["aic"] - frame["aic"].min()
        lrt = self._lrt(ml)
        est = ml if self.method == "ML" else self._fits_of(True, effects)
        sizes = pd.Series([self.class_of[t] for t in self.treatments]).value_counts()
        shrink = []
        for i, t in enumerate(self.treatments):
            c = self.class_of[t]
            ci = self.classes.index(c)
            ind, ex = est["independent"].effects[i], est["exchangeable"].effects[i]
            mean = est["exchangeable"].class_effects[ci]
            note = _shrink_note(t, self.reference, int(sizes[c]))
            with np.errstate(invalid="ignore", divide="ignore"):
                s = (ind - ex) / (ind - mean) if not note else np.nan
            shrink.append({"treatment": t, "class": c, "independent": ind, "exchangeable": ex,
                           "class_effect": mean, "common": est["common"].effects[i], "shrinkage": s, "note": note})
        sigma2 = pd.Series(ml["exchangeable"].sigma2, index=list(self.classes), name="sigma2")
        return ClassComparison(effects, "ML", frame, lrt, pd.DataFrame(shrink), sigma2)

    def _lrt(self, ml: dict[str, ClassFit]) -> LikelihoodRatioTest:
        df = self.inputs.designs["exchangeable"].n_sigma
        if df == 0:
            return LikelihoodRatioTest(np.nan, 0, np.nan, np.nan,
                                       "not defined: no class has two or more members, so the exchangeable "
                                       "and common class models coincide")
        stat = max(0.0, 2 * (ml["exchangeable"].loglik - ml["common"].loglik))
        p, p_naive = mixture_pvalue(stat, df), float(chi2_sf(stat, df))
        return LikelihoodRatioTest(stat, df, p, p_naive,
                                   f"statistic {stat:.4g} on {df} within-class variance(s) tested at 0; "
                                   f"p = {p:.4g} (chi-bar-square mixture), {p_naive:.4g} (chi-square)")

    # ------------------------------------------------------------------ presentation
    def summary(self, model: str = "random", backtransf: bool = False) -> Summary:
        """Every treatment versus the reference with its class and P-score; ``backtransf=True``
        puts effects and CIs on the natural scale of the measure."""
        frame = self.estimates(model)
        frame["p_score"] = self.p_scores(model)
        if backtransf:
            frame = backtransform_columns(frame, self.measure, columns=("effect", "ci_low", "ci_high"),
                                          caller="ClassNetworkResult.summary")
        f = self._fit(model)
        notes = [f"{CLASS_MODELS[self.model]} ({self.model} class model); {model} effects; "
                 f"tau2 = {f.tau2:.4g} ({self.method}); log-likelihood {f.loglik:.4f}; "
                 f"reference {self.reference!r}.",
                 "within-class variance: " + ", ".join(f"{c} {v:.4g}" for c, v in zip(self.classes, f.sigma2)
                                                        if np.isfinite(v)) if np.isfinite(f.sigma2).any()
                 else "no within-class variance in this model"]
        notes += [scale_note(self.measure, backtransf), *self.notes]
        return Summary(title=f"Class-effect network meta-analysis ({self.model} class model)", frame=frame,
                       notes=tuple(notes))

    def __repr__(self) -> str:
        return (f"ClassNetworkResult(model={self.model!r}, treatments={len(self.treatments)}, "
                f"classes={len(self.classes)}, method={self.method!r}, reference={self.reference!r}, "
                f"tau2={self.tau2:.4f})")
