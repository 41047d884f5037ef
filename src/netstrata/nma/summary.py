"""summary() of a NetworkResult: one frame (estimates versus the reference + P-scores) and notes."""
from __future__ import annotations

import numpy as np

from .._summary import Summary
from ..effects.registry import get_measure
from ..ma.pooled import NATURAL_SCALES, backtransform_columns
from .component import chi2_sf

__all__ = ["network_summary", "scale_note"]


def _fmt_p(p: float) -> str:
    return "NA" if not np.isfinite(p) else f"{p:.4g}"


def scale_note(measure, backtransf: bool) -> str:
    """The sentence a network summary prints about the scale of its effects."""
    if measure is None:
        return "Measure not given: effects on the scale they were supplied on."
    entry = get_measure(measure)
    if backtransf and entry.scale not in NATURAL_SCALES:
        return (f"Effects and CIs back-transformed from the {entry.scale_label} scale to the "
                f"{entry.label.lower()}; standard errors are not shown, z and p are those of the analysis scale.")
    return f"Effects on the {entry.scale_label} scale (measure {entry.code})."


def network_summary(fit, model: str, backtransf: bool = False) -> Summary:
    frame = fit.estimates(model)
    frame["p_score"] = fit.p_scores(model)
    if backtransf:
        frame = backtransform_columns(frame, fit.measure, columns=("effect", "ci_low", "ci_high"),
                                      caller="NetworkResult.summary")
    qh, dh, qi, di = fit._q_split()
    notes = [
        f"{fit.k} studies, {fit.m} comparisons, {fit.n} treatments; {model} effects model; "
        f"reference {fit.reference!r}; tau2 method {fit.method}.",
        f"tau2 = {fit.tau2:.4g}, tau = {fit.tau:.4g}, I2 = {fit.i2:.1f}% "
        f"[{fit.i2_ci_low:.1f}%, {fit.i2_ci_high:.1f}%].",
        f"Q total = {fit.q:.4f} (df {fit.q_df}, p {_fmt_p(fit.q_pvalue)}); "
        f"within designs = {qh:.4f} (df {dh}, p {_fmt_p(chi2_sf(qh, dh))}); "
        f"between designs = {qi:.4f} (df {di}, p {_fmt_p(chi2_sf(qi, di))}).",
    ]
    if not fit.is_connected:
        notes.append("Disconnected network analysed per sub-network: "
                     + "; ".join("{" + ", ".join(c) + "}" for c in fit.components)
                     + f". {len(fit.not_comparable)} comparisons across sub-networks are not estimable.")
    if len(fit.excluded):
        notes.append(f"{len(fit.excluded)} comparison(s) left out (missing effect or se): see .excluded.")
    notes.append(scale_note(fit.measure, backtransf))
    notes.extend(fit.notes)
    return Summary(title=f"Network meta-analysis ({model} effects)", frame=frame, notes=tuple(notes))
