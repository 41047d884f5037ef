"""Treatment ranking by parametric resampling: rank probabilities, SUCRA and rank intervals.

The network's treatment effects ``θ`` (node potentials: the estimate of i versus j is
``θ_i − θ_j``) are estimated with covariance ``L⁺`` (the pseudoinverse of the weighted
Laplacian, common or random effects). Drawing ``θ* ~ N(θ̂, L⁺)`` and ranking each draw gives

* rank probabilities ``P(rank_i = r)`` (the rankogram),
* SUCRA ``= Σ_{r<n} P(rank_i ≤ r) / (n − 1) = (n − E rank_i) / (n − 1)`` (Salanti 2011),
* the median rank of each treatment and an equal-tailed interval of its rank.

Rücker & Schwarzer (2015) showed that the P-score is the SUCRA's expectation under exactly this
normal model, so the resampled SUCRA converges to the P-score as draws grow; the result keeps
both, and the Monte Carlo standard error of each SUCRA, to show it.

Unlike netmeta's ``rankogram`` (which samples every treatment independently with approximate
variances), the draws here use the full covariance of the network estimates, so correlations
induced by shared comparators are kept.

``method="bootstrap"`` instead resamples whole studies with replacement and refits the network
on each resample (non-parametric; resamples that disconnect the network are redrawn).

References
----------
Salanti G, Ades AE, Ioannidis JPA. Graphical methods and numerical summaries for presenting
results from multiple-treatment meta-analysis. J Clin Epidemiol 2011;64:163-171.
doi:10.1016/j.jclinepi.2010.03.016
Rücker G, Schwarzer G. Ranking treatments in frequentist network meta-analysis works without
resampling methods. BMC Med Res Methodol 2015;15:58. doi:10.1186/s12874-015-0060-8
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .._summary import Summary
from .._validate import check_option
from ..errors import ParameterError
from .component import fit_rows
from .kernel import connected_components

__all__ = ["RankResampleResult", "draw_potentials", "ranks_of", "rank_summary"]


# --------------------------------------------------------------------------- kernels
def draw_potentials(theta: np.ndarray, cov: np.ndarray, n_draws: int,
                    rng: np.random.Generator) -> np.ndarray:
    """``n_draws`` draws of θ ~ N(θ̂, Σ) for a positive semi-definite Σ (here L⁺, rank n − 1).

    Σ = U diag(λ) Uᵀ; θ* = θ̂ + U √λ ε with ε standard normal (λ clipped at 0).
    """
    lam, u = np.linalg.eigh(cov)
    root = u * np.sqrt(np.clip(lam, 0.0, None))
    return theta + rng.standard_normal((n_draws, theta.size)) @ root.T


def ranks_of(draws: np.ndarray, small_values_desirable: bool) -> np.ndarray:
    """Rank 1 = best in every draw (row): smallest effect if small values are desirable."""
    x = draws if small_values_desirable else -draws
    return np.argsort(np.argsort(x, axis=1, kind="stable"), axis=1) + 1


def rank_summary(ranks: np.ndarray, level: float):
    """Rank probabilities (n × n), SUCRA, its Monte Carlo SE, median rank and rank interval."""
    n_draws, n = ranks.shape
    probs = np.stack([(ranks == r).mean(axis=0) for r in range(1, n + 1)], axis=1)
    per_draw = (n - ranks) / (n - 1)          # SUCRA of one draw: share of treatments beaten
    sucra = per_draw.mean(axis=0)
    mcse = per_draw.std(axis=0, ddof=1) / np.sqrt(n_draws)
    alpha = (1 - level) / 2
    q = np.quantile(ranks, [alpha, 0.5, 1 - alpha], axis=0, method="inverted_cdf")
    return probs, sucra, mcse, q[1], q[0], q[2]


@dataclass(frozen=True, slots=True)
class RankResampleResult:
    """Ranks from resampling: one row per treatment in ``table``.

    ``table`` columns: ``sucra``, ``sucra_mcse``, ``pscore``, ``mean_rank``, ``median_rank``,
    ``rank_ci_low``, ``rank_ci_high``; ``probabilities`` is treatments × ranks (rankogram).
    """

    method: str
    model: str
    small_values: str
    n_draws: int
    seed: int | None
    level: float
    table: pd.DataFrame
    probabilities: pd.DataFrame

    @property
    def sucra(self) -> pd.Series:
        return self.table["sucra"]

    @property
    def cumulative(self) -> pd.DataFrame:
        """P(rank ≤ r) per treatment (cumulative rankogram)."""
        return self.probabilities.cumsum(axis=1)

    def summary(self) -> Summary:
        note = (f"{self.method} resampling, {self.n_draws} draws (seed {self.seed}), {self.model} "
                f"effects model, small values {self.small_values}; rank interval "
                f"{100 * self.level:g}%.")
        return Summary(title="Treatment ranking by resampling",
                       frame=self.table.sort_values("sucra", ascending=False), notes=(note,))

    def __repr__(self) -> str:
        best = self.table["sucra"].idxmax()
        return (f"RankResampleResult(method={self.method!r}, model={self.model!r}, "
                f"n_draws={self.n_draws}, best={best!r} sucra={self.table['sucra'].max():.4f})")


def build_result(ranks: np.ndarray, treatments: Sequence[str], pscore: np.ndarray, *,
                 method: str, model: str, small_values: str, seed: int | None,
                 level: float) -> RankResampleResult:
    """Assemble a :class:`RankResampleResult` from a draws × treatments rank matrix."""
    probs, sucra, mcse, med, lo, hi = rank_summary(ranks, level)
    idx = pd.Index(list(treatments), name="treatment")
    table = pd.DataFrame({"sucra": sucra, "sucra_mcse": mcse, "pscore": pscore,
                          "mean_rank": ranks.mean(axis=0), "median_rank": med,
                          "rank_ci_low": lo, "rank_ci_high": hi}, index=idx)
    prob = pd.DataFrame(probs, index=idx, columns=pd.RangeIndex(1, len(treatments) + 1,
                                                                 name="rank"))
    return RankResampleResult(method=method, model=model, small_values=small_values,
                              n_draws=ranks.shape[0], seed=seed, level=level, table=table,
                              probabilities=prob)


def bootstrap_ranks(refit: Callable[[np.ndarray], np.ndarray | None], studies: Sequence[str],
                    n_draws: int, rng: np.random.Generator, small_values_desirable: bool,
                    max_tries: int = 20) -> np.ndarray:
    """Ranks of the point estimates over study bootstrap resamples.

    ``refit(sample)`` gets an array of study labels drawn with replacement and returns the
    node potentials θ̂ of the refitted network, or None if the resample is unusable (a
    treatment lost or the network disconnected); such resamples are redrawn, up to
    ``max_tries`` times per draw.
    """
    pool = np.asarray(studies)
    out = []
    for _ in range(n_draws):
        for _ in range(max_tries):
            theta = refit(rng.choice(pool, size=pool.size, replace=True))
            if theta is not None:
                out.append(theta)
                break
    return ranks_of(np.asarray(out), small_values_desirable)


RESAMPLE_METHODS = {
    "parametric": ("draws from the multivariate normal of the network estimates",
                   "doi:10.1186/s12874-015-0060-8"),
    "bootstrap": ("study bootstrap, network refitted on every resample",
                  "doi:10.1016/j.jclinepi.2010.03.016"),
}


def _bootstrap_refit(fit, model: str) -> Callable[[np.ndarray], np.ndarray | None]:
    """Refit on resampled studies; θ̂ (effects versus the first treatment) or None."""
    rows = fit.rows[["study", "treat1", "treat2", "effect", "se"]]
    groups = {s: g for s, g in rows.groupby("study", sort=False)}
    trts = fit.treatments
    pos = {t: i for i, t in enumerate(trts)}

    def refit(sample):
        parts = [groups[s].assign(study=f"{s}#{i}") for i, s in enumerate(sample)]
        data = pd.concat(parts, ignore_index=True)
        present = set(data["treat1"]) | set(data["treat2"])
        if len(present) < len(trts):
            return None
        if connected_components(data["treat1"].map(pos).to_numpy(),
                                data["treat2"].map(pos).to_numpy(), len(trts)).max() > 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sub = fit_rows(data, fit.method)
        order = [sub.prep.treatments.index(t) for t in trts]   # the fit's order, not the sample's
        return sub.league(model)[0][order, order[0]]

    return refit


def _parametric_ranks(fit, model: str, n_draws: int, rng: np.random.Generator,
                      desirable: bool) -> np.ndarray:
    """Draws × treatments ranks from N(θ̂, L⁺) of each (sub-)network, ranked within it."""
    ranks = np.zeros((n_draws, fit.n), dtype=int)
    for c in range(len(fit.parts)):
        a = fit.model_arrays(model, c)
        idx = [fit.treatments.index(t) for t in a["treatments"]]
        ranks[:, idx] = ranks_of(draw_potentials(a["theta"], a["lplus"], n_draws, rng), desirable)
    return ranks


def rank_resample(fit, model: str = "random", *, small_values: str | None = None,
                  n_draws: int = 10_000, seed: int | None = None, level: float = 0.95,
                  method: str = "parametric") -> RankResampleResult:
    """Rank probabilities, SUCRA and rank intervals by resampling (netmeta ``rankogram``).

    Parameters
    ----------
    fit : NetworkResult
    model : {"common", "random"}, default="random"
    small_values : {"desirable", "undesirable"}, optional
        Default: the fit's ``small_values``.
    n_draws : int, default=10000
        Number of draws (parametric) or bootstrap resamples.
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same result.
    level : float, default=0.95
        Coverage of the rank interval (equal-tailed quantiles of the rank distribution).
    method : {"parametric", "bootstrap"}, default="parametric"

    Returns
    -------
    RankResampleResult

    Notes
    -----
    A disconnected network is ranked within each sub-network (ranks run from 1 to the size of
    the sub-network), as P-scores are. The bootstrap needs a connected network.
    """
    model = check_option(model, name="model", allowed=("common", "random"), caller="rank_resample")
    method = check_option(method, name="method", allowed=tuple(RESAMPLE_METHODS),
                          caller="rank_resample")
    sv = fit.small_values if small_values is None else check_option(
        small_values, name="small_values", allowed=("desirable", "undesirable"),
        caller="rank_resample")
    if not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise ParameterError(f"The 'n_draws' parameter of rank_resample must be an integer >= 2. "
                             f"Got {n_draws!r} instead.")
    if not 0 < float(level) < 1:
        raise ParameterError(f"The 'level' parameter of rank_resample must be in (0, 1). "
                             f"Got {level!r} instead.")
    rng = np.random.default_rng(seed)
    desirable = sv == "desirable"
    if method == "bootstrap":
        if not fit.is_connected:
            raise ParameterError("rank_resample(method='bootstrap') needs a connected network; "
                                 f"this one has {len(fit.parts)} sub-networks. Use 'parametric'.")
        ranks = bootstrap_ranks(_bootstrap_refit(fit, model), list(fit.studies), n_draws, rng,
                                desirable)
    else:
        ranks = _parametric_ranks(fit, model, n_draws, rng, desirable)
    pscore = fit.p_scores(model, sv).to_numpy()
    return build_result(ranks, fit.treatments, pscore, method=method, model=model,
                        small_values=sv, seed=seed, level=float(level))
