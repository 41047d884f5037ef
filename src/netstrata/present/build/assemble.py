"""From a run's results to the report: :func:`build_context` maps a
:class:`~netstrata.synthesis.result.ProjectResult` *or* its parsed ``results.json`` to a
:class:`~netstrata.present.ReportContext`.

One code path: a ProjectResult is first turned into its JSON text and read back
(``json.loads(result.to_json())``), so the report ``run`` writes and the one ``netstrata report
results.json`` writes are the same bytes. Everything here *reads* results; the only arithmetic is
display arithmetic (back-transformation, orientation of a contrast, percent weights, Wald
intervals of single study rows as in every forest plot). Labels come from the run's glossary.
"""
from __future__ import annotations

import json
from typing import Mapping

import pandas as pd

from ...errors import ParameterError
from .._format import measure_scale
from ..certainty_text import rating_for, rating_pi
from ..components import component_tables
from ..context import Block, Overview, ReportContext, StratumReport
from ..labels import Labels
from ..network_plot import network_geometry
from ..tables import Table
from . import audit
from . import figures as fig
from . import sections as sec
from .multiverse import multiverse as multiverse_section
from .certainty import certainty_tables
from .extras import add_class_and_threshold
from .figures import study_contrasts
from .lead import contrast_blocks
from .sections import certainty_cells as cells
from .sections import layer_certainty
from .sof import primary_layer, summary_tables, zone_of

__all__ = ["build_context", "report_data", "comparison_frame", "certainty_cells", "key_facts"]

_COMPARISON_COLUMNS = ("treat1", "treat2", "k", "source", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                       "tau2", "i2")


def report_data(source) -> dict:
    """The results dictionary of ``source`` (a ProjectResult or a parsed ``results.json``), as
    the JSON file holds it (a ProjectResult goes through its JSON text)."""
    if isinstance(source, Mapping):
        if "strata" not in source or "name" not in source:
            raise ParameterError("build_context: the results dictionary has no 'strata'/'name'; give a "
                                 "ProjectResult or the parsed results.json of 'netstrata run'.")
        return dict(source)
    if callable(getattr(source, "to_json", None)) and hasattr(source, "strata"):
        return json.loads(source.to_json())
    raise ParameterError(f"build_context: 'source' must be a ProjectResult or a results dictionary; got "
                         f"{type(source).__name__}.")


def certainty_cells(label: str) -> tuple[str, str]:
    return cells(label)


def key_facts(data: dict) -> tuple[tuple[str, str], ...]:
    """The counts shown first (from the run's ``counts``, the numbers the CLI prints)."""
    c = data.get("counts") or {}
    facts = [(c.get("strata"), "clinical strata"), (c.get("lumped"), "lumped analyses (one per outcome)"),
             (c.get("studies"), "studies analysed"),
             (f"{c.get('records_analysed')} of {c.get('records')}", "outcome records analysed"),
             (c.get("register_rows"), "exclusion-register rows"),
             (c.get("contrasts_multi_stratum"), "comparison studied in more than one stratum"
              if c.get("contrasts_multi_stratum") == 1 else "comparisons studied in more than one stratum")]
    if "specifications" in c:
        facts.append((f"{c.get('multiverse_robust')} of {c.get('multiverse_comparisons')}",
                      f"conclusions hold in all {c.get('specifications')} specifications"))
    return tuple((str(v), label) for v, label in facts if v is not None)


def build_context(source, *, baseline_risk: Mapping[str, float] | None = None,
                  outcome_labels: Mapping[str, str] | None = None, curve: pd.DataFrame | None = None,
                  curves: str = "auto") -> ReportContext:
    """The report of a run.

    Parameters
    ----------
    source : ProjectResult or dict
        The run's result, or ``json.loads`` of its ``results.json``.
    baseline_risk, outcome_labels : mapping, optional
        Deprecated and ignored: baseline risks and outcome labels are part of the run's results
        (the plan's ``[report] baseline_risk``), so ``run`` and ``report`` show the same numbers.
    curve : DataFrame, optional
        The multiverse's specification curve when the results reference it
        (``multiverse.curve_file``) instead of holding it.
    curves : {"auto", "all", "summary"}
        Which specification curves to draw (:mod:`netstrata.present.build.multiverse`).

    Returns
    -------
    ReportContext
    """

    data = report_data(source)
    L = Labels(data.get("labels"))
    outcomes = data.get("outcomes") or {}
    zones = {o: zone_of(v) for o, v in outcomes.items()}
    strata = tuple(_stratum(s, data, L, zones, lumped=False) for s in data.get("strata", ())) + tuple(
        _stratum(s, data, L, zones, lumped=True) for s in data.get("lumped", ()))
    strata = add_class_and_threshold(strata, data, [])
    lead, more = contrast_blocks(data, L, zones)
    mv_tables, curve_groups, curves_note = multiverse_section(data, L, curve=curve, curves=curves)
    known = audit.known_trials_table(data, L)
    return ReportContext(
        overview=_overview(data), title=f"Evidence synthesis report: {data['name']}", strata=strata,
        summary_of_findings=summary_tables(data, L) or None,
        certainty=(*certainty_tables(data, L), sec.rob_table(data, L)),
        transitivity=sec.transitivity_tables(data.get("transitivity"), L) or None,
        fidelity=sec.fidelity_tables(data.get("fidelity"), L) or None, multiverse=mv_tables or None,
        exclusions=audit.exclusion_table(data, L), extraction_qc=audit.qc_tables(data, L) or None,
        methods=audit.methods(data, L), prisma_notes=sec.PRISMA_NOTES, facts=key_facts(data), contrasts=lead,
        contrasts_more=more, curves=curve_groups, curves_note=curves_note, omissions=known, panel=audit.panel_tables(data) or None,
        glossary=audit.glossary_table(L), configuration=(*audit.configuration_tables(data, L), *_run_notes(data)))


def _overview(data: dict) -> Overview:
    notes = []
    if not data.get("risk_of_bias") and any("no rob.csv" in n for n in data.get("notes") or ()):
        notes.append("Within-study bias was not assessed (the project has no risk-of-bias table), so every "
                     "certainty rating is provisional: an upper bound.")
    adj = data.get("adjudication")
    if isinstance(adj, Mapping) and adj.get("head"):
        notes.append(f"Adjudication log {adj.get('log')}{' (keyed)' if adj.get('keyed') else ''}: "
                     f"{adj.get('entries')} entries, {len(adj.get('applied') or ())} decisions applied; head hash "
                     f"{adj['head']} (check it later with `netstrata verify-log LOG --expect-head results.json`).")
    return Overview(project=str(data["name"]), fingerprint=str(data.get("fingerprint") or ""),
                    generated=str(data.get("created") or ""), notes=tuple(notes), plan={})


def _run_notes(data: dict) -> tuple[Table, ...]:
    notes = list(data.get("notes") or ())
    if not notes:
        return ()
    return (Table(pd.DataFrame({"Note": notes}), title="Notes recorded by the run"),)


def comparison_frame(layer: dict) -> pd.DataFrame:
    """The comparisons of a layer (analysis scale), one row per treatment pair."""
    rows = [{c: comp.get(c) for c in _COMPARISON_COLUMNS} | {"studies": list(comp.get("studies") or ())}
            for comp in layer.get("comparisons", ())]
    frame = pd.DataFrame(rows, columns=[*_COMPARISON_COLUMNS, "studies"])
    for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame


def _title(s: dict, data: dict, L: Labels, lumped: bool) -> str:
    if lumped:
        return (f"Lumped: {L.outcome(s.get('outcome'))}, all strata pooled "
                f"(node level: {L.level(data.get('node_level'))})")
    return L.stratum(s["name"])


def _stratum(s: dict, data: dict, L: Labels, zones: dict, *, lumped: bool) -> StratumReport:

    lay = primary_layer(s)
    name, measure = s["name"], s.get("measure")
    out = (data.get("outcomes") or {}).get(s.get("outcome")) or {}
    title = _title(s, data, L, lumped)
    layers = _layers_table(s, data.get("certainty") or {}, L)
    kw = dict(name=title, key=name, measure=measure, description=_description(s, lay, L),
              notes=_notes(lay, L),
              tables=((layers,) if layers is not None else ()) + component_tables(s))
    if lay is None:
        return StratumReport(no_network_reason="no data", **kw)
    comps = list(lay.get("comparisons") or ())
    net = lay.get("network")
    z = fig.z_value((data.get("settings") or {}).get("level"))
    zone = zones.get(s.get("outcome"))
    cert = (data.get("certainty") or {}).get(name)
    forests = tuple(fig.pair_forests(comps, net, measure, zone, out.get("small_values"), L, z, cert))
    if lay.get("layer") == "single_arm":
        rates = pd.DataFrame(lay.get("rates", ()))
        keep = [c for c in ("treatment", "k", "proportion", "ci_low", "ci_high", "events", "n") if c in rates]
        frame = rates[keep].copy()
        if "treatment" in frame:
            frame["treatment"] = [L.treatment(t) for t in frame["treatment"]]
        return StratumReport(single_study=Table(frame, title="Single-arm outcome rates (proportion)"),
                             no_network_reason="single-arm studies only: outcome rates, no comparison", **kw)
    estimates = _estimates_table(comps, measure, cert, L)
    if net is None:
        return StratumReport(single_study=estimates, no_network_reason="one study: its own result is reported",
                             forests=forests, **kw)
    blocks = [b for b in (fig.rank_block(net, L, title),) if b is not None]
    split = fig.split_table(net, measure, L)
    if split is not None:
        blocks.append(Block(title="Node splitting", tables=(split,)))
    blocks += fig.contribution_blocks(data, net, cert, L, title, s.get("outcome"))
    every = fig.estimates_forest(comps, measure, zone, L)
    geometry = network_geometry(study_contrasts(comps), treatments=net.get("treatments"))
    return StratumReport(network=fig.network_figure(comps, net, L, title), forests=forests + ((every,) if every else ()),
                         geometry=geometry,
                         estimates=estimates, heterogeneity=_heterogeneity(net),
                         league_table=fig.league_table(comps, net, measure, L), blocks=tuple(blocks), **kw)


def _notes(lay: dict | None, L: Labels) -> tuple[str, ...]:
    """The layer's notes for a reader: sub-networks named with labels, codes relabelled."""
    if not lay:
        return ()
    out = []
    net = lay.get("network") or {}
    for n in lay.get("notes", ()):
        if n.startswith("one study"):
            continue
        if "sub-networks" in n and net.get("components"):
            parts = "; ".join("{" + ", ".join(L.treatment(t) for t in comp) + "}" for comp in net["components"])
            n = (f"The network has {len(net['components'])} sub-networks: {parts}. Each is analysed separately; "
                 "comparisons across them are not estimable.")
            if n in out:
                continue
        out.append(L.relabel(n))
    return tuple(dict.fromkeys(out))


def _layers_table(s: dict, certainty: dict, L: Labels) -> Table | None:
    """Every evidence layer of a stratum side by side: status, studies and certainty; the primary
    layer is the one the summary of findings leads with (never a silent pooling)."""
    layers = s.get("layers") or ()
    if not layers:
        return None
    rows = []
    for lay in layers:
        primary = lay.get("layer") == s.get("primary_layer")
        key = s["name"] if primary else f"{s['name']} [{lay.get('layer')}]"
        rows.append({"layer": L.layer(lay.get("layer")), "primary": "yes" if primary else "",
                     "status": _STATUS.get(lay.get("status"), lay.get("status")),
                     "studies": len(lay.get("studies") or ()), "comparisons": len(lay.get("comparisons") or ()),
                     "rates": len(lay.get("rates") or ()),
                     "certainty": layer_certainty(certainty.get(key), lay.get("layer"))})
    declared = ", ".join(L.layer(x) for x in s.get("declared_layers") or ())
    notes = ((f"Layers declared in the plan: {declared}.",) if declared else ()) + (
        "Randomised, non-randomised and single-arm evidence are analysed separately and never pooled "
        "silently; a combined estimate appears only beside the randomised-only one.",)
    return Table(pd.DataFrame(rows), title="Evidence layers (side by side)", notes=notes)


_STATUS = {"network": "network meta-analysis", "single_study": "one study", "rates": "outcome rates",
           "failed": "the fit failed"}


def _description(s: dict, lay: dict | None, L: Labels) -> str:
    n = len(s.get("studies", ()))
    text = f"{n} {'study' if n == 1 else 'studies'}: {L.join(s.get('studies', ()), ', ')}. Evidence: {s.get('evidence')}"
    if lay and lay.get("network"):
        text += f"; reference treatment: {L.treatment(lay['network'].get('reference'))}"
    return text + "."


def _heterogeneity(net: dict) -> Table:
    keys = ("k", "m", "method", "tau2", "i2", "q", "q_df", "q_pvalue")
    frame = pd.DataFrame([{k: net.get(k) for k in keys}])
    for k in ("tau2", "i2", "q", "q_pvalue"):
        frame[k] = pd.to_numeric(frame[k], errors="coerce").astype(float)
    frame = frame.rename(columns={"k": "Studies", "m": "Pairwise comparisons", "method": "tau\u00b2 method",
                                  "q_df": "df (Q)"})
    return Table(frame, title="Network heterogeneity", digits={"tau2": 3, "i2": 1, "q": 2, "q_pvalue": 3})


_EVIDENCE_WORDS = {"network": "network", "study": "one study", "pairwise": "pairwise"}


def _estimates_table(comps: list[dict], measure, cert, L: Labels) -> Table:
    rows = []
    for c in comps:
        r, sign = rating_for(cert, c["treat1"], c["treat2"])
        pil, pih = rating_pi(r, sign, c)
        badge, why = certainty_cells((r or {}).get("label") or (r or {}).get("rating") or "not rated")
        rows.append({"comparison": L.comparison(c["treat1"], c["treat2"]),
                     "evidence": _EVIDENCE_WORDS.get(str(c.get("source")), c.get("source")),
                     "k": c.get("k"), "direct studies": L.join(c.get("studies") or ()),
                     "estimate": c.get("estimate"), "ci_low": c.get("ci_low"), "ci_high": c.get("ci_high"),
                     "pi_low": pil, "pi_high": pih, "certainty": badge,
                     "provisional because": why})
    frame = pd.DataFrame(rows)
    for col in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    notes = ((f"{measure_scale(measure).label}: ratios (back-transformed from the log scale of the analysis); "
              "1 = no difference."),) if measure and measure_scale(measure).is_ratio else ()
    return Table(frame, title="Estimates (every pair)", measure=measure, notes=notes)
