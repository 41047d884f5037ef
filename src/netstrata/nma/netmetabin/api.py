"""Network meta-analysis of binary outcomes without inverse variances (netmeta's ``netmetabin``).

``method="MH"`` is the Mantel-Haenszel network meta-analysis of Efthimiou et al. (2019): within
each design (set of treatments compared by a study) the studies are pooled with the
(generalised, multi-arm) Mantel-Haenszel odds ratio and its Robins-Breslow-Greenland type
covariance; the design estimates are then combined by generalised least squares. It needs no
continuity correction: studies without any event (or with only events) are dropped, and so is
an arm without events (or with only events) across all studies of its design. ``"Inverse"`` is
the usual inverse-variance network (``netstrata.network``) on the study log odds ratios.

``"NCH"`` is the common-effect non-central hypergeometric model (its approximate likelihood as
in netmeta), with the same exclusions as "MH". We maximise it by Newton's method to machine
precision with an analytic Hessian; netmeta uses R's L-BFGS-B (stopping at factr = 1e7 with
finite-difference gradients) and a finite-difference Hessian, so its NCH estimates differ
from the maximum by up to ~1e-3 (netmeta's are at a lower likelihood; see the tests).

References
----------
Efthimiou O, Rücker G, Schwarzer G, Higgins JPT, Egger M, Salanti G. Network meta-analysis of
rare events using the Mantel-Haenszel method. Stat Med 2019;38:2992-3012. doi:10.1002/sim.8158
Greenland S, Robins JM. Estimation of a common effect parameter from sparse follow-up data.
Biometrics 1985;41:55-68. doi:10.2307/2530643
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._summary import Summary
from ..._validate import check_option
from ...errors import DataError, ParameterError, Problem, StatisticalWarning
from ...ma.pooled import backtransform_columns
from ..component import chi2_sf
from ..kernel import connected_components
from ..network import network_from_arms
from ..prepare import collate_key
from ..split import NodeSplitResult, SplitInputs, node_split_from_inputs, sidde_indirect, split_options
from .kernels import mh_direct_matrices, mh_exclusions, mh_network, nch_network

__all__ = ["BinaryNetworkResult", "netmetabin", "NETMETABIN_METHODS", "node_split_mh"]

NETMETABIN_METHODS = {
    "MH": ("Mantel-Haenszel network meta-analysis (Efthimiou 2019)", "doi:10.1002/sim.8158"),
    "NCH": ("common-effect non-central hypergeometric network (Efthimiou 2019)",
            "doi:10.1002/sim.8158"),
    "Inverse": ("inverse-variance network meta-analysis (Rücker 2012)", "doi:10.1002/jrsm.1058"),
}


def _warn(msg: str):
    warnings.warn(msg, StatisticalWarning, stacklevel=4)


@dataclass(frozen=True, slots=True)
class BinaryNetworkResult:
    """Common-effect network of odds ratios without inverse variances (netmeta ``netmetabin``,
    methods "MH" and "NCH"); ``q`` is the MH inconsistency Q (NaN for "NCH").

    Matrices are n × n DataFrames, cell [i, j] = log odds ratio of i versus j; the direct
    (pairwise MH) estimates come with the Q, DL τ² and I² (a fraction, as
    ``NetworkResult.direct_heterogeneity``) of their studies' log odds ratios. ``q_pvalue`` is
    the p-value of the inconsistency Q on ``q_df`` degrees of freedom (netmeta's
    ``pval.Q.inconsistency``; NaN for "NCH").
    """

    measure = "OR"    # the measure of every netmetabin fit (a class attribute, not a field)

    method: str
    treatments: tuple[str, ...]
    reference: str
    level: float
    arms: pd.DataFrame
    te: pd.DataFrame
    se: pd.DataFrame
    direct_te: pd.DataFrame
    direct_se: pd.DataFrame
    direct_q: pd.DataFrame
    direct_tau2: pd.DataFrame
    direct_i2: pd.DataFrame
    k: pd.DataFrame
    q: float
    q_df: int
    notes: tuple[str, ...]

    @property
    def studies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.arms["study"]))

    @property
    def designs(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.arms["design"])))

    @property
    def q_pvalue(self) -> float:
        """P-value of the MH inconsistency Q (chi-square on ``q_df`` df); NaN for "NCH"."""
        return chi2_sf(self.q, self.q_df) if np.isfinite(self.q) and self.q_df > 0 else float("nan")

    @property
    def prop_direct(self) -> pd.DataFrame:
        """Direct evidence proportion se_net² / se_dir² (Rücker 2020, eq. 7; 0 without direct)."""
        p = (self.se**2 / self.direct_se**2).fillna(0.0)
        return p

    def node_split(self, model: str = "common", *, method: str | None = None,
                   tol_direct: float = 0.0005) -> NodeSplitResult:
        """Node splitting (netmeta ``netsplit`` on a ``netmetabin`` fit): common effect only,
        SIDDE by default; see :func:`node_split_mh`."""
        _, method = split_options(model, method, tol_direct, binary=True)
        return node_split_mh(self, method=method, tol_direct=tol_direct)

    def summary(self, backtransf: bool = False) -> Summary:
        """Every treatment versus the reference (log odds ratios, or odds ratios with
        ``backtransf=True``) and the inconsistency Q with its p-value."""
        ref = self.reference
        frame = pd.DataFrame({"effect": self.te[ref], "se": self.se[ref]})
        if backtransf:
            frame = backtransform_columns(frame, self.measure, columns=("effect",), caller="netmetabin summary")
        scale = "odds ratios" if backtransf else "log odds ratios"
        note = f"{NETMETABIN_METHODS[self.method][0]}; {scale} versus {ref}."
        q = (f"Q (inconsistency) = {self.q:.4f}, df = {self.q_df}, p = {self.q_pvalue:.4g}."
             if np.isfinite(self.q) else "No inconsistency Q for this method.")
        return Summary(title=NETMETABIN_METHODS[self.method][0], frame=frame,
                       notes=(note, q) + self.notes)

    def __repr__(self) -> str:
        return (f"BinaryNetworkResult(method={self.method!r}, k={len(self.studies)}, "
                f"treatments={len(self.treatments)}, designs={len(self.designs)})")


def _arm_table(arms: pd.DataFrame, study: str, treatment: str, events: str, n: str):
    missing = [c for c in (study, treatment, events, n) if c not in arms.columns]
    if missing:
        raise ParameterError(f"netmetabin needs the columns {missing} in 'arms'. "
                             f"Got {list(arms.columns)!r} instead.")
    out = pd.DataFrame({"study": arms[study].astype(str), "treatment": arms[treatment].astype(str),
                        "events": pd.to_numeric(arms[events], errors="coerce"),
                        "n": pd.to_numeric(arms[n], errors="coerce")})
    bad = out[out["events"].isna() | out["n"].isna() | (out["events"] < 0)
              | (out["events"] > out["n"])]
    if len(bad):
        raise DataError([Problem("events and n must be given, with 0 <= events <= n",
                                 row=int(r) + 2,
                                 study=out.at[r, "study"], found=(out.at[r, "events"], out.at[r, "n"]),
                                 expected="0 <= events <= n") for r in bad.index])
    return out.assign(nonevents=out["n"] - out["events"])


def netmetabin(arms: pd.DataFrame, method: str = "MH", *, study: str = "study",
               treatment: str = "treatment", events: str = "events", n: str = "n",
               reference: str | None = None, level: float = 0.95):
    """Network meta-analysis of odds ratios from arm-level events (netmeta ``netmetabin``).

    Parameters
    ----------
    arms : DataFrame
        One row per study arm with columns ``study``, ``treatment``, ``events``, ``n`` (names
        configurable).
    method : {"MH", "NCH", "Inverse"}, default="MH"
        Mantel-Haenszel network meta-analysis (common effect, no continuity correction), the
        common-effect non-central hypergeometric model, or the inverse-variance network of the
        study log odds ratios (0.5 added to zero cells).
    reference : str, optional
        Reference treatment (default: the first in network order).
    level : float, default=0.95

    Returns
    -------
    BinaryNetworkResult for "MH" and "NCH"; NetworkResult for "Inverse".

    Notes
    -----
    Exclusions (studies or arms without events, single-arm designs) are reported with a
    ``StatisticalWarning`` and kept in ``notes``. A network that the exclusions disconnect is
    refused with a ``DataError`` (netmeta fails there with an uninformative error).
    """
    method = check_option(method, name="method", allowed=tuple(NETMETABIN_METHODS),
                          caller="netmetabin")
    if not 0 < float(level) < 1:
        raise ParameterError(f"The 'level' parameter of netmetabin must be in (0, 1). "
                             f"Got {level!r} instead.")
    if method == "Inverse":
        return network_from_arms(arms, measure="OR", study=study, treatment=treatment,
                                 events=events, n=n, reference=reference, level=level)
    table = _arm_table(arms, study, treatment, events, n)
    order = {t: i for i, t in enumerate(sorted(set(table["treatment"]), key=collate_key))}
    used, notes = mh_exclusions(table, order)
    for note in notes:
        _warn(note)
    trts = tuple(sorted(set(used["treatment"]), key=collate_key))
    _check_connected(used, trts)
    ref = trts[0] if reference is None else check_option(
        reference, name="reference", allowed=trts, caller="netmetabin", ignore_case=False)
    return _fit(method, used, trts, ref, float(level), notes)


def _check_connected(used: pd.DataFrame, trts: tuple[str, ...]) -> None:
    """Refuse (DataError) when the exclusions leave < 2 treatments or a disconnected network."""
    if len(trts) < 2:
        raise DataError("After excluding studies and arms without events fewer than two "
                        "treatments are left; the network cannot be fitted.")
    pos = {t: i for i, t in enumerate(trts)}
    pairs = used.merge(used, on="study")
    pairs = pairs[pairs["treatment_x"].map(pos) < pairs["treatment_y"].map(pos)]
    labels = connected_components(pairs["treatment_x"].map(pos).to_numpy(),
                                  pairs["treatment_y"].map(pos).to_numpy(), len(trts))
    if labels.max() > 0:
        groups = [[t for t in trts if labels[pos[t]] == c] for c in range(labels.max() + 1)]
        raise DataError("After excluding studies and arms without events the network falls "
                        f"apart into {len(groups)} sub-networks: {groups}. Fit them separately "
                        "or use method='Inverse'.")


def _fit(method: str, used: pd.DataFrame, trts: tuple[str, ...], ref: str, level: float,
         notes: tuple[str, ...]) -> BinaryNetworkResult:
    """Stage II (MH or NCH) and the direct MH estimates, assembled into the result."""
    if method == "MH":
        theta, cov, q, df = mh_network(used, trts)
    else:
        theta, cov, _ = nch_network(used, trts)
        q, df = np.nan, 0
    var = np.diag(cov)[:, None] + np.diag(cov)[None, :] - 2 * cov
    direct = mh_direct_matrices(used, trts)

    def frame(m):
        return pd.DataFrame(m, index=list(trts), columns=list(trts))

    return BinaryNetworkResult(method=method, treatments=trts, reference=ref, level=level,
                               arms=used.reset_index(drop=True),
                               te=frame(theta[:, None] - theta[None, :]),
                               se=frame(np.sqrt(np.maximum(var, 0.0))),
                               direct_te=frame(direct["te"]), direct_se=frame(direct["se"]),
                               direct_q=frame(direct["q"]), direct_tau2=frame(direct["tau2"]),
                               direct_i2=frame(direct["i2"]), k=frame(direct["k"]), q=q,
                               q_df=int(df), notes=notes)


def _mh_refit(res: BinaryNetworkResult):
    """SIDDE refit of a Mantel-Haenszel network without some studies (None if impossible)."""
    def refit(excluded):
        keep = res.arms[~res.arms["study"].isin(set(excluded))]
        if keep["study"].nunique() == 0:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sub = netmetabin(keep[["study", "treatment", "events", "n"]], res.method)
        except DataError:
            return None
        te, se = sub.te.to_numpy(), sub.se.to_numpy()
        return sub.treatments, {"common": te, "random": te * np.nan}, \
            {"common": se, "random": se * np.nan}
    return refit


def node_split_mh(res: BinaryNetworkResult, method: str = "SIDDE", tol_direct: float = 0.0005):
    """Node splitting of an MH (or NCH) network (netmeta ``netsplit`` on a ``netmetabin``
    object; SIDDE by default, back-calculation with the proportion se_net²/se_dir²): common
    effect only, the random-effects blocks are missing. Comparisons are listed in treatment
    order without turning the reference round (netmetabin's reference.group is "")."""
    n = len(res.treatments)
    nan = np.full((n, n), np.nan)
    prop = res.prop_direct.to_numpy()
    k = res.k.to_numpy()
    inp = SplitInputs(
        treatments=res.treatments, reference=None, level=res.level, tau=np.nan, k=k,
        effect={"common": res.te.to_numpy(), "random": nan}, se={"common": res.se.to_numpy(),
                                                                  "random": nan},
        direct_effect={"common": res.direct_te.to_numpy(), "random": nan},
        direct_se={"common": res.direct_se.to_numpy(), "random": nan},
        prop={"common": prop, "random": prop}, pi_low=nan, pi_high=nan,
        direct_q=res.direct_q.to_numpy(), direct_tau2=res.direct_tau2.to_numpy(),
        direct_i2=res.direct_i2.to_numpy())
    studies: dict[tuple[int, int], list[str]] = {}
    pos = {t: i for i, t in enumerate(res.treatments)}
    for s, g in res.arms.groupby("study", sort=False):
        p = sorted(pos[t] for t in g["treatment"])
        for u in range(len(p)):
            for v in range(u + 1, len(p)):
                studies.setdefault((p[u], p[v]), []).append(s)
    sidde = sidde_indirect(inp, studies, _mh_refit(res)) if method == "SIDDE" else None
    return node_split_from_inputs(inp, method, sidde, tol_direct, model="common")
