"""The report's methods paragraph, written from the registries (convention 6): each sentence uses a
registry entry's label, and the citations are the same entries' DOIs."""
from __future__ import annotations

from .citations import registry_citations
from .context import Methods

__all__ = ["methods_section"]


def _label(registry: dict, code):
    entry = registry.get(code)
    if entry is None:
        return str(code)
    return entry[0] if isinstance(entry, tuple) else getattr(entry, "label", str(code))


def methods_section(*, measure: str | None = None, tau2: str | None = None, network_tau2: str | None = None,
                    model: str = "random", ci: str | None = None, contribution: str | None = None,
                    ranking: str | None = None, mid: str | None = None, extra: tuple[str, ...] = (),
                    framework: str = "cinema", imprecision: str = "zone") -> Methods:
    """Methods text and citations for the settings of a run.

    Parameters
    ----------
    measure : effect measure code (``netstrata.effects.registry``), e.g. "OR".
    tau2 : pairwise τ² estimator code (``netstrata.ma.METHODS``), e.g. "REML".
    network_tau2 : network τ² method code (``netstrata.nma.TAU2_METHODS``), e.g. "DL".
    model : {"common", "random"} reported network model.
    ci : pairwise interval method code (``netstrata.ma.CI_METHODS``), e.g. "hksj".
    contribution : contribution-matrix method (``netstrata.nma.contrib.CONTRIBUTION_METHODS``).
    ranking : resampling method for ranks (``netstrata.nma.ranking_resample.RESAMPLE_METHODS``).
    mid : the minimal important difference as text, e.g. "1.5 cm on a 10 cm VAS".
    extra : further sentences (plain text) appended as they are.
    framework : {"cinema", "grade_nma"}, default="cinema"
        The certainty framework named beside the contribution method.
    imprecision : {"zone", "null"}, default="zone"
        What imprecision was judged against: the MID zone (CINeMA) or the null (GRADE for NMA's
        minimally contextualised default).
    """
    from ..effects.registry import MEASURES
    from ..ma import CI_METHODS, METHODS
    from ..nma.contrib import CONTRIBUTION_METHODS
    from ..nma.network import TAU2_METHODS
    from ..nma.ranking_resample import RESAMPLE_METHODS

    text = []
    if measure is not None:
        m = MEASURES.get(str(measure).upper())
        scale = " and analysed on the log scale" if m is not None and m.is_ratio else ""
        text.append(f"Effects were expressed as {(m.label if m else str(measure)).lower()} ({measure}){scale}.")
    if tau2 is not None:
        ci_text = f", with {CI_METHODS[ci].split(' (')[0]} confidence intervals" if ci in CI_METHODS and ci != "wald" else ""
        text.append(f"Pairwise meta-analyses estimated the between-study variance (tau\u00b2) by "
                    f"{_label(METHODS, tau2)}{ci_text}.")
    if network_tau2 is not None:
        text.append(f"Network meta-analyses used the frequentist graph-theoretical method, with tau\u00b2 by "
                    f"{_label(TAU2_METHODS, network_tau2)}; {model} effects estimates are reported with "
                    "95% confidence intervals and prediction intervals.")
    if contribution is not None:
        rated = ("the seven domains of GRADE for network meta-analysis" if framework == "grade_nma" else
                 "the six CINeMA domains")
        text.append(f"Confidence in each network estimate was judged with {rated}; the "
                    f"contribution of each study was computed by {_label(CONTRIBUTION_METHODS, contribution)}.")
    if mid is not None and imprecision == "null":
        text.append(f"Imprecision was judged against the null effect, and as major where the confidence interval "
                    f"spans both limits of the zone set by the minimal important difference ({mid}).")
    elif mid is not None:
        text.append(f"Imprecision and heterogeneity were judged against a zone of clinical equivalence set by the "
                    f"minimal important difference ({mid}).")
    if ranking is not None:
        text.append(f"Treatments were ranked by resampling ({_label(RESAMPLE_METHODS, ranking)}).")
    text.append("Reporting follows the PRISMA extension for network meta-analyses (checklist below).")
    text.extend(extra)
    cites = registry_citations(measures=[measure] if measure else (), tau2=[tau2] if tau2 else (),
                               network_tau2=[network_tau2] if network_tau2 else (),
                               contribution=[contribution] if contribution else (),
                               ranking=[ranking] if ranking else ())
    return Methods(paragraphs=(" ".join(text),), citations=cites)
