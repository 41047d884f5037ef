"""Threshold analysis of a network meta-analysis (Phillippo et al. 2018, 2019; nmathresh).

:func:`threshold` reads a fitted :class:`~netstrata.nma.NetworkResult`; :func:`threshold_analysis`
takes the ingredients directly (means and covariance of the treatment effects, design matrix and
likelihood covariance of the data points, e.g. a Bayesian posterior as in nmathresh's vignette);
:func:`reconstruct_likelihood` is nmathresh's ``recon_vcov``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..._dist import norm_ppf
from ..._validate import check_option
from ...errors import DataError, ParameterError, Problem
from ..result import MODELS, NetworkResult
from .inputs import contrast_inputs, network_means, study_inputs
from .kernel import Reconstruction, contrast_pairs, nma_thresh, recon_vcov
from .result import ThresholdResult, threshold_table

__all__ = ["threshold", "threshold_analysis", "reconstruct_likelihood", "DECISIONS", "LEVELS"]

#: decision rules (registry data: code -> meaning)
DECISIONS = {"best": "the treatment with the best estimated effect is recommended (with a MID: another "
                     "treatment must be better by at least the MID to change it)",
             "mid": "recommended are the treatments better than the reference by at least the MID and "
                    "within the MID of the best"}
LEVELS = ("study", "contrast")
Z95 = float(norm_ppf(0.975))


def _matrix(value, name: str, shape: tuple[int, int]) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"The '{name}' parameter of threshold_analysis must be numeric.") from None
    if arr.shape != shape:
        raise ParameterError(f"The '{name}' parameter of threshold_analysis must have shape {shape}; "
                             f"got {arr.shape}.")
    return arr


def _rule(decision: str, mid, caller: str) -> tuple[float, str]:
    decision = check_option(decision, name="decision", allowed=tuple(DECISIONS), caller=caller)
    if mid is None:
        if decision == "mid":
            raise ParameterError(f"decision='mid' of {caller} needs a minimal important difference: give "
                                 "mid= (a positive number on the analysis scale, e.g. log(1.25) for RR 1.25).")
        return 0.0, "decision"
    m = float(mid)
    if not (np.isfinite(m) and m > 0):
        raise ParameterError(f"The 'mid' parameter of {caller} must be a positive number on the analysis "
                             f"scale. Got {mid!r} instead.")
    return m, ("decision" if decision == "mid" else "change")


def threshold_analysis(mean, covariance, design, likelihood, *, treatments=None,
                       small_values: str = "desirable", decision: str = "best", mid: float | None = None,
                       rank: int = 1, subset=None, labels=None, effect=None, ci=None,
                       zero_tol: float = 1e-10) -> ThresholdResult:
    """Threshold analysis from its ingredients (nmathresh ``nma_thresh``, fixed-effect form).

    Parameters
    ----------
    mean : array (K-1,)
        Estimates of the treatment effects d_2..d_K versus the reference (posterior means).
    covariance : array (K-1, K-1)
        Their covariance (posterior covariance).
    design : array (N, K-1)
        Design matrix of the N data points on d (+1 at the treatment, -1 at its comparator
        unless that is the reference).
    likelihood : array (N, N) or (N,)
        Covariance matrix (or variances) of the data points; infinite variances are allowed.
    treatments : sequence of K labels, optional
        Reference first, then the treatments of ``mean`` (default "1" .. "K", nmathresh's codes).
    small_values : {"desirable", "undesirable"}
        ``desirable``: the lowest d_k is best (nmathresh ``opt.max = FALSE``).
    decision : {"best", "mid"}, default="best"
        ``best``: the best treatment (with ``mid``: a switch only when another treatment is better
        by at least ``mid``, nmathresh ``mcid.type = "change"``); ``mid``: the set of treatments at
        least ``mid`` better than the reference and within ``mid`` of the best
        (``mcid.type = "decision"``; needs ``mid``).
    mid : float, optional
        Minimal important difference on the analysis scale (> 0).
    rank : int, default=1
        Thresholds for the treatment of this rank (nmathresh ``trt.rank``).
    subset : sequence of labels, optional
        Decide among these treatments only (``trt.sub``).
    labels, effect, ci :
        Data point labels, estimates ``y`` (for the invariant intervals ``y + [lo, hi]``) and
        confidence intervals (default ``y ± 1.96 sqrt(diag(likelihood))``).
    zero_tol : float, default=1e-10
        Influences ``|D H|`` below this are exact zeros (no threshold; see the kernel module).

    Returns
    -------
    ThresholdResult

    References
    ----------
    Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). J R Stat Soc A 181:843-867.
    doi:10.1111/rssa.12341
    Phillippo DM, Dias S, Welton NJ, et al. (2019). Ann Intern Med 170:538-546. doi:10.7326/M18-3542
    """
    caller = "threshold_analysis"
    mean = np.atleast_1d(np.asarray(mean, dtype=float))
    if mean.ndim != 1 or mean.size == 0:
        raise DataError(Problem("threshold analysis needs at least two treatments (one effect versus the "
                                "reference)", found=f"{mean.size} effect(s)", expected="K - 1 >= 1 effects"))
    if not np.all(np.isfinite(mean)):
        raise ParameterError(f"The 'mean' parameter of {caller} must contain finite numbers.")
    K = mean.size + 1
    post = _matrix(covariance, "covariance", (K - 1, K - 1))
    X = np.asarray(design, dtype=float)
    if X.ndim != 2 or X.shape[1] != K - 1 or X.shape[0] == 0:
        raise ParameterError(f"The 'design' parameter of {caller} must be an N x {K - 1} matrix; got shape "
                             f"{X.shape}.")
    N = X.shape[0]
    lik = np.asarray(likelihood, dtype=float)
    lik = np.diag(lik) if lik.ndim == 1 else lik
    lik = _matrix(lik, "likelihood", (N, N))
    codes = tuple(str(t) for t in (treatments if treatments is not None else range(1, K + 1)))
    if len(codes) != K or len(set(codes)) != K:
        raise ParameterError(f"The 'treatments' parameter of {caller} must give {K} distinct labels "
                             "(reference first).")
    sv = check_option(small_values, name="small_values", allowed=("desirable", "undesirable"), caller=caller)
    mcid, mcid_type = _rule(decision, mid, caller)
    if not (isinstance(rank, (int, np.integer)) and 1 <= rank <= K):
        raise ParameterError(f"The 'rank' parameter of {caller} must be an integer in [1, {K}]. Got {rank!r}.")
    if mcid_type == "decision" and mcid > 0 and rank > 1:
        raise ParameterError("A decision by MID and rank > 1 cannot be combined (as nmathresh).")
    sub = None
    if subset is not None:
        bad = [s for s in subset if str(s) not in codes]
        if bad:
            raise ParameterError(f"The 'subset' parameter of {caller} names unknown treatments: {bad}.")
        sub = np.array([codes.index(str(s)) for s in subset])
        if rank > len(sub):
            raise ParameterError(f"The 'rank' parameter of {caller} exceeds the size of 'subset'.")
    arr = nma_thresh(mean, lik, post, X, opt_max=sv == "undesirable", rank=int(rank), sub=sub, mcid=mcid,
                     mcid_type=mcid_type, zero_tol=zero_tol)
    points = _points(labels, effect, ci, np.sqrt(np.diag(lik)), N)
    return _result("custom", None, decision, mid, codes, arr, points)


def _points(labels, effect, ci, se, N: int) -> pd.DataFrame:
    labels = [str(x) for x in labels] if labels is not None else [str(i + 1) for i in range(N)]
    y = np.full(N, np.nan) if effect is None else np.asarray(effect, dtype=float)
    if len(labels) != N or y.shape != (N,):
        raise ParameterError(f"'labels' and 'effect' of threshold_analysis must have one entry per data point ({N}).")
    out = pd.DataFrame({"data_point": labels, "effect": y, "se": se})
    if ci is not None:
        lo, hi = (np.asarray(c, dtype=float) for c in ci)
        out["ci_low"], out["ci_high"] = lo, hi
    return out


def _result(level, model, decision, mid, codes, arr, points, notes=()) -> ThresholdResult:
    K = len(codes)
    a, b = contrast_pairs(K)
    rows = [f"d[{codes[i]},{codes[j]}]" for i, j in zip(a, b)]
    cols = list(points["data_point"])
    H = pd.DataFrame(arr.H, index=[f"d[{c}]" for c in codes[1:]], columns=cols)
    U = pd.DataFrame(arr.U, index=rows, columns=cols)
    Uk = pd.DataFrame(arr.Ukstar, index=[rows[r] for r in arr.rows], columns=cols)
    table = threshold_table(arr, codes, points, Z95)
    kstar = tuple(codes[k] for k in arr.kstar)
    return ThresholdResult(level, model, decision, None if mid is None else float(mid), codes, kstar, table,
                           H, U, Uk, arr, tuple(notes))


def reconstruct_likelihood(covariance, design, *, prior_precision=1e-4, prior_covariance=None) -> Reconstruction:
    """Contrast-level likelihood variances that reproduce ``covariance`` (nmathresh ``recon_vcov``,
    Phillippo et al. 2018 section 4.2, by non-negative least squares); ``prior_precision=0`` for a
    frequentist covariance.  ``variances`` follow the rows of ``design``."""
    post = np.asarray(covariance, dtype=float)
    X = np.asarray(design, dtype=float)
    if post.ndim != 2 or post.shape[0] != post.shape[1] or X.ndim != 2 or X.shape[1] != post.shape[0]:
        raise ParameterError("reconstruct_likelihood needs a square covariance and a design with one column "
                             "per row of it.")
    if not np.all(np.isin(X, (-1.0, 0.0, 1.0))) or np.any((X == 1).sum(axis=1) != 1) or np.any((X == -1).sum(axis=1) > 1):
        raise ParameterError("reconstruct_likelihood needs a contrast design: each row +1 at one treatment "
                             "and at most one -1.")
    return recon_vcov(post, X, prior_precision=prior_precision, prior_covariance=prior_covariance)


# ------------------------------------------------------------------ from a fitted network

def threshold(network_result, *, level: str = "study", model: str = "common", decision: str = "best",
              mid: float | None = None) -> ThresholdResult:
    """Threshold analysis of a fitted network (Phillippo et al. 2018 section 3; 2019).

    For each study's data point (``level="study"``: every arm of a study against the study's
    first arm in reference-first order) or each directly compared pair (``level="contrast"``:
    the inverse-variance pooled direct estimate), the lower and upper threshold: how far its
    estimate (analysis scale, e.g. log RR) can move before the recommended treatment changes,
    the new recommended treatment at each, and the invariant interval.

    Parameters
    ----------
    network_result : NetworkResult
        A connected network of at least two treatments.
    level : {"study", "contrast"}, default="study"
    model : {"common", "random"}, default="common"
        The network model whose influence matrix is used (random: tau² fixed at its estimate,
        the marginal model, Phillippo et al. 2018 section 3.2).
    decision : {"best", "mid"}, default="best"
        See :func:`threshold_analysis`; "mid" needs ``mid``.
    mid : float, optional
        Minimal important difference on the analysis scale (> 0).

    Notes
    -----
    The inputs are built as the reference's netmeta construction: d_k = the network estimate of k
    versus the reference, its covariance from the fit; study level: y and V from each study's
    (multi-arm reduced) weights, ``V = L[-1,-1]⁻¹``, ``y = V r``; contrast level:
    ``y = Σ w·TE / Σ w``, variance ``1/Σ w``.  Then ``(XᵀV⁻¹X)⁻¹XᵀV⁻¹y`` is the network estimate
    and ``H = Cov·XᵀV⁻¹`` its exact influence matrix.  In a star network (every comparison against
    one treatment) a study moves only its own treatment's effect, so most data points have a
    threshold on one side only; the table's ``note`` says so per row.

    Examples
    --------
    >>> import pandas as pd, netstrata
    >>> df = pd.DataFrame({"study": ["s1", "s2", "s3", "s4"], "treat1": ["A", "B", "C", "A"],
    ...                    "treat2": ["P", "P", "P", "B"], "effect": [-0.5, -0.3, -0.1, -0.2],
    ...                    "se": [0.2, 0.2, 0.2, 0.3]})
    >>> th = netstrata.threshold(netstrata.network(df, reference="P"))
    >>> th.optimal, list(th.thresholds["data_point"])[:2]
    ('A', ['s1: A vs P', 's2: B vs P'])

    References
    ----------
    Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). J R Stat Soc A 181:843-867.
    doi:10.1111/rssa.12341
    Phillippo DM, Dias S, Welton NJ, et al. (2019). Ann Intern Med 170:538-546. doi:10.7326/M18-3542
    """

    if not isinstance(network_result, NetworkResult):
        raise ParameterError("The 'network_result' parameter of threshold must be a NetworkResult "
                             f"(netstrata.network). Got {type(network_result).__name__} instead.")
    level = check_option(level, name="level", allowed=LEVELS, caller="threshold")
    model = check_option(model, name="model", allowed=MODELS, caller="threshold")
    mcid, mcid_type = _rule(decision, mid, "threshold")
    net = network_result
    if net.n < 2:
        raise DataError(Problem("threshold analysis needs at least two treatments", found=f"{net.n} treatment",
                                expected="a network of two or more treatments"))
    if not net.is_connected:
        shown = "; ".join("{" + ", ".join(c) + "}" for c in net.components)
        raise DataError(Problem("threshold analysis needs a connected network", found=f"sub-networks {shown}",
                                expected="one connected network", hint="analyse each sub-network separately"))

    codes, mean, post = network_means(net, model)
    X, V, points = (study_inputs if level == "study" else contrast_inputs)(net, model, codes)
    arr = nma_thresh(mean, V, post, X, opt_max=net.small_values == "undesirable", mcid=mcid,
                     mcid_type=mcid_type)
    return _result(level, model, decision, mid, codes, arr, points, _star_note(net))


def _star_note(net) -> tuple[str, ...]:
    rows = net.rows
    common = set.intersection(*({a, b} for a, b in zip(rows["treat1"], rows["treat2"])))
    if common and net.n > 2:
        hub = next(iter(common))
        return (f"star network around {hub!r}: each data point moves only its own treatment's effect, so "
                "thresholds exist only where that treatment can overtake, or be overtaken by, the "
                "recommended one; elsewhere the table says which side has no threshold",)
    return ()
