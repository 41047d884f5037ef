"""Report tables of the class-effect models of one stratum (results.json ``class_models`` entry).

Reads what :func:`netstrata.synthesis.classes_stage.class_models` stored: the three models
side by side (log-likelihood and AIC by ML, tau², the likelihood-ratio test of common versus
exchangeable), the class effects and each treatment's shrinkage towards its class.
"""
from __future__ import annotations

import pandas as pd

from .tables import Table

__all__ = ["class_model_tables"]


def class_model_tables(entry: dict, measure: str | None = None) -> tuple[Table, ...]:
    """(model comparison, class effects, shrinkage) tables of one stratum."""
    cmp = entry["comparison"]
    level = entry.get("class_level", "class")
    models = pd.DataFrame(cmp["models"])
    models = models[["model", "assumption", "n_parameters", "loglik", "aic", "delta_aic", "tau2"]].rename(
        columns={"n_parameters": "parameters", "loglik": "log-likelihood (ML)", "aic": "AIC",
                 "delta_aic": "\u0394AIC"})
    lrt = cmp.get("lrt") or {}
    notes = (f"Treatments nested in their {level!r} class: split (independent), partly pooled "
             "(exchangeable) and lumped (common) networks fitted to the same data; smaller AIC fits "
             "better for its number of parameters.",
             f"Likelihood-ratio test, common versus exchangeable: {lrt.get('note', 'not available')}.")
    first = Table(models, title=f"Class models ({level}): split, exchangeable, lumped", notes=notes,
                  digits={"log-likelihood (ML)": 2, "AIC": 2, "\u0394AIC": 2, "tau2": 3})
    ce = pd.DataFrame(entry["class_effects"])
    keep = [c for c in ("class", "members", "estimate", "ci_low", "ci_high", "sigma2") if c in ce.columns]
    second = Table(ce[keep].rename(columns={"sigma2": "within-class variance"}),
                   title=f"Class effects (exchangeable model, versus the class of {entry.get('reference')})",
                   measure=measure, digits={"within-class variance": 3},
                   notes=("A class with one member has no within-class variance.",))
    sh = pd.DataFrame(cmp["shrinkage"])
    third = Table(sh[["treatment", "class", "independent", "exchangeable", "class_effect", "common", "shrinkage",
                      "note"]], title="Shrinkage of each treatment towards its class effect",
                  notes=("shrinkage = (independent - exchangeable) / (independent - class effect): 0 keeps the "
                         "treatment's own estimate, 1 pulls it onto its class; analysis scale.",), digits=3)
    return first, second, third
