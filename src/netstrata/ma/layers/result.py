"""Result objects of :func:`netstrata.ma.layers.combine_layers`: every layer side by side."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._summary import Summary
from .approaches import LAYER_APPROACHES
from ..metareg import MetaRegressionResult
from ..pairwise import PairwiseResult
from ..subgroups import SubgroupResult

__all__ = ["LAYER_LABELS", "DesignComparison", "LayeredResult"]

#: Layer name -> row label of the summary table.
LAYER_LABELS = {"rct": "randomised (RCT)", "nrs": "non-randomised comparative (NRS)", "combined": "combined"}
_COLUMNS = ("k", "estimate", "se", "ci_low", "ci_high", "pvalue", "pi_low", "pi_high", "tau2", "i2")


@dataclass(frozen=True, slots=True)
class DesignComparison:
    """Per-design estimates and their difference (NRS − RCT) with the test of design differences.

    ``tau2_model`` is ``"separate"`` (each design its own fit and τ²; the difference has a Wald
    interval and the test is Q-between on 1 df, Borenstein & Higgins 2013) or ``"common"`` (the
    meta-regression on design with one τ²: intercept = RCT level, coefficient = difference; the
    test is QM, an F test with ``ci='hksj'``). ``df`` is None for z / chi-square tests.
    """

    tau2_model: str
    rct_estimate: float
    rct_se: float
    rct_ci_low: float
    rct_ci_high: float
    nrs_estimate: float
    nrs_se: float
    nrs_ci_low: float
    nrs_ci_high: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    pvalue: float
    test: str
    q: float
    q_df: tuple[int, ...]
    q_pvalue: float
    df: int | None = None

    def __repr__(self) -> str:
        return (f"DesignComparison(tau2={self.tau2_model!r}, difference={self.difference:.4f} "
                f"[{self.ci_low:.4f}, {self.ci_high:.4f}], {self.test}={self.q:.4f}, p={self.q_pvalue:.4g})")


def _row(res: PairwiseResult | None, note: str) -> dict:
    if res is None:
        return {**{c: np.nan for c in _COLUMNS}, "k": 0, "note": note}
    return {**{c: getattr(res, c) for c in _COLUMNS}, "note": note}


@dataclass(frozen=True, slots=True, eq=False)
class LayeredResult:
    """Randomised-only, non-randomised-only and (when requested) combined results, side by side.

    Each of ``rct``, ``nrs`` and ``combined`` is a :class:`PairwiseResult` or None with the reason
    in ``rct_reason`` / ``nrs_reason`` / ``combined_reason``. ``combined`` is never set without
    ``rct``. ``comparison`` holds the per-design estimates and their difference (approaches
    ``subgroup`` and ``moderator``); ``subgroup`` and ``regression`` the underlying fits.
    ``fallback`` is ``"nrs"`` when there is no randomised study (the observational layer is what
    there is), else None; ``certainty_note`` gives the GRADE starting level of the primary layer.
    For ``moderator`` the combined result wraps the meta-regression fit: ``estimate`` is the
    RCT-level (intercept) coefficient, ``k`` counts all studies, ``tau2``/``i2``/``q`` are residual
    and its ``leave1out()`` does not apply (it refits intercept-only models). For ``downweight``,
    ``combined.fit.y`` and ``combined.fit.v`` hold the bias-adjusted data that were pooled.
    ``study``, ``design`` and ``order`` (input positions) follow the analysis order, which is the
    order of the studies in ``rct.weights`` then ``nrs.weights``, and of ``combined.weights``.
    ``notes`` holds anything else the reader must know (e.g. a comparison that could not be fitted).
    """

    approach: str
    method: str
    ci: str
    level: float
    inflation: float | None
    shift: float | None
    common_tau2: bool
    rct: PairwiseResult | None
    nrs: PairwiseResult | None
    combined: PairwiseResult | None
    rct_reason: str | None
    nrs_reason: str | None
    combined_reason: str | None
    comparison: DesignComparison | None
    subgroup: SubgroupResult | None
    regression: MetaRegressionResult | None
    fallback: str | None
    certainty_note: str
    study: tuple[str, ...]
    design: tuple[str, ...]
    order: np.ndarray
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.combined is not None and self.rct is None:  # the rule of issue 9, enforced at construction
            raise ValueError("LayeredResult: a combined estimate needs the randomised-only result beside it.")

    @property
    def k(self) -> int:
        return len(self.study)

    @property
    def k_rct(self) -> int:
        return self.design.count("RCT")

    @property
    def k_nrs(self) -> int:
        return self.design.count("NRS_comparative")

    @property
    def layers(self) -> tuple[str, ...]:
        """Names of the layers present, in order: 'rct', 'nrs', 'combined'."""
        return tuple(n for n in ("rct", "nrs", "combined") if getattr(self, n) is not None)

    @property
    def primary(self) -> PairwiseResult:
        """The layer main tables should read: the RCT-only result, else (fallback) the NRS-only one."""
        if self.rct is not None:
            return self.rct
        if self.nrs is not None:
            return self.nrs
        raise ValueError("a LayeredResult without a randomised and a non-randomised layer has no primary layer")

    @property
    def parameters(self) -> dict[str, float | bool]:
        """The approach's parameters as given (after validation)."""
        return {p: getattr(self, p) for p in LAYER_APPROACHES[self.approach].parameters}

    def to_frame(self) -> pd.DataFrame:
        """One row per layer (absent layers: k = 0, NaN and the reason in ``note``)."""
        rows = {LAYER_LABELS["rct"]: _row(self.rct, self.rct_reason or ""),
                LAYER_LABELS["nrs"]: _row(self.nrs, self.nrs_reason or "")}
        c = self.comparison
        if c is not None and c.tau2_model == "common":
            for lay in ("rct", "nrs"):
                rows[f"{LAYER_LABELS[lay]}, common tau2"] = {
                    **{col: np.nan for col in _COLUMNS}, "k": getattr(self, f"k_{lay}"),
                    **{col: getattr(c, f"{lay}_{col}") for col in ("estimate", "se", "ci_low", "ci_high")},
                    "note": "meta-regression on design"}
        if c is not None:
            rows["difference (NRS - RCT)"] = {**{col: np.nan for col in _COLUMNS}, "k": self.k,
                                              "estimate": c.difference, "se": c.se, "ci_low": c.ci_low,
                                              "ci_high": c.ci_high, "pvalue": c.pvalue,
                                              "note": f"{c.tau2_model} tau2; {c.test} = {c.q:.4g}, "
                                                      f"p = {c.q_pvalue:.4g}"}
        rows[f"{LAYER_LABELS['combined']} ({self.approach})"] = _row(self.combined, self.combined_reason or "")
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame["k"] = frame["k"].astype(int)
        frame.index.name = "layer"
        return frame

    def summary(self) -> Summary:
        entry = LAYER_APPROACHES[self.approach]
        params = ", ".join(f"{k} = {v:g}" if not isinstance(v, bool) else f"{k} = {v}"
                           for k, v in self.parameters.items())
        notes: tuple[str, ...] = (f"Approach: {entry.label}{'; ' + params if params else ''} ({entry.reference}; "
                 f"doi:{entry.doi}).",
                 f"k = {self.k} ({self.k_rct} randomised, {self.k_nrs} non-randomised); tau2 by {self.method}; "
                 f"{'Knapp-Hartung' if self.ci == 'hksj' else 'Wald'} {100 * self.level:g}% intervals.",
                 f"Certainty: {self.certainty_note}.")
        if self.fallback is not None:
            notes += ("No randomised study: the non-randomised layer is reported as the primary evidence, "
                      "labelled observational; no combined estimate is formed.",)
        notes += self.notes
        for name in self.layers:
            if not getattr(self, name).converged:
                notes += (f"WARNING: the tau2 estimator did not converge for the {LAYER_LABELS[name]} "
                          "result; its numbers are not reliable.",)
        if self.combined is not None:
            notes += (f"Combined = {entry.combined}: a sensitivity analysis, to be read beside the "
                      "randomised-only result.",)
        return Summary(f"Evidence layers ({self.approach})", self.to_frame(), notes)

    def __repr__(self) -> str:
        parts = [f"{n}={r.estimate:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}] (k={r.k})"
                 for n, r in ((n, getattr(self, n)) for n in self.layers)]
        tail = f", fallback={self.fallback!r}" if self.fallback else ""
        return (f"LayeredResult(approach={self.approach!r}, layers={self.layers!r}, "
                f"{', '.join(parts)}{tail})")
