"""Network meta-analysis of binary outcomes without inverse variances (netmeta's ``netmetabin``).

``method="MH"`` is the Mantel-Haenszel network meta-analysis of Efthimiou et al. (2019): within
each design (set of treatments compared by a study) the studies are pooled with the
(generalised, multi-arm) Mantel-Haenszel odds ratio and its Robins-Breslow-Greenland type
covariance; the design estimates are then combined by generalised least squares. It needs no
continuity correction: studies without any event (or with only events) are dropped, and so is
an arm without events (or with only events) across all studies of its design. ``"Inverse"`` is
the usual inverse-variance network (``netstrata.network``) on the study log odds ratios.

The common-effect non-central hypergeometric model (netmeta ``"NCH"``) is not implemented:
netmeta maximises its likelihood with R's L-BFGS-B and a finite-difference Hessian, whose
stopping rules cannot be matched to 1e-6 (use "MH", asymptotically equivalent, instead).

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

from ..errors import DataError, ParameterError, Problem, StatisticalWarning

__all__ = ["BinaryNetworkResult", "netmetabin", "NETMETABIN_METHODS", "mh_design", "mh_direct"]

NETMETABIN_METHODS = {
    "MH": ("Mantel-Haenszel network meta-analysis (Efthimiou 2019)", "doi:10.1002/sim.8158"),
    "Inverse": ("inverse-variance network meta-analysis (Rücker 2012)", "doi:10.1002/jrsm.1058"),
}


# --------------------------------------------------------------------------- kernels
def mh_design(events: np.ndarray, n: np.ndarray):
    """Generalised Mantel-Haenszel log odds ratios of one design (Efthimiou 2019, section 2).

    ``events``, ``n``: studies × treatments of the design. With per-study totals N,
    ``c_xy = Σ_s e_x f_y / N`` (f = non-events) and ``L_xy = log(c_xy / c_yx)``; the design
    estimate of x versus y is the row-mean contrast ``L̄_xy = (Σ_z L_xz − Σ_z L_yz) / T``.
    Returns ``(Lbar, var, cov)`` with var[x, y] = Var(L̄_xy) and cov[x, y] =
    Cov(L̄_0x, L̄_0y) (netmeta netmetabin.R, "U.xyy", "U.xyz" terms).
    """
    e, f = events.astype(float), (n - events).astype(float)
    tot = n.sum(axis=1).astype(float)
    t = e.shape[1]
    c = np.einsum("sx,sy->xys", e, f) / tot
    d = (e[:, :, None] + f[:, None, :]).transpose(1, 2, 0) / tot
    C = c.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(C / C.T)
        ct, dt = c.transpose(1, 0, 2), d.transpose(1, 0, 2)
        uyy = ((c * d).sum(2) / (2 * C**2) + (c * dt + ct * d).sum(2) / (2 * C * C.T)
               + (ct * dt).sum(2) / (2 * C.T**2))
        w2 = 1.0 / tot**2
        ps1 = np.einsum("s,sx,sy,sz->xyz", w2, e, f, f)
        ps2 = np.einsum("s,sx,sy,sz->xyz", w2, e + f, f, e)
        ps3 = np.einsum("s,sx,sy,sz->xyz", w2, e + f, e, f)
        ps4 = np.einsum("s,sx,sy,sz->xyz", w2, f, e, e)
        Cxy, Cyx = C[:, :, None], C.T[:, :, None]          # C[x, y], C[y, x]
        Cxz, Czx = C[:, None, :], C.T[:, None, :]          # C[x, z], C[z, x]
        uxyz = (ps1 / (3 * Cxy * Cxz) + ps2 / (3 * Cxy * Czx) + ps3 / (3 * Cyx * Cxz)
                + ps4 / (3 * Cyx * Czx))
    idx = np.arange(t)
    distinct = ((idx[:, None, None] != idx[None, :, None]) & (idx[:, None, None] != idx[None, None, :])
                & (idx[None, :, None] != idx[None, None, :]))
    uxyz = np.where(distinct, uxyz, 0.0)
    np.fill_diagonal(uyy, 0.0)
    lbar = (L.sum(axis=1)[:, None] - L.sum(axis=1)[None, :]) / t
    upxx = uyy.sum(axis=1) + uxyz.sum(axis=(1, 2))
    unew = uxyz + np.where(idx[:, None, None] != idx[None, :, None], 1.0, 0.0) \
        * (idx[None, :, None] == idx[None, None, :]) * uyy[:, :, None]
    upxy = (unew.sum(axis=0) - unew.sum(axis=2) - unew.sum(axis=2).T
            + unew[idx[:, None], idx[None, :], idx[None, :]])
    var = (upxx[:, None] - 2 * upxy + upxx[None, :]) / t**2
    cov = (upxx[0] - upxy[0][None, :] - upxy[:, [0]] + upxy) / t**2
    return lbar, var, cov


def mh_direct(a, b, c, d):
    """Mantel-Haenszel log odds ratio with the Robins-Breslow-Greenland variance (no correction).

    Tables (a, b; c, d) = (events, non-events) of treatment 1 and 2; N = a + b + c + d.
    """
    N = a + b + c + d
    R, S = a * d / N, b * c / N
    P, Q = (a + d) / N, (b + c) / N
    var = ((P * R).sum() / (2 * R.sum() ** 2) + (P * S + Q * R).sum() / (2 * R.sum() * S.sum())
           + (Q * S).sum() / (2 * S.sum() ** 2))
    return float(np.log(R.sum() / S.sum())), float(np.sqrt(var))


def _warn(msg: str):
    warnings.warn(msg, StatisticalWarning, stacklevel=4)


def _design_labels(arms: pd.DataFrame, order: dict) -> pd.Series:
    """Design of each study: its treatments in network order joined by ':'."""
    return arms.groupby("study", sort=False)["treatment"].agg(
        lambda t: ":".join(sorted(set(t), key=order.get)))


def mh_exclusions(arms: pd.DataFrame, order: dict) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Stage I of Efthimiou 2019 (netmeta netmetabin.R steps i, iii, iv).

    Drop studies without any event or with only events; drop an arm whose treatment has no
    event (or only events) summed over all studies of its design; drop designs left with one
    treatment. Returns the remaining arms (with a ``design`` column) and messages.
    """
    notes = []
    arms = arms.assign(design=arms["study"].map(_design_labels(arms, order)))
    tot = arms.groupby("study", sort=False)[["events", "nonevents"]].sum()
    bad = tot.index[(tot["events"] == 0) | (tot["nonevents"] == 0)]
    if len(bad):
        notes.append("Studies without any events (or with only events) excluded: "
                     + ", ".join(f"'{s}'" for s in bad))
        arms = arms[~arms["study"].isin(bad)]
    cell = arms.groupby(["design", "treatment"], sort=False)[["events", "nonevents"]].sum()
    sparse = cell.index[(cell["events"] == 0) | (cell["nonevents"] == 0)]
    if len(sparse):
        notes.append("Treatment arms without events (or with only events) in a design excluded: "
                     + ", ".join(f"'{t} in {d}'" for d, t in sparse))
        key = pd.MultiIndex.from_frame(arms[["design", "treatment"]])
        arms = arms[~key.isin(sparse)]
    size = arms.groupby("design", sort=False)["treatment"].nunique()
    single = size.index[size == 1]
    if len(single):
        notes.append("Designs with a single treatment arm excluded: "
                     + ", ".join(f"'{d}'" for d in single))
        arms = arms[~arms["design"].isin(single)]
    return arms, tuple(notes)


def mh_network(arms: pd.DataFrame, treatments: tuple[str, ...]):
    """Stage II: design-level MH estimates combined by generalised least squares.

    Parameters θ (θ_0 = 0) with design rows ``y = θ_a − θ_b`` for the design's first treatment
    a versus each other treatment b; ``θ̂ = (Xᵀ V⁻¹ X)⁻¹ Xᵀ V⁻¹ y``; Q = rᵀ V⁻¹ r.
    Returns (theta, cov_theta, q, df).
    """
    pos = {t: i for i, t in enumerate(treatments)}
    ys, blocks, rows = [], [], []
    for _, g in arms.groupby("design", sort=True):
        trts = sorted(g["treatment"].unique(), key=pos.get)
        ev = g.pivot(index="study", columns="treatment", values="events")[trts].to_numpy()
        nn = g.pivot(index="study", columns="treatment", values="n")[trts].to_numpy()
        lbar, var, cov = mh_design(ev, nn)
        t = len(trts)
        v = cov[1:, 1:].copy()
        v[np.diag_indices(t - 1)] = var[0, 1:]
        ys.append(lbar[0, 1:])
        blocks.append(v)
        for b in trts[1:]:
            x = np.zeros(len(treatments))
            x[pos[trts[0]]], x[pos[b]] = 1.0, -1.0
            rows.append(x[1:])
    y = np.concatenate(ys)
    V = np.zeros((len(y), len(y)))
    at = 0
    for v in blocks:
        V[at:at + len(v), at:at + len(v)] = v
        at += len(v)
    X = np.vstack(rows)
    W = np.linalg.inv(V)
    cov = np.linalg.inv(X.T @ W @ X)
    beta = cov @ X.T @ W @ y
    r = y - X @ beta
    theta, cov_theta = np.r_[0.0, beta], np.zeros((len(treatments),) * 2)
    cov_theta[1:, 1:] = cov
    return theta, cov_theta, float(r @ W @ r), len(y) - (len(treatments) - 1)


def iv_heterogeneity(a, b, c, d, incr: float = 0.5):
    """Q, DL τ² and I² of study log odds ratios (meta ``metabin`` with ``Q.Cochrane = FALSE``).

    ``incr`` is added to every cell of a table with a zero cell; tables without events (or
    with only events) in both arms are left out. τ² = max(0, (Q − df) / (Σw − Σw²/Σw)),
    I² = max(0, (Q − df) / Q); NaN for a single table (Q = 0 then).
    """
    keep = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    add = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), incr, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    y, w = np.log(a * d / (b * c)), 1.0 / (1 / a + 1 / b + 1 / c + 1 / d)
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)) if len(y) else np.nan
    df = len(y) - 1
    if df < 1:
        return (0.0 if len(y) else np.nan), np.nan, np.nan
    tau2 = max(0.0, (q - df) / (np.sum(w) - np.sum(w * w) / np.sum(w)))
    return q, tau2, (max(0.0, (q - df) / q) if q > 0 else 0.0)


def mh_direct_matrices(arms: pd.DataFrame, treatments: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Direct MH estimates of every pair compared within a study (cell [i, j] = i versus j):
    ``te``, ``se``, study count ``k`` and the pair's ``q``, ``tau2``, ``i2``."""
    n = len(treatments)
    pos = {t: i for i, t in enumerate(treatments)}
    out = {key: np.full((n, n), np.nan) for key in ("te", "se", "q", "tau2", "i2")}
    out["k"] = np.zeros((n, n), int)
    tables: dict[tuple[int, int], list] = {}
    for _, g in arms.groupby("study", sort=False):
        g = g.assign(p=g["treatment"].map(pos)).sort_values("p")
        rec = g[["p", "events", "nonevents"]].to_numpy()
        for u in range(len(rec)):
            for v in range(u + 1, len(rec)):
                tables.setdefault((int(rec[u, 0]), int(rec[v, 0])), []).append(
                    (rec[u, 1], rec[u, 2], rec[v, 1], rec[v, 2]))
    for (i, j), tab in tables.items():
        a, b, c, d = (np.array(col, float) for col in zip(*tab))
        est, s = mh_direct(a, b, c, d)
        out["te"][i, j], out["te"][j, i] = est, -est
        het = (s, len(tab)) + iv_heterogeneity(a, b, c, d)
        for key, val in zip(("se", "k", "q", "tau2", "i2"), het):
            out[key][i, j] = out[key][j, i] = val
    return out


@dataclass(frozen=True, slots=True)
class BinaryNetworkResult:
    """Mantel-Haenszel network meta-analysis (common effect; netmeta ``netmetabin``, "MH").

    Matrices are n × n DataFrames, cell [i, j] = log odds ratio of i versus j.
    """

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
    def prop_direct(self) -> pd.DataFrame:
        """Direct evidence proportion se_net² / se_dir² (Rücker 2020, eq. 7; 0 without direct)."""
        p = (self.se**2 / self.direct_se**2).fillna(0.0)
        return p

    def summary(self):
        from .._summary import Summary

        ref = self.reference
        frame = pd.DataFrame({"effect": self.te[ref], "se": self.se[ref]})
        note = f"{NETMETABIN_METHODS[self.method][0]}; log odds ratios versus {ref}."
        return Summary(title="Mantel-Haenszel network meta-analysis", frame=frame,
                       notes=(note,) + self.notes)

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
    method : {"MH", "Inverse"}, default="MH"
        Mantel-Haenszel network meta-analysis (common effect, no continuity correction) or
        the inverse-variance network of the study log odds ratios (0.5 added to zero cells).
    reference : str, optional
        Reference treatment (default: the first in network order).
    level : float, default=0.95

    Returns
    -------
    BinaryNetworkResult for "MH"; NetworkResult for "Inverse".

    Notes
    -----
    Exclusions (studies or arms without events, single-arm designs) are reported with a
    ``StatisticalWarning`` and kept in ``notes``. A network that the exclusions disconnect is
    refused with a ``DataError`` (netmeta fails there with an uninformative error).
    """
    from .._validate import check_option
    from .kernel import connected_components
    from .prepare import collate_key

    method = check_option(method, name="method", allowed=tuple(NETMETABIN_METHODS),
                          caller="netmetabin")
    if method == "Inverse":
        from .network import network_from_arms

        return network_from_arms(arms, measure="OR", study=study, treatment=treatment,
                                 events=events, n=n, reference=reference, level=level)
    table = _arm_table(arms, study, treatment, events, n)
    order = {t: i for i, t in enumerate(sorted(set(table["treatment"]), key=collate_key))}
    used, notes = mh_exclusions(table, order)
    for note in notes:
        _warn(note)
    trts = tuple(sorted(set(used["treatment"]), key=collate_key))
    if len(trts) < 2:
        raise DataError("After excluding studies and arms without events fewer than two "
                        "treatments are left; the Mantel-Haenszel network cannot be fitted.")
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
    theta, cov, q, df = mh_network(used, trts)
    var = np.diag(cov)[:, None] + np.diag(cov)[None, :] - 2 * cov
    direct = mh_direct_matrices(used, trts)
    frame = lambda m: pd.DataFrame(m, index=list(trts), columns=list(trts))  # noqa: E731
    ref = trts[0] if reference is None else check_option(
        reference, name="reference", allowed=trts, caller="netmetabin", ignore_case=False)
    return BinaryNetworkResult(method=method, treatments=trts, reference=ref, level=float(level),
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
                sub = netmetabin(keep[["study", "treatment", "events", "n"]], "MH")
        except DataError:
            return None
        te, se = sub.te.to_numpy(), sub.se.to_numpy()
        return sub.treatments, {"common": te, "random": te * np.nan}, \
            {"common": se, "random": se * np.nan}
    return refit


def node_split_mh(res: BinaryNetworkResult, tol_direct: float = 0.0005):
    """Node splitting of a Mantel-Haenszel network by SIDDE (netmeta ``netsplit`` on a
    ``netmetabin`` object): common effect only; the random-effects blocks are missing."""
    from .split import SplitInputs, node_split_from_inputs, sidde_indirect

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
    sidde = sidde_indirect(inp, studies, _mh_refit(res))
    return node_split_from_inputs(inp, "SIDDE", sidde, tol_direct, model="common")
