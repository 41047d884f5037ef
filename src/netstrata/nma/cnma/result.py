"""ComponentNetworkResult: the frozen result of :func:`netstrata.component_network`
(netmeta 2.9-0 ``netcomb`` on a connected network, ``discomb`` on a disconnected one)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._dist import chi2_cdf
from ..._summary import Summary
from ..._validate import check_option
from ...errors import DataError, Problem
from ..component import isquared
from ..prepare import Prepared
from ..result import MODELS, NetworkResult
from ..result_common import EFFECT_COLUMNS, I2Interval, WaldLeague
from ..tables import design_labels, wald
from .design import ComponentDesign
from .kernels import AdditiveFit, cov_resistance, in_rowspace
from .summary import additivity_sentence, cnma_summary

__all__ = ["ComponentNetworkResult", "chi2_upper"]

def chi2_upper(q: float, df: float) -> float:
    """netmeta's ``1 - pchisq(q, df)`` (as written in nma.additive, so that tiny p-values round
    as R's do); NaN when q or df is missing or df == 0."""
    if not (np.isfinite(q) and np.isfinite(df)) or df <= 0:
        return float("nan")
    return float(1.0 - chi2_cdf(q, df))


@dataclass(frozen=True, slots=True)
class ComponentNetworkResult(WaldLeague, I2Interval):
    """Additive component network meta-analysis, common and random effects (netmeta semantics).

    Component effects are relative to the inactive component (e.g. placebo) or, without one, to
    "no treatment"; a combination's effect is the sum of its components' (``C @ beta``).  League
    matrices are n × n DataFrames indexed by treatment, cell [i, j] = i versus j.  ``i2`` is in
    percent (netmeta stores a fraction).  ``kind`` is ``"netcomb"`` for a connected network and
    ``"discomb"`` for a disconnected one, whose sub-networks the model links through shared
    components (``subnetworks``); the standard model and the additivity test need a connected
    network and are then missing (NaN, ``standard`` None).
    """

    design: ComponentDesign
    prep: Prepared
    method: str
    reference: str
    level: float
    var_common: np.ndarray        # multi-arm adjusted variances (netmeta seTE.adj.common²)
    var_random: np.ndarray        # the same with the CNMA's tau² added before adjustment
    common: AdditiveFit
    random: AdditiveFit
    x: np.ndarray                 # (m, c) X = B C
    rank: int                     # rank of X
    rowspace: np.ndarray          # (c, rank) orthonormal basis of the row space of X
    tau2: float                   # NaN when the additive model has 0 df (random model uses 0)
    q_df: int                     # df of Q_additive = Σ(arms - 1) - rank(X)
    standard: NetworkResult | None  # the standard model (None if disconnected)
    subnetworks: tuple[tuple[str, ...], ...]
    not_identifiable: tuple[str, ...]   # components outside the row space of X (warned)
    unidentifiable: tuple[str, ...]     # components set to NaN (netcomb / discomb rule)
    na_treatments: tuple[str, ...]      # combinations set to NaN (contain an unidentifiable one)
    excluded: pd.DataFrame
    measure: str | None = None          # effect measure of the contrasts (None when not given)

    # ------------------------------------------------------------------ structure
    @property
    def treatments(self) -> tuple[str, ...]:
        return self.design.treatments

    @property
    def components(self) -> tuple[str, ...]:
        return self.design.components

    @property
    def interactions(self) -> tuple[str, ...]:
        return self.design.interactions

    @property
    def inactive(self) -> str | None:
        return self.design.inactive

    @property
    def kind(self) -> str:
        return "netcomb" if self.is_connected else "discomb"

    @property
    def is_connected(self) -> bool:
        return len(self.subnetworks) == 1

    @property
    def n(self) -> int:
        return len(self.treatments)

    @property
    def c(self) -> int:
        return len(self.components)

    @property
    def k(self) -> int:
        return len(self.prep.studies)

    @property
    def m(self) -> int:
        return len(self.prep.te)

    @property
    def c_matrix(self) -> pd.DataFrame:
        """netmeta ``C.matrix``: treatments × components (interaction columns last)."""
        return pd.DataFrame(self.design.C, index=list(self.treatments), columns=list(self.components))

    @property
    def x_matrix(self) -> pd.DataFrame:
        """netmeta ``X.matrix`` = B C, one row per comparison (index: study)."""
        return pd.DataFrame(self.x, index=[self.prep.studies[s] for s in self.prep.study],
                            columns=list(self.components))

    def _model(self, model: str) -> str:
        return check_option(model, name="model", allowed=MODELS, caller="ComponentNetworkResult")

    def fit(self, model: str = "random") -> AdditiveFit:
        return self.common if self._model(model) == "common" else self.random

    def laplacian(self, model: str = "random") -> pd.DataFrame:
        """netmeta ``L.matrix.*`` = Xᵀ W X (components × components)."""
        return self._cc(self.fit(model).L)

    def laplacian_pinv(self, model: str = "random") -> pd.DataFrame:
        """netmeta ``Lplus.matrix.*`` = ginv(L), the covariance of the component effects."""
        return self._cc(self.fit(model).lplus)

    def _cc(self, a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=list(self.components), columns=list(self.components))

    def _frame(self, a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=list(self.treatments), columns=list(self.treatments))

    # ------------------------------------------------------------------ heterogeneity
    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def q(self) -> float:
        """Q of the additive model (netmeta ``Q.additive``, common-effects weights)."""
        return self.common.q

    @property
    def q_pvalue(self) -> float:
        return chi2_upper(self.q, self.q_df)

    @property
    def q_standard(self) -> float:
        """Q of the standard network model (netmeta ``Q.standard``; NaN if disconnected)."""
        return float(self.standard.q) if self.standard is not None else float("nan")

    @property
    def q_standard_df(self) -> float:
        return self.standard.q_df if self.standard is not None else float("nan")

    @property
    def q_standard_pvalue(self) -> float:
        return float(self.standard.q_pvalue) if self.standard is not None else float("nan")

    @property
    def q_diff(self) -> float:
        """Test of additivity: Q_additive - Q_standard, set to 0 below eps^0.75 (netmeta)."""
        d = self.q - self.q_standard
        return 0.0 if np.isfinite(d) and abs(d) < np.finfo(float).eps ** 0.75 else float(d)

    @property
    def q_diff_df(self) -> float:
        return self.n - 1 - self.rank if self.standard is not None else float("nan")

    @property
    def q_diff_pvalue(self) -> float:
        return chi2_upper(self.q_diff, self.q_diff_df)

    @property
    def additivity_rejected(self) -> bool | None:
        """Q_diff significant at 1 - ``level`` (None when the test is not available)."""
        p = self.q_diff_pvalue
        return None if not np.isfinite(p) else bool(p < 1 - self.level)

    def _i2(self) -> tuple[float, float, float]:
        if self.q_df <= 0:
            return (np.nan, np.nan, np.nan)
        i2, lo, hi = isquared(self.q, self.q_df, self.level)
        return 100 * i2, 100 * lo, 100 * hi

    # ------------------------------------------------------------------ effects
    def _table(self, est, se, index, na) -> pd.DataFrame:
        est, se = np.array(est, dtype=float), np.array(se, dtype=float)
        est[na], se[na] = np.nan, np.nan
        lo, hi, z, p = wald(est, se, self.level)
        return pd.DataFrame(dict(zip(EFFECT_COLUMNS, (est, se, lo, hi, z, p))), index=list(index))

    def component_effects(self, model: str = "random") -> pd.DataFrame:
        """Component effects (netmeta Comp, seComp, lower, upper, statistic, pval): one row per
        component, NaN for those netmeta sets to NA (``unidentifiable``).  ``identifiable`` is
        False for every component the data do not identify: on a disconnected network netmeta
        (discomb) reports minimum-norm values for some of them, kept here for parity, not to be read."""
        f = self.fit(model)
        na = np.isin(self.components, self.unidentifiable)
        with np.errstate(invalid="ignore"):
            out = self._table(f.beta, np.sqrt(np.diag(f.lplus)), self.components, na)
        out["identifiable"] = ~np.isin(self.components, self.not_identifiable)
        return out

    def combination_effects(self, model: str = "random") -> pd.DataFrame:
        """Effect of every treatment of the data as the sum of its components (netmeta Comb*),
        with ``combination`` = whether the label has the separator (netmeta
        ``label_has_sep.comps``) and ``identifiable`` = whether the data identify it (C row in the
        row space of X)."""
        f = self.fit(model)
        na = np.isin(self.treatments, self.na_treatments)
        with np.errstate(invalid="ignore"):
            out = self._table(f.theta, np.sqrt(np.maximum(np.diag(f.cov_theta), 0.0)), self.treatments, na)
        out["combination"] = [self.design.sep in t for t in self.treatments]
        out["identifiable"] = self._identified(self.design.C)
        return out

    def _identified(self, rows: np.ndarray) -> np.ndarray:
        return in_rowspace(rows, self.rowspace) if len(rows) else np.zeros(0, bool)

    def combination(self, label: str, model: str = "random", versus: str | None = None) -> pd.Series:
        """Effect of any combination of the network's components (netmeta ``netcomplex``), e.g.
        ``"A + B"`` even if no study used it; with ``versus``, the difference of two
        combinations (netmeta ``netcomparison``).  A component that is not identifiable from the
        data raises DataError, as does a component not in the network."""
        x = self.design.row(label)
        names = [label]
        if versus is not None:
            x = x - self.design.row(versus)
            names.append(versus)
        bad = [c for c, v in zip(self.components, x) if v != 0 and c in self.not_identifiable]
        if bad:
            raise DataError(Problem(f"combination: {' versus '.join(map(repr, names))} involves component(s) "
                                    "that are not identifiable from the data", found=", ".join(bad),
                                    expected="identifiable components only",
                                    hint="see .not_identifiable; the sub-networks may share no component"))
        f = self.fit(model)
        est, se = float(x @ f.beta), float(np.sqrt(max(x @ f.lplus @ x, 0.0)))
        with np.errstate(invalid="ignore", divide="ignore"):
            lo, hi, z, p = wald(np.array(est), np.array(se), self.level)
        name = label if versus is None else f"{label} vs {versus}"
        return pd.Series(dict(zip(EFFECT_COLUMNS, map(float, (est, se, lo, hi, z, p)))), name=name)

    # ------------------------------------------------------------------ league tables
    def _league_arrays(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        f = self.fit(model)
        te = f.theta[:, None] - f.theta[None, :]
        se = np.sqrt(cov_resistance(f.cov_theta))
        if self.kind == "discomb" and self.na_treatments:   # discomb: rows/columns of NA combinations
            na = np.isin(self.treatments, self.na_treatments)
            te[na, :] = te[:, na] = np.nan
            se[na, :] = se[:, na] = np.nan
        return te, se

    def league(self, model: str = "random") -> pd.DataFrame:
        """CNMA estimate of every comparison, cell [i, j] = i versus j (netmeta TE.common / TE.random)."""
        return self._frame(self._league_arrays(self._model(model))[0])

    def league_se(self, model: str = "random") -> pd.DataFrame:
        return self._frame(self._league_arrays(self._model(model))[1])

    def estimable(self) -> pd.DataFrame:
        """True where a comparison is identified by the data (C_i - C_j in the row space of X).
        Always true on a connected network; on a disconnected one, netmeta reports the
        minimum-norm value of the others (kept for parity) and they should not be read."""
        C = self.design.C
        diff = (C[:, None, :] - C[None, :, :]).reshape(-1, self.c)
        return self._frame(self._identified(diff).reshape(self.n, self.n))

    # ------------------------------------------------------------------ comparisons
    @property
    def rows(self) -> pd.DataFrame:
        """One row per comparison used (input order): the data, netmeta's multi-arm adjusted se,
        the CNMA estimate (``cnma_*``) and the standard model's (``nma_*``) per model."""
        p = self.prep
        out = {"row": p.source_row, "study": [p.studies[s] for s in p.study],
               "treat1": [self.treatments[i] for i in p.t1], "treat2": [self.treatments[i] for i in p.t2],
               "effect": p.te, "se": p.se, "design": design_labels(self)}
        std = self.standard.rows if self.standard is not None else None
        for model in MODELS:
            f = self.fit(model)
            with np.errstate(invalid="ignore"):
                out[f"se_adj_{model}"] = np.sqrt(self.var_common if model == "common" else self.var_random)
                se = np.sqrt(np.maximum(cov_resistance(f.cov_theta)[p.t1, p.t2], 0.0))
                lo, hi, z, pv = wald(f.fitted, se, self.level)
            out.update({f"cnma_{model}": f.fitted, f"se_cnma_{model}": se, f"ci_low_cnma_{model}": lo,
                        f"ci_high_cnma_{model}": hi, f"z_cnma_{model}": z, f"pvalue_cnma_{model}": pv})
            nan = np.full(self.m, np.nan)
            out[f"nma_{model}"] = std[f"fitted_{model}"].to_numpy() if std is not None else nan
            out[f"se_nma_{model}"] = std[f"se_fitted_{model}"].to_numpy() if std is not None else nan
        return pd.DataFrame(out)

    # ------------------------------------------------------------------ presentation
    def to_dict(self, model: str = "random") -> dict:
        """Plain, JSON-ready summary (component and combination tables of both models, Q tests)."""
        def table(frame):
            return [{"name": str(i), **{k: (bool(v) if k in ("combination", "identifiable") else float(v))
                                        for k, v in r.items()}}
                    for i, r in frame.iterrows()]
        return {
            "kind": self.kind, "model": self._model(model), "treatments": list(self.treatments),
            "components": list(self.components), "interactions": list(self.interactions),
            "inactive": self.inactive, "reference": self.reference, "k": self.k, "m": self.m,
            "subnetworks": [list(s) for s in self.subnetworks],
            "unidentifiable": list(self.unidentifiable), "not_identifiable": list(self.not_identifiable),
            "component_effects": {m: table(self.component_effects(m)) for m in MODELS},
            "combination_effects": {m: table(self.combination_effects(m)) for m in MODELS},
            "q_additive": self.q, "q_additive_df": self.q_df, "q_additive_pvalue": self.q_pvalue,
            "q_standard": self.q_standard, "q_standard_df": self.q_standard_df,
            "q_standard_pvalue": self.q_standard_pvalue,
            "q_diff": self.q_diff, "q_diff_df": self.q_diff_df, "q_diff_pvalue": self.q_diff_pvalue,
            "additivity_rejected": self.additivity_rejected, "additivity": additivity_sentence(self),
            "tau2": self.tau2, "i2": self.i2, "i2_ci_low": self.i2_ci_low, "i2_ci_high": self.i2_ci_high,
        }

    def summary(self, model: str = "random", backtransf: bool = False) -> Summary:
        """Component effects and the additivity test; ``backtransf=True`` puts the component
        effects and CIs on the natural scale of the measure (e.g. odds ratios)."""
        return cnma_summary(self, self._model(model), backtransf)

    def __repr__(self) -> str:
        return (f"ComponentNetworkResult(kind={self.kind!r}, k={self.k}, treatments={self.n}, "
                f"components={self.c}, inactive={self.inactive!r}, tau2={self.tau2:.4f}, "
                f"Q_additive={self.q:.4f} (df={self.q_df}), Q_diff={self.q_diff:.4f} (df={self.q_diff_df}))")
