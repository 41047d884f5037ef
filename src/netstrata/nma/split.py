"""Node splitting: direct vs indirect evidence per comparison (netmeta's ``netsplit``).

For every pair of treatments the network estimate is split into its direct part (the pooled
studies comparing the pair) and an indirect part (the rest of the network), and the two are
compared with a z-test. Two ways to get the indirect estimate:

* ``"back-calculation"`` (default): with the direct evidence proportion ``p`` (König 2013)
  the network estimate is ``θ_net = p θ_dir + (1 − p) θ_ind``, hence
  ``θ_ind = (θ_net − p θ_dir) / (1 − p)`` and ``se_ind = se_net / √(1 − p)`` (Dias 2010,
  König 2013).
* ``"SIDDE"`` (separate indirect from direct design evidence): refit the network without the
  studies that compare the pair, and read the pair's estimate from that fit (Efthimiou 2019).

Comparisons are oriented as netmeta prints them: treatments in the network's order, a
comparison involving the reference treatment lists it second, and every estimate is "first
versus second" (``'benf:acar'`` is benf minus acar). Comparisons lacking direct or indirect
evidence keep their row with ``status`` saying so; nothing raises, star networks included.

References
----------
Dias S, Welton NJ, Caldwell DM, Ades AE. Checking consistency in mixed treatment comparison
meta-analysis. Stat Med 2010;29:932-944. doi:10.1002/sim.3767
König J, Krahn U, Binder H. Visualizing the flow of evidence in network meta-analysis and
characterizing mixed treatment comparisons. Stat Med 2013;32:5414-5429. doi:10.1002/sim.6001
Efthimiou O, Rücker G, Schwarzer G, et al. Network meta-analysis of rare events using the
Mantel-Haenszel method. Stat Med 2019;38:2992-3012. doi:10.1002/sim.8158
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._dist import norm_ppf, norm_sf
from .._summary import Summary
from .._validate import check_option
from ..errors import ParameterError
from .component import fit_rows
from .kernel import connected_components

__all__ = ["NodeSplitResult", "SPLIT_METHODS", "SplitInputs", "node_split_from_inputs"]

_SQRT_EPS = np.sqrt(np.finfo(float).eps)
MODELS = ("common", "random")


@dataclass(frozen=True, slots=True)
class _Method:
    code: str
    label: str
    reference: str


SPLIT_METHODS = {
    "back-calculation": _Method("back-calculation", "Back-calculation (Dias 2010; König 2013)",
                                "doi:10.1002/sim.6001"),
    "SIDDE": _Method("SIDDE", "Separate indirect from direct design evidence",
                     "doi:10.1002/sim.8158"),
}


@dataclass(frozen=True, slots=True)
class SplitInputs:
    """What node splitting reads from a network fit; matrices are n × n in treatment order.

    ``effect[model][i, j]`` is treatment i versus j; ``direct_*`` are NaN where no study
    compares i and j; ``prop[model]`` is the direct evidence proportion (symmetric);
    ``k[i, j]`` the number of studies comparing i and j; ``direct_i2`` a fraction (netmeta).
    """

    treatments: tuple[str, ...]
    reference: str | None
    level: float
    tau: float
    k: np.ndarray
    effect: Mapping[str, np.ndarray]
    se: Mapping[str, np.ndarray]
    direct_effect: Mapping[str, np.ndarray]
    direct_se: Mapping[str, np.ndarray]
    prop: Mapping[str, np.ndarray]
    pi_low: np.ndarray
    pi_high: np.ndarray
    direct_q: np.ndarray
    direct_tau2: np.ndarray
    direct_i2: np.ndarray


# --------------------------------------------------------------------------- kernels
def normal_ci(effect, se, level: float):
    """Wald interval, z and two-sided p (meta's ``ci``): θ ± z₁₋α/₂ se, z = θ/se."""
    effect, se = np.asarray(effect, float), np.asarray(se, float)
    q = norm_ppf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = effect / se
    return effect - q * se, effect + q * se, z, 2 * norm_sf(np.abs(z))


def back_calculate(effect, se, direct, prop):
    """Indirect estimate by back-calculation (König 2013, eq. 6; netmeta ``netmeta.R``).

    θ_ind = (θ_net − p θ_dir) / (1 − p), se_ind = se_net / √(1 − p); a proportion within
    √ε of 0 uses θ_dir = 0 (so θ_ind = θ_net), one within √ε of 1 (or above 1) gives NaN.
    """
    p = np.array(prop, dtype=float)
    direct = np.where(np.abs(p) < _SQRT_EPS, 0.0, direct)
    p[(np.abs(p - 1) < _SQRT_EPS) | (p > 1)] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return (effect - p * direct) / (1 - p), np.sqrt(se**2 / (1 - p))


def oriented_pairs(treatments: Sequence[str], reference: str | None):
    """(first, second) positions of every comparison in netmeta's ``netsplit`` order.

    Pairs i < j in treatment order; a pair whose first treatment is the reference is turned
    round so the reference comes second (netmeta's ``baseline.reference = TRUE``).
    """
    n = len(treatments)
    pairs = [(i, j) for i in range(n - 1) for j in range(i + 1, n)]
    pairs = [(j, i) if treatments[i] == reference else (i, j) for i, j in pairs]
    return np.array([p[0] for p in pairs], int), np.array([p[1] for p in pairs], int)


def _block(prefix: str, effect, se, level: float) -> dict[str, np.ndarray]:
    lo, hi, z, p = normal_ci(effect, se, level)
    return {f"{prefix}_effect": effect, f"{prefix}_se": se, f"{prefix}_ci_low": lo,
            f"{prefix}_ci_high": hi, f"{prefix}_z": z, f"{prefix}_pvalue": p}


def _evidence(k, network, direct, indirect) -> np.ndarray:
    """Which evidence a comparison has: 'direct and indirect evidence', or why it cannot be
    split ('no direct evidence', 'no indirect evidence', 'different sub-networks')."""
    return np.where(np.isnan(network), "different sub-networks",
                    np.where(k == 0, "no direct evidence",
                    np.where(np.isnan(direct), "no direct evidence",
                             np.where(np.isnan(indirect), "no indirect evidence",
                                      "direct and indirect evidence"))))


def _status(evidence: np.ndarray) -> np.ndarray:
    """'assessable' only with both direct and indirect evidence; otherwise 'not assessable'
    (CINeMA: incoherence is then not assessable, never an error)."""
    return np.where(evidence == "direct and indirect evidence", "assessable", "not assessable")


def split_frame(inp: SplitInputs, model: str, indirect: np.ndarray, indirect_se: np.ndarray,
                tol_direct: float = 0.0005) -> pd.DataFrame:
    """One model's node-splitting table (netmeta's ``direct.indirect`` + ``mat2dat.split``).

    Direct estimates are dropped where the common-effect direct proportion is below
    ``tol_direct`` and indirect ones where this model's proportion is within ``tol_direct``
    of 1; a comparison without studies takes the network estimate as its indirect estimate.
    """
    a, b = oriented_pairs(inp.treatments, inp.reference)
    k = inp.k[a, b].astype(int)
    p_common, p_model = inp.prop["common"][a, b], inp.prop[model][a, b]
    net, net_se = inp.effect[model][a, b], inp.se[model][a, b]
    drop_direct = np.abs(p_common) < tol_direct
    direct = np.where(drop_direct, np.nan, inp.direct_effect[model][a, b])
    direct_se = np.where(drop_direct, np.nan, inp.direct_se[model][a, b])
    drop_indirect = np.abs(p_model - 1) < tol_direct
    ind = np.where(k == 0, net, np.where(drop_indirect, np.nan, indirect[a, b]))
    ind_se = np.where(k == 0, net_se, np.where(drop_indirect, np.nan, indirect_se[a, b]))
    names = [f"{inp.treatments[i]}:{inp.treatments[j]}" for i, j in zip(a, b)]
    cols = {"comparison": names, "treatment1": [inp.treatments[i] for i in a],
            "treatment2": [inp.treatments[j] for j in b], "k": k, "prop": p_model,
            "evidence": (ev := _evidence(k, inp.effect["common"][a, b], direct, ind)),
            "status": _status(ev)}
    cols |= _block("network", net, net_se, inp.level)
    cols |= _block("direct", direct, direct_se, inp.level)
    cols |= {"direct_q": inp.direct_q[a, b], "direct_tau2": inp.direct_tau2[a, b],
             "direct_tau": np.sqrt(inp.direct_tau2[a, b]),
             "direct_i2": 100 * inp.direct_i2[a, b]}      # percent, as NetworkResult.i2
    cols |= _block("indirect", ind, ind_se, inp.level)
    # z-test of the difference (meta::metagen on single contrasts): θ_d − θ_i, √(se_d² + se_i²)
    cols |= _block("difference", direct - ind, np.sqrt(direct_se**2 + ind_se**2), inp.level)
    cols |= {"pi_low": inp.pi_low[a, b], "pi_high": inp.pi_high[a, b]}
    return pd.DataFrame(cols)


RefitFn = Callable[[Sequence[str]], "tuple[tuple[str, ...], dict, dict] | None"]


def sidde_indirect(inp: SplitInputs, studies_by_pair: Mapping[tuple[int, int], Sequence[str]],
                   refit: RefitFn):
    """Indirect estimates by SIDDE: refit without each directly compared pair's studies.

    ``refit(excluded_studies)`` returns ``(treatments, effect, se)`` of the network without
    those studies (``effect``/``se`` map model → matrix) or ``None`` when what remains is
    empty or disconnected (the indirect estimate is then missing, as in netmeta).
    """
    n = len(inp.treatments)
    out = {m: (np.full((n, n), np.nan), np.full((n, n), np.nan)) for m in MODELS}
    for (i, j), studies in studies_by_pair.items():
        fit = refit(studies)
        if fit is None:
            continue
        trts, effect, se = fit
        if inp.treatments[i] not in trts or inp.treatments[j] not in trts:
            continue
        u, v = trts.index(inp.treatments[i]), trts.index(inp.treatments[j])
        for m in MODELS:
            te, s = out[m]
            te[i, j], te[j, i] = effect[m][u, v], effect[m][v, u]
            s[i, j] = s[j, i] = se[m][u, v]
    return out


@dataclass(frozen=True, slots=True)
class NodeSplitResult:
    """Direct, indirect and network estimates per comparison, common and random effects.

    ``common`` and ``random`` hold one row per comparison (columns ``comparison``,
    ``treatment1``, ``treatment2``, ``k``, ``prop``, ``status`` and blocks ``network_*``,
    ``direct_*``, ``indirect_*``, ``difference_*`` with ``effect``, ``se``, ``ci_low``,
    ``ci_high``, ``z``, ``pvalue``; ``direct_q``, ``direct_tau2``, ``direct_tau``,
    ``direct_i2`` (percent) describe the heterogeneity of the direct studies; ``pi_low`` /
    ``pi_high`` the network prediction interval, from the random effects model).
    ``status`` is 'assessable' (direct and indirect evidence) or 'not assessable', and
    ``evidence`` says which evidence there is: 'direct and indirect evidence', 'no direct
    evidence', 'no indirect evidence' or 'different sub-networks'.
    """

    method: str
    model: str
    level: float
    tau: float
    common: pd.DataFrame
    random: pd.DataFrame

    def table(self, model: str | None = None) -> pd.DataFrame:
        """The node-splitting table of ``model`` ('common' or 'random'; default ``self.model``)."""
        model = self.model if model is None else model
        return (self.common if model == "common" else self.random).copy()

    @property
    def n_assessable(self) -> int:
        return int((self.common["status"] == "assessable").sum())

    def summary(self, model: str | None = None) -> Summary:
        model = self.model if model is None else model
        cols = ["comparison", "k", "prop", "network_effect", "direct_effect",
                "indirect_effect", "difference_effect", "difference_ci_low",
                "difference_ci_high", "difference_pvalue", "status", "evidence"]
        frame = self.table(model)[cols].set_index("comparison")
        note = (f"{SPLIT_METHODS[self.method].label}; {model} effects model; "
                f"{self.n_assessable} of {len(frame)} comparisons assessable.")
        return Summary(title="Node splitting: direct vs indirect evidence", frame=frame,
                       notes=(note,))

    def __repr__(self) -> str:
        return (f"NodeSplitResult(method={self.method!r}, comparisons={len(self.common)}, "
                f"assessable={self.n_assessable}, tau={self.tau:.4g})")


def node_split_from_inputs(inp: SplitInputs, method: str = "back-calculation",
                           sidde: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                           tol_direct: float = 0.0005, model: str = "random") -> NodeSplitResult:
    """Assemble the node-splitting result from a fit's matrices (see :class:`SplitInputs`)."""
    if method == "SIDDE" and sidde is None:
        raise ValueError("node_split_from_inputs: method 'SIDDE' needs the SIDDE indirect estimates (sidde=)")
    frames = {}
    for m in MODELS:
        if sidde is not None and method == "SIDDE":
            ind, ind_se = sidde[m]
        else:
            ind, ind_se = back_calculate(inp.effect[m], inp.se[m],
                                         inp.direct_effect[m], inp.prop[m])
        frames[m] = split_frame(inp, m, ind, ind_se, tol_direct)
    return NodeSplitResult(method=method, model=model, level=inp.level, tau=inp.tau, **frames)


# --------------------------------------------------------------------------- fit adapter
def _pair_matrix(series: pd.Series, treatments: Sequence[str]) -> np.ndarray:
    """Symmetric n × n matrix from a Series indexed 'a:b' (NaN on the diagonal)."""
    pos = {t: i for i, t in enumerate(treatments)}
    out = np.full((len(treatments), len(treatments)), np.nan)
    for (i, j), v in zip((map(pos.get, name.split(":", 1)) for name in series.index), series):
        out[i, j] = out[j, i] = v
    return out


def _study_counts(fit) -> tuple[np.ndarray, dict[tuple[int, int], list[str]]]:
    """Number of studies per pair (netmeta A.matrix) and the studies of each compared pair."""
    pos = {t: i for i, t in enumerate(fit.treatments)}
    n = len(fit.treatments)
    k = np.zeros((n, n), dtype=int)
    studies: dict[tuple[int, int], list[str]] = {}
    for s, a, b in zip(fit.rows["study"], fit.rows["treat1"], fit.rows["treat2"]):
        i, j = sorted((pos[a], pos[b]))
        k[i, j] += 1
        k[j, i] += 1
        studies.setdefault((i, j), []).append(s)
    return k, studies


def split_inputs(fit) -> SplitInputs:
    """Collect the matrices node splitting needs from a :class:`NetworkResult`."""
    trts = fit.treatments
    k, _ = _study_counts(fit)
    het = fit.direct_heterogeneity()
    _, pi_low, pi_high = fit.prediction()
    direct = {m: fit.direct(m) for m in MODELS}
    return SplitInputs(
        treatments=trts, reference=fit.reference, level=fit.level, tau=fit.tau, k=k,
        effect={m: fit.league(m).to_numpy() for m in MODELS},
        se={m: fit.league_se(m).to_numpy() for m in MODELS},
        direct_effect={m: direct[m][0].to_numpy() for m in MODELS},
        direct_se={m: direct[m][1].to_numpy() for m in MODELS},
        prop={m: _pair_matrix(fit.prop_direct(m), trts) for m in MODELS},
        pi_low=pi_low.to_numpy(), pi_high=pi_high.to_numpy(), direct_q=het["q"].to_numpy(),
        direct_tau2=het["tau"].to_numpy() ** 2, direct_i2=het["i2"].to_numpy())


def _refit_without(fit) -> RefitFn:
    """SIDDE refit: the (sub-)network of the excluded studies without them; None if nothing
    is left or what is left is disconnected (netmeta requires one connected network)."""
    rows = fit.rows[["study", "treat1", "treat2", "effect", "se"]]
    component = {t: c for c, trts in enumerate(fit.components) for t in trts}

    def refit(excluded):
        first = rows.loc[rows["study"] == excluded[0], "treat1"].iloc[0]
        same = rows["treat1"].map(component) == component[first]
        keep = rows[same & ~rows["study"].isin(set(excluded))]
        if keep.empty:
            return None
        trts = sorted(set(keep["treat1"]) | set(keep["treat2"]), key=fit.treatments.index)
        pos = {t: i for i, t in enumerate(trts)}
        t1, t2 = keep["treat1"].map(pos).to_numpy(), keep["treat2"].map(pos).to_numpy()
        if connected_components(t1, t2, len(trts)).max() > 0:
            return None
        sub = fit_rows(keep, fit.method)
        league = {m: sub.league(m) for m in MODELS}
        return (sub.prep.treatments, {m: league[m][0] for m in MODELS},
                {m: league[m][1] for m in MODELS})

    return refit


def node_split(fit, model: str = "random", *, method: str | None = None,
               tol_direct: float = 0.0005) -> NodeSplitResult:
    """Split every network estimate into direct and indirect evidence (netmeta ``netsplit``).

    Parameters
    ----------
    fit : NetworkResult or BinaryNetworkResult
        A network meta-analysis from :func:`netstrata.network` or
        :func:`netstrata.nma.netmetabin.netmetabin` (Mantel-Haenszel / NCH: common effect only).
    model : {"common", "random"}, default="random"
        Model shown by ``summary()``; both models are always computed.
    method : {"back-calculation", "SIDDE"}, optional
        How indirect estimates are obtained (see module docstring). Default as netmeta:
        "back-calculation", but "SIDDE" for a Mantel-Haenszel / NCH fit.
    tol_direct : float, default=0.0005
        Direct evidence proportions within ``tol_direct`` of 0 (or of 1) count as no direct
        (or no indirect) evidence (netmeta ``tol.direct``).

    Returns
    -------
    NodeSplitResult
        ``table(model)`` has one row per comparison in netmeta's order and orientation.

    Notes
    -----
    SIDDE refits with the same τ² method; for ``method="REML"`` with arm-level covariances
    the refit only sees the contrasts (``fit.rows``), so its τ² may differ from netmeta's.
    """
    return fit.node_split(model, method=method, tol_direct=tol_direct)


def split_options(model: str, method: str | None, tol_direct: float, *, binary: bool) -> tuple[str, str]:
    """Checked ``(model, method)`` of a node split; the default method is netmeta's
    ("SIDDE" for a Mantel-Haenszel / NCH fit, "back-calculation" otherwise)."""
    model = check_option(model, name="model", allowed=MODELS, caller="node_split")
    method = ("SIDDE" if binary else "back-calculation") if method is None else check_option(
        method, name="method", allowed=tuple(SPLIT_METHODS), caller="node_split")
    if not isinstance(tol_direct, (int, float)) or not 0 <= tol_direct < 0.5:
        raise ParameterError("The 'tol_direct' parameter of node_split must be a number in "
                             f"[0, 0.5). Got {tol_direct!r} instead.")
    return model, method


def network_node_split(fit, model: str = "random", *, method: str | None = None,
                       tol_direct: float = 0.0005) -> NodeSplitResult:
    """:func:`node_split` of an inverse-variance :class:`~netstrata.nma.result.NetworkResult`."""
    model, method = split_options(model, method, tol_direct, binary=False)
    inp = split_inputs(fit)
    sidde = None
    if method == "SIDDE":
        _, studies = _study_counts(fit)
        sidde = sidde_indirect(inp, studies, _refit_without(fit))
    return node_split_from_inputs(inp, method, sidde, tol_direct, model)
