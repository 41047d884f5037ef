"""From a run's results to the report: :func:`build_context` maps a
:class:`~netstrata.synthesis.result.ProjectResult` *or* its parsed ``results.json`` to a
:class:`~netstrata.present.ReportContext`.

One code path: a ProjectResult is first turned into the same dictionary as its JSON
(``result.to_dict()``; each network carries its study rows and common-effect estimates for the
forest plots). Everything here *reads* results;
the only arithmetic is display arithmetic (back-transformation, orientation of a contrast,
percent weights, Wald intervals of single study rows as in every forest plot).
"""
from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .context import Overview, ReportContext, StratumReport
from .tables import Table

__all__ = ["build_context", "report_data", "comparison_frame"]

_COMPARISON_COLUMNS = ("treat1", "treat2", "k", "source", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                       "tau2", "i2")


def report_data(source) -> dict:
    """The results dictionary of ``source`` (a ProjectResult or a parsed ``results.json``)."""
    if isinstance(source, Mapping):
        if "strata" not in source or "name" not in source:
            raise ParameterError("build_context: the results dictionary has no 'strata'/'name'; give a "
                                 "ProjectResult or the parsed results.json of 'netstrata run'.")
        return dict(source)
    if callable(getattr(source, "to_dict", None)) and hasattr(source, "strata"):
        return source.to_dict()
    raise ParameterError(f"build_context: 'source' must be a ProjectResult or a results dictionary; got "
                         f"{type(source).__name__}.")


def build_context(source, *, baseline_risk: Mapping[str, float] | None = None,
                  outcome_labels: Mapping[str, str] | None = None) -> ReportContext:
    """The report of a run.

    Parameters
    ----------
    source : ProjectResult or dict
        The run's result, or ``json.loads`` of its ``results.json``.
    baseline_risk : mapping outcome id -> control risk in (0, 1), optional
        Adds absolute effects per 1000 to the summary of findings (binary outcomes).
    outcome_labels : mapping outcome id -> text, optional
        How outcomes read in GRADE statements.

    Returns
    -------
    ReportContext
        Figures that cannot be drawn are left out and listed in the overview notes.
    """
    from . import build_sections as sec

    data = report_data(source)
    notes: list[str] = []
    strata_dicts = [*data.get("strata", ()), *data.get("lumped", ())]
    certainty = data.get("certainty") or {}
    strata = tuple(_stratum(s, certainty, _network_of(s), notes) for s in strata_dicts)
    sof = sec.summary_of_findings(strata_dicts, certainty, baseline_risk or {}, outcome_labels or {}, notes)
    mv_tables, curve = sec.multiverse(data.get("multiverse"), notes)
    ctx = ReportContext(
        overview=_overview(data, notes), title=f"Evidence synthesis report: {data['name']}", strata=strata,
        summary_of_findings=sof, certainty=sec.certainty_tables(certainty),
        transitivity=sec.transitivity_tables(data.get("transitivity")),
        fidelity=sec.fidelity_tables(data.get("fidelity")), multiverse=mv_tables, specification_curve=curve,
        exclusions=sec.exclusion_table(data.get("exclusion_register")),
        extraction_qc=sec.qc_tables(data.get("qc")), methods=sec.methods(data, strata_dicts),
        prisma_notes=sec.PRISMA_NOTES)
    return ctx


def _network_of(s: dict) -> dict | None:
    """The primary layer's network dictionary (study rows and common-effect estimates included)."""
    lay = _primary(s)
    return (lay or {}).get("network")


def _overview(data: dict, notes: list) -> Overview:
    rc = data.get("record_counts") or {}
    settings = data.get("settings") or {}
    plan = {"node level": data.get("node_level"), "strata variables": ", ".join(data.get("strata_variables") or ())
            or "none", "seed": data.get("seed"), **{f"models.{k}": v for k, v in settings.items()}}
    text = []
    if rc:
        text.append(f"Records: {rc.get('records')} in, {rc.get('analysed')} analysed, {rc.get('excluded')} in "
                    f"the exclusion register.")
    adj = data.get("adjudication")
    if isinstance(adj, Mapping) and adj.get("head"):
        text.append(f"Adjudication log {adj.get('log')}{' (keyed)' if adj.get('keyed') else ''}: "
                    f"{adj.get('entries')} entries, {len(adj.get('applied') or ())} decisions applied; head hash "
                    f"{adj['head']} (check it later with `netstrata verify-log LOG --expect-head results.json`).")
    text += list(data.get("notes") or ())
    text += [f"Report: {n}" for n in notes]
    return Overview(project=str(data["name"]), plan=plan, fingerprint=str(data.get("fingerprint") or ""),
                    generated=str(data.get("created") or ""), notes=tuple(text))


def _try(fn, notes: list, what: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is noted, not fatal
        notes.append(f"{what}: {type(exc).__name__}: {exc}")
        return None


def _primary(s: dict) -> dict | None:
    return next((lay for lay in s.get("layers", ()) if lay.get("layer") == s.get("primary_layer")), None)


def comparison_frame(layer: dict) -> pd.DataFrame:
    """The comparisons of a layer (analysis scale), one row per treatment pair."""
    rows = [{c: comp.get(c) for c in _COMPARISON_COLUMNS} | {"studies": list(comp.get("studies") or ())}
            for comp in layer.get("comparisons", ())]
    frame = pd.DataFrame(rows, columns=[*_COMPARISON_COLUMNS, "studies"])
    for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame


def _ratings(cert: dict | None) -> dict[frozenset, dict]:
    if not cert:
        return {}
    return {frozenset((r["treatment1"], r["treatment2"])): r for r in cert.get("ratings", ())}


def _zone(cert: dict | None):
    z = (cert or {}).get("zone") or {}
    return (z["low"], z["high"]) if z.get("low") is not None and z.get("high") is not None else None


def _stratum(s: dict, certainty: dict, extras: dict | None, notes: list) -> StratumReport:
    from . import build_figures as fig
    from .build_sections import evidence_layers_table

    lay = _primary(s)
    measure = s.get("measure")
    name = s["name"]
    cert = certainty.get(name)
    layers = evidence_layers_table(s, certainty)
    kw = dict(name=name, key=name, measure=measure, description=_description(s, lay),
              notes=tuple(lay.get("notes", ())) if lay else (), tables=(layers,) if layers is not None else ())
    if lay is None:
        return StratumReport(no_network_reason="no data", **kw)
    comps = comparison_frame(lay)
    zone, ratings = _zone(cert), _ratings(cert)
    forests = tuple(f for f in _try(lambda: fig.forests(comps, lay, extras, measure, zone, name), notes,
                                    f"{name}: forest plots") or () if f is not None)
    net = lay.get("network")
    if net is None:
        if not len(comps):
            rates = pd.DataFrame(lay.get("rates", ()))
            keep = [c for c in ("treatment", "k", "method", "proportion", "ci_low", "ci_high", "pi_low", "pi_high",
                                "events", "n") if c in rates.columns]
            table = Table(rates[keep], title="Single-arm outcome rates (proportion)")
        else:
            table = estimates_table(comps, measure, ratings, title="Study result")
        reason = "one study" if lay.get("status") == "single_study" else str(lay.get("status") or "no data")
        return StratumReport(single_study=table, no_network_reason=reason, forests=forests, **kw)
    return StratumReport(
        network=_try(lambda: fig.network_graph(comps, net), notes, f"{name}: network plot"),
        geometry=_try(lambda: fig.geometry(comps, net), notes, f"{name}: network geometry"),
        league=_try(lambda: fig.league(comps, net, measure, name), notes, f"{name}: league heat map"),
        heterogeneity=_heterogeneity(net), forests=forests,
        estimates=estimates_table(comps, measure, ratings, title="Estimates (all pairs, network)"), **kw)


def _description(s: dict, lay: dict | None) -> str:
    text = f"{len(s.get('studies', ()))} studies; evidence: {s.get('evidence')}; measure: {s.get('measure')}"
    if lay and lay.get("network"):
        text += f"; reference treatment: {lay['network'].get('reference')}"
    return text + "."


def _heterogeneity(net: dict) -> Table:
    keys = ("k", "m", "method", "tau2", "i2", "q", "q_df", "q_pvalue")
    frame = pd.DataFrame([{k: net.get(k) for k in keys}])
    for k in ("tau2", "i2", "q", "q_pvalue"):          # None (JSON null) and NaN alike
        frame[k] = pd.to_numeric(frame[k], errors="coerce").astype(float)
    frame = frame.rename(columns={"k": "Studies", "m": "Pairwise comparisons", "method": "tau\u00b2 method",
                                  "q_df": "df (Q)"})
    return Table(frame, title="Network heterogeneity", digits={"tau2": 3, "i2": 1, "q": 2, "q_pvalue": 3})


def estimates_table(comps: pd.DataFrame, measure: str | None, ratings: dict, *, title: str) -> Table:
    """Pairwise estimates, back-transformed for ratio measures (by :class:`Table`), with the
    certainty of each comparison (its label names a provisional rating)."""
    frame = comps.drop(columns=["tau2", "i2"]).copy()
    frame["studies"] = ["; ".join(x) for x in frame["studies"]]
    if ratings:
        cells = [certainty_cells((ratings.get(frozenset((a, b))) or {}).get("label", "not rated"))
                 for a, b in zip(frame["treat1"], frame["treat2"])]
        frame["certainty"] = [c for c, _ in cells]
        frame["provisional because"] = [w for _, w in cells]
    frame = frame.rename(columns={"source": "evidence", "studies": "direct studies"})
    notes = ()
    if measure and _is_ratio(measure):
        notes = (f"{measure}: ratios (back-transformed from the log scale of the analysis); 1 = no difference.",)
    return Table(frame, title=title, measure=measure, notes=notes)


def certainty_cells(label: str) -> tuple[str, str]:
    """A rating label "Low (provisional: within-study bias not assessed)" as the badge text
    "Low (provisional)" and the reason "within-study bias not assessed"."""
    label = str(label or "")
    head, sep, rest = label.partition(" (provisional: ")
    if not sep:
        return label, ""
    return f"{head} (provisional)", rest.rstrip(")")


def _is_ratio(measure: str) -> bool:
    from ._format import measure_scale
    try:
        return bool(measure_scale(measure).is_ratio)
    except Exception:  # noqa: BLE001 - an unknown measure is shown as is
        return False

