"""``netstrata.pairwise``: random- or common-effect meta-analysis of one comparison (metafor ``rma``).

The public boundary validates once (effects, variances, method, ci, level) and calls the kernel
:func:`netstrata.ma.fit.rma_fit`; the result carries metafor's ``rma``, ``predict`` and (through
:meth:`PairwiseResult.confint`) ``confint`` and :meth:`PairwiseResult.leave1out` numbers.

References
----------
DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. *Control Clin Trials*
7(3):177-188. doi:10.1016/0197-2456(86)90046-2
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
*J Stat Softw* 36(3):1-48. doi:10.18637/jss.v036.i03
Riley, R. D., Higgins, J. P. T. & Deeks, J. J. (2011). Interpretation of random effects
meta-analyses. *BMJ* 342:d549. doi:10.1136/bmj.d549
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._displays import make_display
from .._summary import Summary
from .._validate import as_float_array, check_level, check_option, check_same_length
from ..effects.registry import get_measure
from ..errors import ParameterError, StatisticalWarning
from .confint import heterogeneity_ci
from .estimators import METHODS
from .fit import RmaFit, rma_fit
from .leave1out import leave1out
from .pooled import PooledEstimate, backtransform_columns

__all__ = ["PairwiseResult", "pairwise", "rma", "CI_METHODS", "TESTS", "validate_inputs", "ci_option"]

#: metafor's ``test`` names, accepted (deprecated) for ``ci``: test -> ci.
TESTS = {"z": "wald", "knha": "hksj"}

#: Confidence-interval methods: ``wald`` (z tests) and ``hksj`` (Knapp-Hartung t tests, metafor ``test="knha"``).
CI_METHODS = {"wald": "Wald-type (normal) intervals and z tests",
              "hksj": "Hartung-Knapp-Sidik-Jonkman (metafor test='knha'), t with k-p df"}


def ci_option(ci, *, test=None, knha=None, caller: str, default: str | None = None):
    """The one option name for the interval method: ``ci`` ("wald" or "hksj"); metafor's ``test``
    ("z"/"knha") and the older ``knha`` (True/False) are accepted with a DeprecationWarning.

    ``ci`` equal to the caller's ``default`` counts as not given when an alias is. Returns the
    canonical ``ci`` (None when none of the three was given)."""
    if (test is not None or knha is not None) and ci is not None and ci == default:
        ci = None
    if test is not None:
        test = check_option(test, name="test", allowed=tuple(TESTS), caller=caller)
        warnings.warn(f"{caller}: test={test!r} is metafor's name; use ci={TESTS[test]!r} instead "
                      "(the option is called ci everywhere in netstrata).", DeprecationWarning, stacklevel=3)
        ci = _agree(ci, TESTS[test], "test", caller)
    if knha is not None:
        if not isinstance(knha, (bool, np.bool_)):
            raise ParameterError(f"The 'knha' parameter of {caller} must be True or False. Got {knha!r} instead.")
        warnings.warn(f"{caller}: knha={bool(knha)} is deprecated; use ci={'hksj' if knha else 'wald'!r}.",
                      DeprecationWarning, stacklevel=3)
        ci = _agree(ci, "hksj" if knha else "wald", "knha", caller)
    return None if ci is None else check_option(ci, name="ci", allowed=tuple(CI_METHODS), caller=caller)


def _agree(ci, implied: str, alias: str, caller: str) -> str:
    if ci is not None and str(ci).lower() != implied:
        raise ParameterError(f"{caller}: ci={ci!r} and {alias}= say different things (ci={implied!r}); give ci only.")
    return implied


def validate_inputs(effect, variance, method, ci, level, caller: str):
    """Validate the common arguments; return ``(y, v, method, ci, level)`` in canonical form."""
    method = check_option(method, name="method", allowed=tuple(METHODS), caller=caller)
    ci = check_option(ci, name="ci", allowed=tuple(CI_METHODS), caller=caller)
    level = check_level(level, caller=caller)
    y = as_float_array(effect, name="effect", caller=caller)
    v = as_float_array(variance, name="variance", caller=caller, nonnegative=True)
    check_same_length(caller, effect=y, variance=v)
    if np.any(v == 0):
        i = int(np.flatnonzero(v == 0)[0])
        raise ParameterError(
            f"The 'variance' parameter of {caller} must be positive (inverse-variance weights); "
            f"position {i} is 0.0.")
    with np.errstate(divide="ignore", over="ignore"):
        overflow = ~np.isfinite(1.0 / v)          # a subnormal variance: its weight 1/v is infinite
    if np.any(overflow):
        i = int(np.flatnonzero(overflow)[0])
        raise ParameterError(
            f"The 'variance' parameter of {caller} must be large enough for its weight 1/variance to be "
            f"finite; position {i} is {float(v[i])!r}.")
    if v.max() / v.min() >= 1e7:  # metafor warns at the same ratio (1/evtol)
        warnings.warn(f"{caller}: the ratio of largest to smallest sampling variance is {v.max() / v.min():.3g}; "
                      "results may be unstable (are these variances, not standard errors?).",
                      StatisticalWarning, stacklevel=3)
    return y, v, method, ci, level


@dataclass(frozen=True, slots=True, eq=False)
class PairwiseResult(PooledEstimate):
    """A pairwise meta-analysis: pooled effect, heterogeneity and prediction interval.

    ``i2`` is in percent (as metafor); ``weights`` are percent; ``statistic`` is a z value
    (``ci='wald'``) or a t value with ``df = k - 1`` (``ci='hksj'``); ``pi_low``/``pi_high`` are
    metafor's ``predict()`` bounds, ``estimate ± crit·sqrt(se² + tau2)``; NaN for ``method='FE'``,
    where metafor 3.8-1 reports no prediction interval. ``converged`` is False if the τ² estimator failed.
    ``measure`` is the effect measure (None when not given) and ``study`` the study labels (None
    when not given); the shared pooled-estimate vocabulary is :class:`netstrata.ma.pooled.PooledEstimate`.
    """

    k: int
    method: str
    ci: str
    level: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    pvalue: float
    df: int | None
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    q: float
    q_pvalue: float
    pi_low: float
    pi_high: float
    weights: np.ndarray
    converged: bool
    iterations: int
    fit: RmaFit
    measure: str | None = None
    study: tuple | None = None

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def zval(self) -> float:
        """The test statistic (a t value when ``ci='hksj'``; alias of ``statistic``)."""
        return self.statistic

    @property
    def tval(self) -> float:
        return self.statistic

    @property
    def q_df(self) -> int:
        return self.k - 1

    @property
    def loglik(self) -> float:
        """Log-likelihood: ML for ``method='ML'``, else REML (metafor's reported column)."""
        return self.fit.ll_ml if self.method in ("ML", "FE") else self.fit.ll_reml

    def confint(self, level: float | None = None):
        """Q-profile CIs of τ², τ, I², H² (metafor ``confint``); refused for FE or k < 2."""
        if self.method == "FE":
            raise ParameterError("confint: a common-effect (method='FE') model has no tau2 to bound.")
        if self.k < 2:
            raise ParameterError("confint: at least 2 studies are needed (metafor: 'Stopped because k = 1').")
        lv = None if level is None else check_level(level, caller="confint")
        return heterogeneity_ci(self.fit, lv)

    def leave1out(self):
        """Leave-one-out refits (metafor ``leave1out``)."""
        return leave1out(self.fit)

    def summary(self, backtransf: bool = False) -> Summary:
        """The estimate, prediction interval and heterogeneity as one table (metafor's ``summary``).

        ``backtransf=True`` puts the estimate, its CI and the prediction interval on the natural
        scale of the measure (e.g. risk ratios; metafor's ``predict(res, transf=exp)``).
        """
        pct = f"{100 * self.level:g}%"
        frame = pd.DataFrame(
            {"value": [self.estimate, self.estimate, self.tau2, self.i2, self.h2, self.q],
             "se": [self.se, np.nan, self.se_tau2, np.nan, np.nan, np.nan],
             "ci_low": [self.ci_low, self.pi_low, np.nan, np.nan, np.nan, np.nan],
             "ci_high": [self.ci_high, self.pi_high, np.nan, np.nan, np.nan, np.nan],
             "pvalue": [self.pvalue, np.nan, np.nan, np.nan, np.nan, self.q_pvalue]},
            index=["estimate", "prediction", "tau2", "i2", "h2", "q"])
        if backtransf:
            frame = backtransform_columns(frame, self.measure, ["estimate", "prediction"],
                                          columns=("value", "ci_low", "ci_high"), caller="PairwiseResult.summary")
        test = f"t (df={self.df})" if self.df is not None else "z"
        notes: tuple[str, ...] = (f"k = {self.k}; tau2 by {METHODS[self.method].label}; {test} test; {pct} intervals.",
                 self._scale_note(backtransf))
        if not self.converged:
            notes += ("WARNING: the tau2 estimator did not converge; numbers are not reliable.",)
        return Summary(f"Pairwise meta-analysis ({self.method})", frame, notes)

    def forest(self, **kwargs):
        """Forest plot (metafor's ``forest.rma``): a :class:`netstrata.present.ForestDisplay` with
        ``_repr_svg_`` for Jupyter and ``save(path)``; keyword arguments go to
        ``ForestDisplay.from_result`` (``studies``, ``common``, ``mid_zone``, ``title``, ``favours``)."""
        return make_display("forest", self, **kwargs)

    def __repr__(self) -> str:
        measure = "" if self.measure is None else f", measure={self.measure!r}"
        return (f"PairwiseResult(k={self.k}{measure}, method={self.method!r}, estimate={self.estimate:.4f} "
                f"[{self.ci_low:.4f}, {self.ci_high:.4f}], tau2={self.tau2:.4f})")


def _prediction(fit: RmaFit) -> tuple[float, float]:
    """metafor ``predict()``: estimate ± crit·sqrt(se² + τ²) (crit z or t(k-p)); none for FE."""
    est, se = float(fit.beta[0]), float(fit.se[0])
    if fit.method == "FE":
        return float("nan"), float("nan")
    half = fit.crit * np.sqrt(se * se + fit.tau2)
    return est - half, est + half


def result_from_fit(fit: RmaFit, ci: str, measure: str | None = None, study: tuple | None = None) -> PairwiseResult:
    """Wrap an intercept-only :class:`RmaFit` as a :class:`PairwiseResult`."""
    pi_low, pi_high = _prediction(fit)
    return PairwiseResult(
        k=fit.k, method=fit.method, ci=ci if fit.knha or ci == "wald" else "wald", level=fit.level,
        estimate=float(fit.beta[0]), se=float(fit.se[0]), ci_low=float(fit.ci_low[0]),
        ci_high=float(fit.ci_high[0]), statistic=float(fit.statistic[0]), pvalue=float(fit.pvalue[0]),
        df=fit.df, tau2=fit.tau2, se_tau2=fit.se_tau2, i2=fit.i2, h2=fit.h2, q=fit.q,
        q_pvalue=fit.q_pvalue, pi_low=float(pi_low), pi_high=float(pi_high), weights=fit.weights,
        converged=fit.converged, iterations=fit.iterations, fit=fit, measure=measure, study=study)


def _from_frame(frame: pd.DataFrame, variance, measure, study, caller: str):
    """Effects, variances, measure and labels of a frame from ``effect_sizes`` (or any frame with
    ``effect``/``variance``, metafor's ``yi``/``vi``, or ``se``/``sei``); rows without an effect or
    variance are left out with a warning naming them (metafor: "Studies with NAs omitted")."""
    if variance is not None:
        raise ParameterError(f"{caller}: with a DataFrame as first argument the variances come from its "
                             "'variance' column; do not pass variance as well.")
    cols = set(frame.columns)
    y_col = next((c for c in ("effect", "yi") if c in cols), None)
    v_col = next((c for c in ("variance", "vi") if c in cols), None)
    s_col = next((c for c in ("se", "sei") if c in cols), None)
    if y_col is None or (v_col is None and s_col is None):
        raise ParameterError(f"{caller}: the DataFrame needs an 'effect' column and a 'variance' (or 'se') "
                             f"column, as netstrata.effect_sizes returns; it has {list(frame.columns)}.")
    y = pd.to_numeric(frame[y_col], errors="coerce").to_numpy(dtype=float)
    v = (pd.to_numeric(frame[v_col], errors="coerce").to_numpy(dtype=float) if v_col is not None
         else pd.to_numeric(frame[s_col], errors="coerce").to_numpy(dtype=float) ** 2)
    attached = frame.attrs.get("measure")
    if measure is not None and attached is not None and get_measure(measure).code != get_measure(attached).code:
        raise ParameterError(f"{caller}: measure={measure!r} but the effect sizes were computed as {attached!r}.")
    measure = measure if measure is not None else attached
    if study is None and "study" in cols:
        study = frame["study"].tolist()
    keep = np.isfinite(y) & np.isfinite(v)
    if not keep.all():
        labels = [str(x) for x in (study if study is not None else frame.index)]
        gone = [labels[i] for i in np.flatnonzero(~keep)]
        warnings.warn(f"{caller}: {len(gone)} stud{'y' if len(gone) == 1 else 'ies'} without an effect or variance "
                      f"left out (as metafor omits NAs): {', '.join(gone)}.", StatisticalWarning, stacklevel=3)
        y, v = y[keep], v[keep]
        study = None if study is None else [s for s, k in zip(study, keep) if k]
    return y, v, measure, study


def _labels(study, k: int, caller: str) -> tuple | None:
    if study is None:
        return None
    labels = tuple(study)
    if len(labels) != k:
        raise ParameterError(f"The 'study' parameter of {caller} must have {k} labels (one per study). "
                             f"Got {len(labels)}.")
    return labels


def pairwise(effect, variance=None, *, method: str = "REML", ci: str = "wald", level: float = 0.95,
             measure: str | None = None, study=None, test: str | None = None) -> PairwiseResult:
    """Meta-analyse ``effect`` with sampling ``variance`` (metafor ``rma(yi, vi, method=, test=)``).

    Parameters
    ----------
    effect, variance : array-like (k,), or a DataFrame and None
        Study effects (e.g. log odds ratios) and their sampling variances (> 0); or the frame
        that :func:`netstrata.effect_sizes` returns (``pairwise(es)``, metafor's ``rma(yi, vi,
        data=es)``): its ``effect`` and ``variance`` columns, its measure (``attrs``) and its
        ``study`` column are used, and rows without an effect are left out with a warning.
    method : {'REML', 'DL', 'PM', 'ML', 'HE', 'SJ', 'HS', 'EB', 'FE'}
        τ² estimator (metafor 3.8-1 algorithms, defaults and stopping rules); 'FE' = common effect.
    ci : {'wald', 'hksj'}
        'hksj' = Knapp-Hartung (metafor ``test="knha"``): t tests with k-1 df and scaled SE.
    level : float
        Confidence level, 0.95 or 95.
    measure : str, optional
        Effect measure of ``effect`` (a code of ``netstrata.effects.MEASURES``); lets the result
        back-transform (``summary(backtransf=True)``). Taken from the frame when one is given.
    study : sequence, optional
        Study labels (forest plots, leave-one-out).
    test : {'z', 'knha'}, optional
        Deprecated: metafor's name for ``ci`` ('z' = 'wald', 'knha' = 'hksj').

    Returns
    -------
    PairwiseResult

    Notes
    -----
    With k = 1 the study itself is returned with tau2 = 0 and a Wald interval (as metafor, which
    also sets ``test="z"``); a :class:`~netstrata.errors.StatisticalWarning` says so. If an
    iterative estimator does not converge (metafor stops with an error) the result has
    ``converged=False`` and a :class:`~netstrata.errors.ConvergenceWarning` is emitted.

    Examples
    --------
    >>> import netstrata
    >>> y = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01]
    >>> v = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004]
    >>> res = netstrata.pairwise(y, v)
    >>> res
    PairwiseResult(k=8, method='REML', estimate=-0.9015 [-1.3800, -0.4230], tau2=0.3605)
    >>> round(res.i2, 1), round(res.pi_low, 4), round(res.pi_high, 4)
    (93.1, -2.1718, 0.3688)
    >>> netstrata.pairwise(y, v, method="DL", ci="hksj").df
    7
    >>> es = netstrata.effect_sizes("RR", ai=[4, 6], n1i=[123, 306], ci=[11, 29], n2i=[139, 303])
    >>> res = netstrata.pairwise(es)
    >>> res.measure, [round(float(x), 4) for x in res.backtransform([res.estimate, res.ci_low, res.ci_high])]
    ('RR', [0.2658, 0.1341, 0.5268])
    """
    caller = "pairwise"
    ci = ci_option(ci, test=test, caller=caller, default="wald")
    if isinstance(effect, pd.DataFrame):
        effect, variance, measure, study = _from_frame(effect, variance, measure, study, caller)
    elif variance is None:
        raise ParameterError(f"{caller} needs variance= with the effects (or a DataFrame from effect_sizes "
                             "as the only argument).")
    measure = None if measure is None else get_measure(measure, caller=caller).code
    y, v, method, ci, level = validate_inputs(effect, variance, method, ci, level, caller)
    labels = _labels(study, y.size, caller)
    if y.size == 1 and method != "FE":
        warnings.warn("pairwise: only 1 study; tau2 cannot be estimated and is set to 0 "
                      "(Wald interval), as metafor does.", StatisticalWarning, stacklevel=2)
    fit = rma_fit(y, v, None, method, ci == "hksj", level)
    return result_from_fit(fit, ci, measure, labels)


def rma(effect, variance, *, X=None, method: str = "REML", ci: str = "wald", level: float = 0.95,
        test: str | None = None) -> RmaFit:
    """Low-level: metafor's ``rma.uni(yi, vi, mods = X, intercept = FALSE, method =, test =)``.

    Most users want :func:`pairwise` (no moderators; a documented, frozen result) or
    :func:`netstrata.ma.meta_regression` (moderators by name). This one takes a (k, p) design
    matrix ``X`` (``None`` = intercept only), finite and of full column rank, with any
    intercept column first, and returns the kernel's :class:`RmaFit`. ``ci`` as in
    :func:`pairwise`; ``test`` ("z"/"knha") is metafor's deprecated spelling of it.
    """
    caller = "rma"
    ci = ci_option(ci, test=test, caller=caller, default="wald")
    y, v, method, ci, level = validate_inputs(effect, variance, method, ci, level, caller)
    if X is not None:
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[0] != y.size or not np.all(np.isfinite(X)):
            raise ParameterError(f"The 'X' parameter of {caller} must be a finite ({y.size}, p) matrix; "
                                 f"got shape {X.shape}.")
        if np.linalg.matrix_rank(X) < X.shape[1]:
            raise ParameterError(f"The 'X' parameter of {caller} is not of full column rank "
                                 "(metafor: 'Model matrix not of full rank').")
        if X.shape[1] + (0 if method == "FE" else 1) > y.size:
            raise ParameterError(f"{caller}: more parameters than studies ({X.shape[1]} coefficients, k={y.size}).")
    return rma_fit(y, v, X, method, ci == "hksj", level)
