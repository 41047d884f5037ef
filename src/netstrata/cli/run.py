"""``netstrata run PROJECT``: the whole flow, with a short terminal summary."""
from __future__ import annotations

import math

import click

__all__ = ["run", "summary_text", "run_project", "exit_on_failed_outputs"]


def run_project(path, *, out_dir=None, seed: int | None = 0, workers: int | None = None, executor=None,
                quiet: bool = False, report: bool = True, **kwargs):
    """:func:`netstrata.synthesis.pipeline.run_project` plus the HTML report (``report.html``).

    Returns ``RunOutputs`` (``result``, ``json_path``, ``report_path``, ``tables_dir``).
    """
    from ..synthesis.pipeline import run_project as _run
    return _run(path, out_dir=out_dir, seed=seed, workers=workers, executor=executor, quiet=quiet,
                report_writer=_safe_report if report else None, **kwargs)


def _safe_report(result, path):
    """Write the report; a rendering failure is reported on stderr, the JSON results stay valid."""
    from .report import write_html
    try:
        return write_html(result, path)
    except Exception as exc:  # noqa: BLE001 - the analysis succeeded; only the report failed
        click.echo(f"netstrata run: the HTML report could not be written ({type(exc).__name__}: {exc})",
                   err=True)
        return None


def _fmt(x: float) -> str:
    return "NA" if x is None or not math.isfinite(x) else f"{x:.2f}"


def _effect(c, measure: str) -> str:
    """Estimate and CI on the natural scale: ratios for measures analysed on the log scale."""
    from ..present._format import measure_scale
    values = (c.estimate, c.ci_low, c.ci_high)
    if measure_scale(measure).is_ratio:
        values = tuple(math.exp(v) if math.isfinite(v) else v for v in values)
    e, lo, hi = values
    return f"{measure} {_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"


def _certainty_of(result, stratum: str, comparison) -> str:
    tables = result.certainty or {}
    table = tables.get(stratum)
    if table is None:
        return ""
    for key in (f"{comparison.treat1}:{comparison.treat2}", f"{comparison.treat2}:{comparison.treat1}",
                f"{comparison.treat1} vs {comparison.treat2}"):
        try:
            rating = table[key]
        except Exception:  # noqa: BLE001 - the key form differs; try the next
            continue
        return f"; certainty {getattr(rating, 'label', rating.rating)}"   # "High (provisional: ...)"
    return ""


def summary_text(result, outputs=None) -> str:
    """Strata, key estimates, certainty and where the outputs are."""
    lines = [f"netstrata run: '{result.name}' (fingerprint {result.fingerprint[:12]}, node level "
             f"'{result.node_level}', seed {result.seed})"]
    rc = result.record_counts
    lines.append(f"Records: {rc['records']} in, {rc['analysed']} analysed, {rc['excluded']} in the exclusion "
                 f"register" + (f", {rc['unaccounted']} UNACCOUNTED" if rc.get("unaccounted") else ""))
    lines.append(f"Strata ({', '.join(result.variables) or 'none'} x outcome): {len(result.strata)}")
    for group, title in ((result.strata, "stratum"), (result.lumped, "lumped")):
        for s in group:
            lay = s.primary
            status = lay.status if lay else "no data"
            lines.append(f"  [{title}] {s.name}: {len(s.studies)} studies, {lay.layer if lay else '-'} "
                         f"({status}); evidence: {s.evidence}")
            for c in (lay.comparisons if lay else ())[:6]:
                src = "study result" if c.source == "study" else c.source
                lines.append(f"      {c.label}: {_effect(c, c.measure)} ({src}, k={c.k})"
                             f"{_certainty_of(result, s.name, c)}")
            for r in (lay.rates if lay else ()):
                lines.append(f"      {r.treatment}: rate {_fmt(r.proportion)} [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}] "
                             f"(k={r.k})")
    mv = result.multiverse
    if mv is not None:
        rob = mv.robustness
        lines.append(f"Multiverse: {len(mv.specifications)} specifications ({mv.n_combinations} combinations); "
                     f"{len(rob)} comparisons; primary conclusion holds in >= 80% of specifications for "
                     f"{int((rob['holds'] >= 0.8).sum())} of them")
    for n in result.notes:
        lines.append(f"Note: {n}")
    if outputs is not None:
        lines.append(f"Results: {outputs.json_path}")
        if outputs.tables_dir:
            lines.append(f"Tables: {outputs.tables_dir}")
        lines.append(f"Report: {outputs.report_path}" if outputs.report_path else
                     "Report: NOT WRITTEN (see the message above)")
    return "\n".join(lines)


@click.command("run")
@click.argument("project", type=click.Path(exists=False))
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Output folder (default: PROJECT/netstrata-output).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for anything random.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Processes for the sensitivity analyses (default: all cores; 1 = serial).")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def run(project, out_dir, seed, workers, quiet):
    """Analyse a review project: strata, pairwise and network MA, sensitivity, JSON and report."""
    from ..errors import DataError, ParameterError
    try:
        outputs = run_project(project, out_dir=out_dir, seed=seed, workers=workers, quiet=quiet)
    except (DataError, ParameterError) as exc:
        click.echo(f"netstrata run: the project cannot be analysed:\n{exc}", err=True)
        raise SystemExit(1)
    except OSError as exc:
        click.echo(f"netstrata run: the outputs could not be written ({exc}); the output folder keeps "
                   "the previous run's outputs", err=True)
        raise SystemExit(1)
    except KeyboardInterrupt:
        click.echo("netstrata run: interrupted; the output folder keeps the previous run's outputs", err=True)
        raise SystemExit(130)
    if not quiet:
        click.echo(summary_text(outputs.result, outputs))
    exit_on_failed_outputs(outputs, "netstrata run")


def exit_on_failed_outputs(outputs, command: str) -> None:
    """Exit with status 1 when an output (e.g. the report) could not be written."""
    if outputs.failed:
        for what in outputs.failed:
            click.echo(f"{command}: {what}; the other outputs are complete", err=True)
        raise SystemExit(1)
