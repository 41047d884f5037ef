"""summary() of a ComponentNetworkResult: component effects and notes on the additivity test."""
from __future__ import annotations

import numpy as np

from ..._summary import Summary
from ...ma.pooled import backtransform_columns
from ..summary import scale_note

__all__ = ["cnma_summary", "additivity_sentence"]


def _fmt(x: float, spec: str = ".4f") -> str:
    return "NA" if x is None or not np.isfinite(x) else format(x, spec)


def additivity_sentence(res) -> str:
    """Plain words on the test of additivity (Q_diff), e.g. for a report."""
    if not np.isfinite(res.q_diff_pvalue):
        if res.standard is None:
            return ("The test of additivity is not available: the network is disconnected, so there is no "
                    "standard model to compare with.")
        return (f"The test of additivity has 0 degrees of freedom (Q_diff = {_fmt(res.q_diff)}): the additive "
                "model has as many parameters as the standard model.")
    verdict = ("Additivity is rejected" if res.additivity_rejected else "Additivity is not rejected")
    level = f"{100 * (1 - res.level):g}%"
    return (f"{verdict} at the {level} level: Q_diff = {_fmt(res.q_diff)} on {int(res.q_diff_df)} df, "
            f"p = {_fmt(res.q_diff_pvalue, '.4g')}"
            + ("; combination effects from the additive model may be biased." if res.additivity_rejected
               else "."))


def cnma_summary(res, model: str, backtransf: bool = False) -> Summary:
    frame = res.component_effects(model)
    if backtransf:
        frame = backtransform_columns(frame, res.measure, columns=("effect", "ci_low", "ci_high"),
                                      caller="ComponentNetworkResult.summary")
    notes = [
        f"{res.k} studies, {res.m} comparisons, {res.n} treatments, {res.c} components "
        f"({res.kind}); {model} effects model; inactive component: {res.inactive or 'none'}.",
        f"Additive model: Q = {_fmt(res.q)} (df {res.q_df}, p {_fmt(res.q_pvalue, '.4g')}); "
        f"tau2 = {_fmt(res.tau2, '.4g')}, I2 = {_fmt(res.i2, '.1f')}{'%' if np.isfinite(res.i2) else ''}.",
        (f"Standard model: Q = {_fmt(res.q_standard)} (df {res.q_standard_df})." if res.standard is not None
         else "Standard model: not available (disconnected network)."),
        additivity_sentence(res),
    ]
    if res.interactions:
        notes.append("Interaction terms: " + ", ".join(res.interactions) + ".")
    if not res.is_connected:
        notes.append("Disconnected network linked through shared components: "
                     + "; ".join("{" + ", ".join(s) + "}" for s in res.subnetworks) + ".")
    notes.append(scale_note(res.measure, backtransf))
    if res.not_identifiable:
        notes.append("Not identifiable from the data: " + ", ".join(res.not_identifiable)
                     + " (see the 'identifiable' column; NaN where netmeta sets NA).")
    return Summary(title=f"Component network meta-analysis ({model} effects)", frame=frame, notes=tuple(notes))
