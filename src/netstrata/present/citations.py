"""Citations for the report's methods section, read from the registries' DOIs (convention 6).

Each registry entry (measures, τ² estimators, network methods, contribution and node-splitting
methods, ranking by resampling) declares its reference once; :func:`registry_citations` collects
those the analysis used, plus the frameworks every netstrata report relies on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

__all__ = ["Citation", "registry_citations", "FRAMEWORK_CITATIONS", "normalise_doi"]


@dataclass(frozen=True, slots=True)
class Citation:
    """One reference: what it supports (``topic``), a short text and its DOI (bare, no prefix)."""

    topic: str
    text: str = ""
    doi: str = ""

    @property
    def url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""


def normalise_doi(doi: str) -> str:
    """'doi:10.x/y', 'https://doi.org/10.x/y' and '10.x/y' all become '10.x/y'."""
    doi = str(doi or "").strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "http://dx.doi.org/", "doi:", "DOI:"):
        if doi.startswith(prefix):
            doi = doi[len(prefix):]
    return doi.strip()


FRAMEWORK_CITATIONS = (
    Citation("PRISMA-NMA reporting checklist", "Hutton B et al. Ann Intern Med 2015;162:777-84", "10.7326/M14-2385"),
    Citation("CINeMA confidence in network meta-analysis", "Nikolakopoulou A et al. PLoS Med 2020;17:e1003082",
             "10.1371/journal.pmed.1003082"),
    Citation("Graph-theoretical network meta-analysis (netmeta)", "Rücker G. Res Synth Methods 2012;3:312-24",
             "10.1002/jrsm.1058"),
    Citation("Pairwise meta-analysis (metafor)", "Viechtbauer W. J Stat Softw 2010;36(3):1-48",
             "10.18637/jss.v036.i03"),
)


def _entry(topic: str, label: str, reference: str) -> Citation:
    return Citation(topic, label, normalise_doi(reference))


def _lookup(registry: dict, codes: Iterable[str], topic: str) -> list[Citation]:
    out = []
    for code in codes:
        entry = registry.get(code)
        if entry is None:
            continue
        if isinstance(entry, tuple):                    # (label, reference) registries
            label, ref = entry
        else:
            label = getattr(entry, "label", code)
            ref = getattr(entry, "doi", None) or getattr(entry, "reference", "")
        out.append(_entry(f"{topic}: {code}", label, ref))
    return out


def registry_citations(*, measures: Iterable[str] = (), tau2: Iterable[str] = (), network_tau2: Iterable[str] = (),
                       contribution: Iterable[str] = (), split: Iterable[str] = (), ranking: Iterable[str] = (),
                       frameworks: bool = True) -> tuple[Citation, ...]:
    """Citations of the methods used, from the registries, without duplicates (first topic wins).

    Parameters
    ----------
    measures : codes of :data:`netstrata.effects.registry.MEASURES` (e.g. "OR").
    tau2 : codes of :data:`netstrata.ma.METHODS` (pairwise τ² estimators).
    network_tau2 : codes of :data:`netstrata.nma.TAU2_METHODS`.
    contribution : codes of :data:`netstrata.nma.contrib.CONTRIBUTION_METHODS`.
    split : codes of :data:`netstrata.nma.split.SPLIT_METHODS`.
    ranking : codes of :data:`netstrata.nma.ranking_resample.RESAMPLE_METHODS`.
    frameworks : include :data:`FRAMEWORK_CITATIONS` (PRISMA-NMA, CINeMA, netmeta, metafor).
    """
    from ..effects.registry import MEASURES
    from ..ma.estimators import METHODS
    from ..nma.contrib import CONTRIBUTION_METHODS
    from ..nma.network import TAU2_METHODS
    from ..nma.ranking_resample import RESAMPLE_METHODS
    from ..nma.split import SPLIT_METHODS

    found = (_lookup(MEASURES, [str(m).upper() for m in measures], "Effect measure")
             + _lookup(METHODS, tau2, "Between-study variance (pairwise)")
             + _lookup(TAU2_METHODS, network_tau2, "Between-study variance (network)")
             + _lookup(CONTRIBUTION_METHODS, contribution, "Contribution matrix")
             + _lookup(SPLIT_METHODS, split, "Node splitting")
             + _lookup(RESAMPLE_METHODS, ranking, "Ranking by resampling")
             + (list(FRAMEWORK_CITATIONS) if frameworks else []))
    seen, out = set(), []
    for c in found:
        if c.doi and c.doi in seen:
            continue
        seen.add(c.doi)
        out.append(c)
    return tuple(out)
