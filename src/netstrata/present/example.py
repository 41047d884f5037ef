"""A small synthetic :class:`ReportContext` for tests, documentation and trying the report.

All numbers are made up (clearly labelled as synthetic); the fits are real netstrata fits of
them. ``hostile=True`` names one study ``<script>alert(1)</script>`` (and puts markup in other
user strings) to show that the report escapes everything.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .context import Overview, ReportContext, StratumReport
from .contribution import ContributionDisplay
from .forest import ForestDisplay
from .league import LeagueHeatmapDisplay, league_text
from .methods import methods_section
from .network_plot import NetworkGraphDisplay, network_geometry
from .rank import RankDisplay
from .speccurve import SpecificationCurveDisplay
from .tables import Table

__all__ = ["example_context", "HOSTILE"]

HOSTILE = "<script>alert(1)</script>"
_MID = 1.5  # cm on a 10 cm VAS (synthetic example)


def _contrasts(hostile: bool) -> pd.DataFrame:
    # study, treat1, treat2, effect (MD, cm VAS; negative = less pain with treat1), se
    rows = [("Alpha 2001", "RF", "Sham", -1.9, 0.55), ("Beta 2004", "RF", "Sham", -0.6, 0.48),
            ("Gamma 2008", "Steroid", "Sham", -0.4, 0.40), ("Delta 2010", "Steroid", "Sham", 0.2, 0.45),
            ("Epsilon 2012", "LA", "Sham", -0.3, 0.50), ("Zeta 2015", "RF", "Steroid", -0.9, 0.60),
            ("Eta 2018", "LA", "Steroid", 0.1, 0.52), ("Theta 2020", "RF", "LA", -1.2, 0.70)]
    frame = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])
    if hostile:
        frame.loc[1, "study"] = HOSTILE
    return frame


def _network_stratum(hostile: bool) -> tuple[StratumReport, object, pd.DataFrame]:
    from ..ma import pairwise
    from ..nma import network
    from ..nma.contrib import contributions
    from ..nma.ranking_resample import rank_resample

    con = _contrasts(hostile)
    fit = network(con, method="DL", reference="Sham")
    zone = (-_MID, _MID)
    rf = con[(con.treat1 == "RF") & (con.treat2 == "Sham")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        re = pairwise(rf["effect"], rf["se"] ** 2, method="REML")
        fe = pairwise(rf["effect"], rf["se"] ** 2, method="FE")
    rob = {s: lvl for s, lvl in zip(con["study"], [1, 2, 1, 3, 2, 1, 2, 3])}
    ci = fit.league_ci("random")
    st = StratumReport(
        name="Lumbar facet pain / pain intensity / 3 months",
        description="Synthetic example stratum: mean difference in pain (10 cm VAS) versus sham.",
        measure="MD",
        network=NetworkGraphDisplay.from_result(fit, groups={"RF": "ablation", "Steroid": "injection",
                                                             "LA": "injection", "Sham": "control"},
                                                group_label="Family", title="Treatment network"),
        forests=(ForestDisplay.from_result(re, common=fe, studies=list(rf["study"]), measure="MD", mid_zone=zone,
                                           title="RF versus sham: direct evidence",
                                           favours=("favours RF", "favours sham")),
                 ForestDisplay.from_network(fit, measure="MD", mid_zone=zone, title="Network estimates versus sham")),
        geometry=network_geometry(fit.rows, fit.treatments),
        estimates=Table.of(fit.summary("random"), measure="MD"),
        league=LeagueHeatmapDisplay.from_result(fit, measure="MD", title="League table (random effects)"),
        league_table=Table(league_text(fit.league(), ci.ci_low, ci.ci_high, measure="MD"), index=True,
                           title="Row versus column, mean difference (95% CI)"),
        ranking=RankDisplay.from_result(rank_resample(fit, n_draws=2000, seed=42), title="Ranks (resampling)"),
        contribution=ContributionDisplay.from_result(contributions(fit), rob, title="random effects"),
    )
    return st, fit, con


def _single_study_stratum(hostile: bool) -> StratumReport:
    frame = pd.DataFrame({"study": [HOSTILE if hostile else "Iota 2019"], "treat1": ["RF"], "treat2": ["Sham"],
                          "effect": [-1.1], "ci_low": [-2.3], "ci_high": [0.1]})
    return StratumReport(name="Cervical facet pain / pain intensity / 3 months", measure="MD",
                         no_network_reason="Only one study reported this outcome in this stratum.",
                         single_study=Table(frame, title="Single study result"))


def _certainty(fit) -> pd.DataFrame:
    est = fit.estimates("random").drop(index="Sham")
    judg = {"RF": ("some concerns", "no concerns", "no concerns", "some concerns", "some concerns", "no concerns",
                   "Low"),
            "Steroid": ("major concerns", "no concerns", "some concerns", "no concerns", "no concerns",
                        "not assessable", "Low"),
            "LA": ("some concerns", "no concerns", "no concerns", "major concerns", "some concerns",
                   "not assessable", "Very low")}
    cols = ("within_study_bias", "reporting_bias", "indirectness", "imprecision", "heterogeneity", "incoherence",
            "rating")
    rows = [{"comparison": f"{t}:Sham", "effect": est.loc[t, "effect"], "ci_low": est.loc[t, "ci_low"],
             "ci_high": est.loc[t, "ci_high"]} | dict(zip(cols, judg[t])) for t in est.index]
    return pd.DataFrame(rows)


def _multiverse() -> pd.DataFrame:
    rng = np.random.default_rng(20250318)
    rows = []
    for node_map in ("split", "lumped"):
        for inclusion in ("all", "conforming only", "low risk of bias"):
            for model in ("common", "random"):
                e, s = rng.normal(-1.0, 0.35), rng.uniform(0.25, 0.6)
                rows.append({"node_map": node_map, "inclusion": inclusion, "model": model, "effect": e,
                             "ci_low": e - 1.96 * s, "ci_high": e + 1.96 * s,
                             "primary": (node_map, inclusion, model) == ("split", "all", "random")})
    return pd.DataFrame(rows)


def example_context(hostile: bool = False) -> ReportContext:
    """A complete synthetic report context (two strata, one without a network)."""
    st, fit, con = _network_stratum(hostile)
    cert = _certainty(fit)
    sof = cert[["comparison", "effect", "ci_low", "ci_high", "rating"]].rename(columns={"rating": "certainty"})
    spec = _multiverse()
    name = HOSTILE if hostile else "Alpha 2001"
    return ReportContext(
        title="Evidence synthesis report (synthetic example)",
        overview=Overview(project="Synthetic spine example" + (f" {HOSTILE}" if hostile else ""),
                          question="Does radiofrequency ablation reduce chronic facet pain compared with sham?",
                          plan={"outcome": "pain intensity (10 cm VAS)", "MID": _MID, "model": "random effects, DL",
                                "time window": "closest to 3 months, not beyond"},
                          fingerprint="0" * 16 + "synthetic", software={"netstrata": "example"}),
        strata=(st, _single_study_stratum(hostile)),
        transitivity=Table(pd.DataFrame({"comparison": ["RF:Sham", "Steroid:Sham", "LA:Sham"],
                                         "k": [2, 2, 1], "mean_age": [52.1, 49.8, 55.0],
                                         "selection_dual_block": ["2/2", "0/2", "0/1"]}),
                           title="Effect modifiers by direct comparison"),
        fidelity=Table(pd.DataFrame({"study": [name, "Beta 2004"], "tier": ["conforming", "non-conforming"],
                                     "reason": ["", "perpendicular electrode placement"]})),
        certainty=Table(cert, measure="MD", title="CINeMA judgements, network estimates versus sham"),
        summary_of_findings=Table(sof, measure="MD", title="Pain intensity at 3 months versus sham (MD, cm VAS)"),
        multiverse=Table(spec, measure="MD", title="RF versus sham under each specification"),
        specification_curve=SpecificationCurveDisplay(spec, measure="MD", mid_zone=(-_MID, _MID),
                                                      title="RF versus sham across 12 specifications"),
        exclusions=Table(pd.DataFrame({"study": ["Kappa 2010", name], "reason_code": ["population_out_of_scope",
                                                                                    "data_not_extractable"],
                                       "message": ["mixed acute and chronic pain", "only medians reported"]})),
        extraction_qc=Table(pd.DataFrame({"study": [name], "column": ["events"], "extractor_a": [7],
                                          "extractor_b": [9], "resolution": ["b confirmed on page 4"]})),
        methods=methods_section(measure="MD", tau2="REML", network_tau2="DL", contribution="shortestpath",
                                ranking="parametric", mid=f"{_MID} cm on a 10 cm VAS",
                                extra=("All data in this example are synthetic.",)),
        prisma_notes={"5": "Synthetic example: no protocol."},
    )
