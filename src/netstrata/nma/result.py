"""NetworkResult: the frozen result of :func:`netstrata.network` (netmeta's ``netmeta`` object)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._displays import make_display
from .._summary import Summary
from .._validate import check_option
from .component import ComponentFit, chi2_sf, isquared
from .contrib import contributions
from .decomp import DesignDecomposition, decompose, q_within_between
from .direct import direct_matrices
from .kernel import hat_matrix, pscores, resistance
from .measures import net_measures
from .netleague import NetLeague, netleague
from .ranking_resample import rank_resample
from .split import network_node_split
from .summary import network_summary
from .result_common import EffectSE, I2Interval, LeagueCI, PredictionIntervals, WaldLeague
from .tables import assemble, row_frame, wald

__all__ = ["NetworkResult", "LeagueCI", "MODELS"]

MODELS = ("common", "random")


@dataclass(frozen=True, slots=True)
class NetworkResult(WaldLeague, I2Interval):
    """Network meta-analysis (common and random effects), netmeta 2.9-0 semantics.

    Matrices are n × n DataFrames indexed by treatment, cell [i, j] = i versus j.  ``i2`` is in
    percent (as ``netstrata.pairwise``; netmeta stores a fraction).  A disconnected network is
    analysed per sub-network (``components``); cells across sub-networks are NaN and listed in
    ``not_comparable``; network-level tau² / I² are then NaN (see ``component_results``).
    ``measure`` is the effect measure of the contrasts (None when not given): with it,
    ``summary(backtransf=True)`` and ``league_table(backtransf=True)`` show ratios, and the
    figures (``forest()``, ``netgraph()``, ``league_table()``) label their axes.
    """

    treatments: tuple[str, ...]
    reference: str
    method: str
    small_values: str
    level: float
    parts: tuple[ComponentFit, ...]
    part_index: tuple[np.ndarray, ...]   # global treatment indices of each part
    excluded: pd.DataFrame
    not_comparable: pd.DataFrame
    notes: tuple[str, ...]
    measure: str | None = None
    #: results computed once per fit and reused (``rows``, direct matrices, node splitting,
    #: contribution matrices); not part of the result's value (excluded from ==, repr and the
    #: constructor); keys never depend on object ids, so a pickled or copied fit keeps a valid memo
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ structure
    @property
    def components(self) -> tuple[tuple[str, ...], ...]:
        return tuple(p.prep.treatments for p in self.parts)

    @property
    def is_connected(self) -> bool:
        return len(self.parts) == 1

    @property
    def n(self) -> int:
        return len(self.treatments)

    @property
    def k(self) -> int:
        return sum(len(p.prep.studies) for p in self.parts)

    @property
    def m(self) -> int:
        return sum(len(p.prep.te) for p in self.parts)

    @property
    def studies(self) -> tuple[str, ...]:
        return tuple(s for p in self.parts for s in p.prep.studies)

    @property
    def rows(self) -> pd.DataFrame:
        """Comparisons used, input order, with netmeta's comparison-level results (a copy of the
        table built once per fit)."""
        if "rows" not in self._memo:
            frames = [row_frame(p) for p in self.parts]
            self._memo["rows"] = pd.concat(frames).sort_values("row").reset_index(drop=True)
        return self._memo["rows"].copy()

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=list(self.treatments), columns=list(self.treatments))

    def _glob(self, fn) -> np.ndarray:
        return assemble(self.parts, list(self.part_index), self.n, fn)

    # ------------------------------------------------------------------ heterogeneity
    @property
    def tau2(self) -> float:
        return self.parts[0].tau2 if self.is_connected else float("nan")

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def q(self) -> float:
        return float(sum(p.q for p in self.parts))

    @property
    def q_df(self) -> int:
        return int(sum(p.df for p in self.parts))

    @property
    def q_pvalue(self) -> float:
        return chi2_sf(self.q, self.q_df)

    def _i2(self) -> tuple[float, float, float]:
        if not self.is_connected or self.q_df == 0:
            return (np.nan, np.nan, np.nan)
        i2, lo, hi = isquared(self.q, self.q_df, self.level)
        return 100 * i2, 100 * lo, 100 * hi

    def _q_split(self) -> tuple[float, float, float, float]:
        """(Q within designs, df, Q between designs, df) summed over parts; NaN if a part has
        fewer than three treatments or a single design (netmeta reports NA there); the df are
        whole numbers (int) unless NaN."""
        qh = dh = qi = di = 0.0
        for p in self.parts:
            pr = p.prep
            if not self._decomposable(p):
                return (np.nan, np.nan, np.nan, np.nan)
            a, b, c, d = q_within_between(pr.study, pr.t1, pr.t2, pr.te, pr.se, p.narms, pr.treatments)
            qh += a; dh += b; qi += c; di += d
        return qh, int(dh), qi, int(di)

    @property
    def q_heterogeneity(self) -> float:
        return self._q_split()[0]

    @property
    def q_heterogeneity_df(self) -> float:
        """Whole number (an int), NaN when the network is not decomposable."""
        return self._q_split()[1]

    @property
    def q_heterogeneity_pvalue(self) -> float:
        q, df, _, _ = self._q_split()
        return chi2_sf(q, df) if np.isfinite(q) else np.nan

    @property
    def q_inconsistency(self) -> float:
        return self._q_split()[2]

    @property
    def q_inconsistency_df(self) -> float:
        """Whole number (an int), NaN when the network is not decomposable."""
        return self._q_split()[3]

    @property
    def q_inconsistency_pvalue(self) -> float:
        _, _, q, df = self._q_split()
        return chi2_sf(q, df) if np.isfinite(q) else np.nan

    # ------------------------------------------------------------------ estimates
    def _model(self, model: str) -> str:
        return check_option(model, name="model", allowed=MODELS, caller="NetworkResult")

    def league(self, model: str = "random") -> pd.DataFrame:
        """Network estimates, cell [i, j] = i versus j (netmeta TE.common / TE.random)."""
        model = self._model(model)
        return self._frame(self._glob(lambda p: p.league(model)[0]))

    def league_se(self, model: str = "random") -> pd.DataFrame:
        model = self._model(model)
        return self._frame(self._glob(lambda p: p.league(model)[1]))

    def league_arrays(self, model: str = "random") -> tuple[np.ndarray, np.ndarray]:
        """(:meth:`league`, :meth:`league_se`) as n × n arrays in treatment order (no DataFrames)."""
        model = self._model(model)
        pairs = {id(p): p.league(model) for p in self.parts}
        return self._glob(lambda p: pairs[id(p)][0]), self._glob(lambda p: pairs[id(p)][1])

    def prediction(self) -> PredictionIntervals:
        """Prediction intervals ``(se, pi_low, pi_high)`` (named): se² = seTE.random² + tau², t with
        df.Q - 1 degrees of freedom; NaN when df.Q < 2 (netmeta)."""
        def one(p: ComponentFit, what: int):
            te, se = p.league("random")
            if p.df < 2:
                return np.full_like(te, np.nan)
            sp = np.sqrt(se ** 2 + p.tau2_used)
            lo, hi, _, _ = wald(te, sp, self.level, p.df - 1)
            np.fill_diagonal(lo, 0.0); np.fill_diagonal(hi, 0.0)
            return (sp, lo, hi)[what]
        return PredictionIntervals(*(self._frame(self._glob(lambda p, w=w: one(p, w))) for w in range(3)))

    def covariance(self, model: str = "random") -> pd.DataFrame:
        """Covariance of the treatment effects versus the reference (n-1 × n-1 per connected
        network; NaN across components) — input for resampling ranks."""
        model = self._model(model)
        L = self._glob(lambda p: p.graph(model).lplus)
        r = self.treatments.index(self.reference)
        cov = L - L[:, [r]] - L[[r], :] + L[r, r]
        keep = [i for i in range(self.n) if i != r]
        names = [self.treatments[i] for i in keep]
        return pd.DataFrame(cov[np.ix_(keep, keep)], index=names, columns=names)

    def p_scores(self, model: str = "random", small_values: str | None = None) -> pd.Series:
        """netrank P-scores (Rücker & Schwarzer 2015, doi:10.1186/s12874-015-0060-8); within
        each sub-network when the network is disconnected."""
        sv = self.small_values if small_values is None else check_option(
            small_values, name="small_values", allowed=("desirable", "undesirable"), caller="p_scores")
        te, se = self.league(model).to_numpy(), self.league_se(model).to_numpy()
        with np.errstate(invalid="ignore"):
            return pd.Series(pscores(te, se, sv == "desirable"), index=list(self.treatments), name="p_score")

    # ------------------------------------------------------------------ direct / indirect
    def _direct(self, p: ComponentFit) -> dict[str, np.ndarray]:
        """:func:`direct_matrices` of the part ``p`` (one of ``self.parts``), computed once per fit;
        callers only read the arrays (``assemble`` copies them)."""
        key = ("direct", next(i for i, q in enumerate(self.parts) if q is p))   # by position: a
        if key not in self._memo:                                               # copy keeps it valid
            pr = p.prep
            self._memo[key] = direct_matrices(pr.t1, pr.t2, pr.te, pr.se, pr.n, p.tau2_used, self.method)
        return self._memo[key]

    def direct(self, model: str = "random") -> EffectSE:
        """``(effect, se)`` (named; netmeta TE.direct, seTE.direct): pooled head-to-head evidence, NaN where none."""
        sfx = "" if self._model(model) == "common" else "_random"
        return EffectSE(*(self._frame(self._glob(lambda p, k=k: self._direct(p)[k + sfx])) for k in ("te", "se")))

    def direct_heterogeneity(self) -> dict[str, pd.DataFrame]:
        """netmeta Q.direct, tau.direct (tau2 by ``method``) and I2.direct (fraction)."""
        out = {k: self._frame(self._glob(lambda p, k=k: self._direct(p)[k])) for k in ("q", "tau2", "i2")}
        return {"q": out["q"], "tau": np.sqrt(out["tau2"]), "i2": out["i2"]}

    def _prop_matrix(self, model: str) -> np.ndarray:
        def one(p: ComponentFit):
            net = resistance(p.graph(model).lplus)
            _, se_dir = (self._direct(p)["te"], self._direct(p)["se" if model == "common" else "se_random"])
            with np.errstate(invalid="ignore", divide="ignore"):
                P = np.where(np.isfinite(se_dir), net / se_dir ** 2, 0.0)
            if p.n == 2:
                P = np.ones_like(P)
            np.fill_diagonal(P, np.nan)
            return P
        return self._glob(one)

    def prop_direct(self, model: str = "random") -> pd.Series:
        """Direct evidence proportion per comparison 'a:b' (netmeta prop.direct.common/random)."""
        P = self._prop_matrix(self._model(model))
        i, j = np.triu_indices(self.n, 1)
        names = [f"{self.treatments[a]}:{self.treatments[b]}" for a, b in zip(i, j)]
        return pd.Series(P[i, j], index=names, name="prop_direct")

    def indirect(self, model: str = "random") -> EffectSE:
        """``(effect, se)`` (named; netmeta TE.indirect, seTE.indirect) by back-calculation; NaN with only direct evidence."""
        model = self._model(model)
        P = self._prop_matrix(model)
        te, se = self.league(model).to_numpy(), self.league_se(model).to_numpy()
        td = np.nan_to_num(self.direct(model).effect.to_numpy(), nan=0.0)
        td[np.abs(P) < np.sqrt(np.finfo(float).eps)] = 0.0
        P = np.where((np.abs(P - 1) < np.sqrt(np.finfo(float).eps)) | (P > 1), np.nan, P)
        with np.errstate(invalid="ignore", divide="ignore"):
            return EffectSE(self._frame((te - P * td) / (1 - P)), self._frame(np.sqrt(se ** 2 / (1 - P))))

    # ------------------------------------------------------------------ diagnostics
    @staticmethod
    def _decomposable(p: ComponentFit) -> bool:
        pr = p.prep
        designs = {tuple(np.unique(np.r_[pr.t1[pr.study == s], pr.t2[pr.study == s]]))
                   for s in range(len(pr.studies))}
        return pr.n >= 3 and len(designs) >= 2

    def _decomp(self, p: ComponentFit) -> DesignDecomposition | None:
        if not self._decomposable(p):
            return None
        pr = p.prep
        return decompose(pr.study, pr.t1, pr.t2, pr.te, pr.se, p.narms, pr.treatments)

    def decomp_design(self):
        """Design-by-treatment decomposition of Q (netmeta decomp.design); None for a network
        with fewer than three treatments or one design; a tuple per sub-network if disconnected."""
        out = tuple(self._decomp(p) for p in self.parts)
        return out[0] if self.is_connected else out

    def netmeasures(self, model: str = "random", *, random: bool | None = None):
        """netmeta netmeasures(random = model == 'random') (``random=True/False`` accepted as in
        netmeta); a tuple per sub-network if disconnected. The default model is "random", as
        everywhere in netstrata (netmeta's own default is ``random = FALSE``)."""
        model = ("random" if random else "common") if random is not None else self._model(model)
        out = tuple(net_measures(p.prep.study, p.prep.t1, p.prep.t2, p.prep.te, p.prep.se, p.narms,
                                 p.prep.treatments, p.prep.studies,
                                 0.0 if model == "common" else p.tau2_used,
                                 resistance(p.graph(model).lplus)) for p in self.parts)
        return out[0] if self.is_connected else out

    def model_arrays(self, model: str = "random", component: int = 0) -> dict:
        """Kernel arrays of one (sub-)network: te, w (reduced), t1, t2, study, n, lplus, theta,
        treatments, studies — see notes/nma_kernel.md."""
        p = self.parts[component]
        g = p.graph(self._model(model))
        return {"te": p.prep.te, "w": 1.0 / p.var(model), "t1": p.prep.t1, "t2": p.prep.t2,
                "study": p.prep.study, "se": p.prep.se, "n": p.n, "lplus": g.lplus, "theta": g.theta,
                "treatments": p.prep.treatments, "studies": p.prep.studies, "tau2": p.tau2_used,
                "narms": p.narms}

    def hat_matrix(self, model: str = "random", component: int = 0) -> pd.DataFrame:
        """Row-level hat matrix H = B L⁺ Bᵀ W (netmeta H.matrix.*), rows/columns = study labels."""
        a = self.model_arrays(model, component)
        labels = [a["studies"][s] for s in a["study"]]
        return pd.DataFrame(hat_matrix(a["lplus"], a["t1"], a["t2"], a["w"]), index=labels, columns=labels)

    def node_split(self, model: str = "random", **kwargs):
        """Node splitting (netmeta ``netsplit``): direct versus indirect evidence per comparison.

        Returns a :class:`netstrata.nma.split.NodeSplitResult` holding both models (``.table(model)``,
        ``.summary()``); back-calculation by default, ``method="SIDDE"`` for separating indirect
        from direct design evidence. :meth:`split` is a shorthand for its table.
        """
        model = self._model(model)
        if kwargs:
            return network_node_split(self, model, **kwargs)
        key = ("node_split", model)
        if key not in self._memo:                  # computed once per fit (views and certainty read it)
            self._memo[key] = network_node_split(self, model)
        return self._memo[key]

    def split(self, model: str = "random", **kwargs) -> pd.DataFrame:
        """Alias: ``node_split(model, **kwargs).table(model)`` indexed by comparison (netmeta's
        'B:A' naming), one row per comparison, assessable or not; see :meth:`node_split`."""
        table = self.node_split(model, **kwargs).table(self._model(model))
        table.index = pd.Index(table["comparison"].to_numpy(), name=None)
        return table

    def contributions(self, method: str = "shortestpath"):
        """Contribution matrix (netmeta ``netcontrib``); see :func:`netstrata.nma.contrib.contributions`."""
        return contributions(self, method)

    def rank_resample(self, model: str = "random", **kwargs):
        """Rank probabilities, SUCRA and rank intervals by resampling
        (see :func:`netstrata.nma.ranking_resample.rank_resample`)."""
        return rank_resample(self, self._model(model), **kwargs)

    # ------------------------------------------------------------------ presentation
    def summary(self, model: str = "random", backtransf: bool = False) -> Summary:
        """Every treatment versus the reference with P-scores, and the heterogeneity notes;
        ``backtransf=True`` gives effects and CIs on the natural scale of the measure."""
        return network_summary(self, self._model(model), backtransf)

    def netleague(self, model: str = "random", *, backtransf: bool = False, direct: bool = True,
                  seq=None) -> NetLeague:
        """The numbers of netmeta's ``netleague`` (see :mod:`netstrata.nma.netleague`)."""
        return netleague(self, model, backtransf=backtransf, direct=direct, seq=seq)

    def league_table(self, model: str = "random", *, backtransf: bool = False, direct: bool = True,
                     seq=None, **kwargs):
        """League table as netmeta's ``netleague``: network estimates in the lower triangle
        (column versus row), direct estimates in the upper (row versus column).

        Returns a :class:`netstrata.present.LeagueTableDisplay`: ``.table`` (text), ``.estimate``,
        ``.ci_low``, ``.ci_high`` (numbers, natural scale when ``backtransf``), a heat map in
        Jupyter (``_repr_svg_``) and ``.save(path)``; ``kwargs`` go to the display (``title``).
        """
        return make_display("league_table", self.netleague(model, backtransf=backtransf, direct=direct,
                                                           seq=seq), **kwargs)

    def forest(self, model: str = "random", **kwargs):
        """Forest plot of every treatment versus the reference (netmeta's ``forest.netmeta``):
        a :class:`netstrata.present.ForestDisplay`; ``kwargs`` go to ``ForestDisplay.from_network``
        (``reference``, ``mid_zone``, ``title``, ``prediction``)."""
        return make_display("network_forest", self, model=self._model(model), **kwargs)

    def netgraph(self, **kwargs):
        """Network graph (netmeta's ``netgraph``): a :class:`netstrata.present.NetworkGraphDisplay`,
        edge width by the number of studies; ``kwargs`` go to the display (``groups``, ``title``)."""
        return make_display("netgraph", self, **kwargs)

    def __repr__(self) -> str:
        comp = "" if self.is_connected else f", components={len(self.parts)}"
        measure = "" if self.measure is None else f", measure={self.measure!r}"
        return (f"NetworkResult(k={self.k}, treatments={self.n}{measure}, method={self.method!r}, "
                f"reference={self.reference!r}, tau2={self.tau2:.4f}, Q={self.q:.4f} (df={self.q_df}){comp})")
