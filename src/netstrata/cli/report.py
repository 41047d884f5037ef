"""``netstrata report RESULTS_JSON_OR_PROJECT``: render the HTML report.

:func:`build_context` turns a :class:`~netstrata.synthesis.result.ProjectResult` into the
present layer's :class:`~netstrata.present.ReportContext` (it only reads results); :func:`write_html`
writes it. Given a project (folder, plan file or workbook) the project is analysed first
(without the multiverse unless ``--multiverse``); given a ``results.json`` the report is rendered
from it when the present layer can read results JSON.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import click
import pandas as pd

__all__ = ["report", "build_context", "write_html"]


def _try(fn, notes: list, what: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is noted, not fatal
        notes.append(f"{what}: {type(exc).__name__}: {exc}")
        return None


def _stratum_report(s, present, notes: list):
    from ..present import StratumReport, Table
    lay = s.primary
    rows = pd.DataFrame([{f: getattr(c, f) for f in ("treat1", "treat2", "layer", "k", "source", "estimate",
                                                      "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2")}
                         for c in (lay.comparisons if lay else ())])
    rates = pd.DataFrame([{f: getattr(r, f) for f in ("treatment", "k", "method", "proportion", "ci_low",
                                                       "ci_high", "pi_low", "pi_high", "events", "n")}
                          for r in (lay.rates if lay else ())])
    kw = dict(name=s.name, key=s.name, measure=s.measure,
              description=f"{len(s.studies)} studies; evidence: {s.evidence}",
              notes=tuple(lay.notes) if lay else ())
    net = lay.network if lay else None
    if net is None:
        table = Table.of(rows if len(rows) else rates, title="Study result" if len(rows) else "Single-arm rates")
        reason = "one study" if lay and lay.status == "single_study" else (lay.status if lay else "no data")
        return StratumReport(single_study=table, no_network_reason=reason, **kw)
    return StratumReport(
        network=_try(lambda: present.NetworkGraphDisplay.from_result(net), notes, f"{s.name}: network plot"),
        league=_try(lambda: present.LeagueHeatmapDisplay.from_result(net, measure=s.measure), notes,
                    f"{s.name}: league heat map"),
        estimates=Table.of(rows, title="Estimates (analysis scale)"), **kw)


def _curve(mv, notes: list):
    from ..present import SpecificationCurveDisplay
    if mv is None or not len(mv.curve):
        return None
    counts = mv.curve.groupby("comparison")["specification"].nunique()
    comp = counts.sort_values(ascending=False, kind="stable").index[0]
    specs = mv.specifications_frame().set_index("specification")
    rows = mv.curve[mv.curve["comparison"] == comp].rename(columns={"estimate": "effect"})
    choices = [c for c, _ in mv.dimensions]
    frame = rows[["effect", "ci_low", "ci_high"]].reset_index(drop=True)
    for c in choices:
        frame[c] = specs.loc[rows["specification"], c].to_numpy()
    return _try(lambda: SpecificationCurveDisplay(frame, choices=choices, measure=rows["measure"].iat[0],
                                                  title=comp), notes, "specification curve")


def build_context(result):
    """A ReportContext of ``result`` (plain tables and figures; nothing is recomputed)."""
    from .. import present
    from ..present import Overview, ReportContext, Table
    notes: list[str] = []
    rc = result.record_counts
    plan = {"node level": result.node_level, "strata variables": ", ".join(result.variables) or "none",
            "seed": result.seed, **{f"models.{k}": v for k, v in _settings(result.settings).items()}}
    strata = tuple(_stratum_report(s, present, notes) for s in (*result.strata, *result.lumped))
    mv = result.multiverse
    overview_notes = (f"Records: {rc['records']} in, {rc['analysed']} analysed, {rc['excluded']} in the "
                      f"exclusion register.", *result.notes)
    ctx = ReportContext(
        overview=Overview(project=result.name, plan=plan, fingerprint=result.fingerprint,
                          generated=result.created or "", notes=overview_notes),
        title=f"Evidence synthesis report: {result.name}", strata=strata,
        certainty=_tables(result.certainty), transitivity=_tables(result.transitivity),
        extraction_qc=_tables(result.qc),
        fidelity=_tables({"Technical fidelity per arm": getattr(result.fidelity, "arms", None)}
                         if result.fidelity is not None else None),
        multiverse=None if mv is None else Table.of(mv.robustness, title="How often each conclusion holds"),
        specification_curve=_curve(mv, notes),
        exclusions=Table.of(result.register.to_frame(), title="Exclusion register"))
    return ctx, notes


def _settings(settings) -> dict:
    return {f: getattr(settings, f) for f in getattr(settings, "__slots__", ())}


def _tables(mapping):
    from ..present import Table
    if not mapping:
        return None
    out = []
    for name, obj in sorted(mapping.items()):
        try:
            out.append(Table.of(obj, title=str(name)))
        except Exception:  # noqa: BLE001 - a section the present layer cannot read is left out
            continue
    return tuple(out) or None


def write_html(result, path) -> Path | None:
    """Write ``result``'s HTML report to ``path``; None when the present layer cannot render it."""
    try:
        from ..present import write_report
    except ImportError:
        return None
    ctx, _ = build_context(result)
    return write_report(ctx, Path(path))


@click.command("report")
@click.argument("source", type=click.Path(exists=True))
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="HTML file to write (default: report.html beside the results, or PROJECT/netstrata-output).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--multiverse/--no-multiverse", default=False, help="Run the sensitivity analyses first.")
def report(source, out_file, seed, multiverse):
    """Render the HTML report of a results JSON file or of a project."""
    from ..errors import DataError, ParameterError
    src = Path(source)
    try:
        if src.suffix.lower() == ".json":
            from .. import present
            context_cls = getattr(present, "ReportContext", None)
            if not hasattr(context_cls, "from_json"):
                raise click.ClickException("the report cannot be rendered from results JSON yet; "
                                           "give the project folder instead")
            out = Path(out_file) if out_file else src.with_name("report.html")
            written = present.write_report(context_cls.from_json(json.loads(src.read_text("utf-8"))), out)
        else:
            from ..data import load_review
            from ..synthesis.pipeline import analyse_review
            review = load_review(src)
            result = analyse_review(review, seed=seed, multiverse=multiverse, progress=False)
            out = Path(out_file) if out_file else Path(review.path) / "netstrata-output" / "report.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            written = write_html(result, out)
    except (DataError, ParameterError, ValueError) as exc:
        click.echo(f"netstrata report: {exc}", err=True)
        raise SystemExit(1)
    click.echo(f"Report: {written}")
