"""``netstrata run PROJECT``: the whole flow, with a short terminal summary."""
from __future__ import annotations

import math
from contextlib import contextmanager

import click

from ..errors import DataError, ParameterError

__all__ = ["run", "summary_text", "run_project", "exit_on_failed_outputs"]


def run_project(path, *, out_dir=None, seed: int | None = 0, workers: int | None = None, executor=None,
                quiet: bool = False, report: bool = True, **kwargs):
    """:func:`netstrata.synthesis.pipeline.run_project` plus the HTML report (``report.html``).

    Returns ``RunOutputs`` (``result``, ``json_path``, ``report_path``, ``tables_dir``).
    """
    from ..synthesis.pipeline import run_project as _run
    return _run(path, out_dir=out_dir, seed=seed, workers=workers, executor=executor, quiet=quiet,
                report_writer=_safe_report if report else None, **kwargs)


def _log(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def _executor(address):
    """A ``dask.distributed.Client`` connected to ``address`` (closed afterwards), or None."""
    if not address:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise click.UsageError("--scheduler needs Dask distributed: pip install 'netstrata[dask]'") from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise click.UsageError(f"--scheduler {address}: cannot connect ({exc})") from None
    try:
        yield client
    finally:
        client.close()


def _safe_report(result, path, **kwargs):
    """Write the report; a rendering failure is reported on stderr, the JSON results stay valid.
    (The report draws its figures as hand-written SVG; a context holding matplotlib Displays can
    be pre-rendered on several cores with :func:`netstrata.present.render.prerender`.)"""
    from .report import write_html
    try:
        return write_html(result, path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the analysis succeeded; only the report failed
        click.echo(f"netstrata run: the HTML report could not be written ({type(exc).__name__}: {exc})",
                   err=True)
        return None


def _fmt(x: float) -> str:
    return "NA" if x is None or not math.isfinite(x) else f"{x:.2f}"


def _natural(measure, values):
    """Analysis scale -> natural scale (ratios for measures analysed on the log scale)."""
    from ..present._format import measure_scale
    if measure_scale(measure).is_ratio:
        return tuple(math.exp(v) if math.isfinite(v) else v for v in values)
    return tuple(values)


def _effect(c, measure: str, p0: float | None = None) -> str:
    """Estimate and CI on the natural scale, with events per 1000 at the plan's baseline risk."""
    e, lo, hi = _natural(measure, (c.estimate, c.ci_low, c.ci_high))
    text = f"{measure} {_fmt(e)} [{_fmt(lo)}, {_fmt(hi)}]"
    from ..certainty.sof import ABSOLUTE_RISK, absolute_effect
    if p0 is not None and measure in ABSOLUTE_RISK and all(math.isfinite(v) for v in (e, lo, hi)):
        d = absolute_effect(measure, [e, lo, hi], p0)
        text += f"; {d[0]:+.0f} per 1000 [{d[1]:+.0f}, {d[2]:+.0f}] at baseline {1000 * p0:.0f} per 1000"
    return text


def _certainty_of(result, stratum: str, comparison) -> str:
    tables = result.certainty or {}
    table = tables.get(stratum)
    if table is None:
        return ""
    try:
        rating = table[f"{comparison.treat1}:{comparison.treat2}"]   # either orientation
    except ParameterError:       # not rated (e.g. a comparison of another layer)
        return ""
    return f"; certainty {getattr(rating, 'label', rating.rating)}"   # "High (provisional: ...)"


def _label(result, kind: str, code) -> str:
    entry = ((result.glossary or {}).get(kind) or {}).get(str(code))
    return (entry or {}).get("short") or str(code).replace("_", " ")


def summary_text(result, outputs=None) -> str:
    """Counts (the same numbers as the report and results.json: ``result.counts()``), the
    stratified-versus-lumped view, key estimates with certainty, and where the outputs are."""
    from ..synthesis.contrast_strata import contrast_text
    n = result.counts()
    level = _label(result, "levels", result.node_level)
    lines = [f"netstrata run: '{result.name}' (fingerprint {result.fingerprint[:12]}, node level "
             f"'{result.node_level}' = {level}, seed {result.seed})"]
    lines.append(f"Records: {n['records']} in, {n['records_analysed']} analysed, {n['records_excluded']} excluded; "
                 f"exclusion register: {n['register_rows']} rows ({n['register_study_rows']} for whole studies)"
                 + (f", {n['records_unaccounted']} UNACCOUNTED" if n.get("records_unaccounted") else ""))
    lines.append(f"Strata ({', '.join(result.variables) or 'none'} x outcome): {n['strata']} "
                 f"({n['strata_with_network']} with a network, {n['strata_single_study']} with one study, "
                 f"{n['strata_single_arm']} single-arm only); lumped analyses: {n['lumped']}")
    if result.contrasts:
        lines.append(f"Stratified versus lumped ({n['contrasts']} comparisons, {n['contrasts_multi_stratum']} in more "
                     "than one stratum):")
        lines += contrast_text(result.contrasts, result.glossary, natural=_natural)
    baseline = {o: (v or {}).get("baseline_risk") for o, v in (result.outcomes or {}).items()}
    for group, title in ((result.strata, "stratum"), (result.lumped, "lumped")):
        for s in group:
            lay = s.primary
            status = lay.status if lay else "no data"
            lines.append(f"  [{title}] {_label(result, 'strata', s.name)}: {len(s.studies)} studies, "
                         f"{lay.layer if lay else '-'} ({status}); evidence: {s.evidence}")
            for c in (lay.comparisons if lay else ())[:6]:
                src = "study result" if c.source == "study" else c.source
                lines.append(f"      {_label(result, 'treatments', c.treat1)} vs {_label(result, 'treatments', c.treat2)}: "
                             f"{_effect(c, c.measure, baseline.get(s.stratum.outcome))} ({src}, k={c.k})"
                             f"{_certainty_of(result, s.name, c)}")
            for r in (lay.rates if lay else ()):
                lines.append(f"      {_label(result, 'treatments', r.treatment)}: rate {_fmt(r.proportion)} "
                             f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}] (k={r.k})")
    if result.multiverse is not None:
        lines.append(f"Multiverse: {n['specifications']} specifications ({n['specification_combinations']} "
                     f"combinations); {n['multiverse_comparisons']} comparisons; classified against the MID, the "
                     f"primary conclusion holds in every specification for {n['multiverse_robust']} of them "
                     f"({n['multiverse_fragile']} change)")
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
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the multiverse on a Dask cluster (scheduler address, e.g. tcp://10.0.0.5:8786); "
                   "needs `pip install netstrata[dask]`.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted run in the same --out folder: finished specifications are not run again.")
@click.option("--quiet", is_flag=True, help="No progress bar, no messages and no summary.")
@click.option("--level", default=None, help="Node-map lumping level of the primary analysis (default: the plan's).")
def run(project, out_dir, seed, workers, scheduler, resume, quiet, level):
    """Analyse a review project: strata, pairwise and network MA, sensitivity, JSON and report."""
    try:
        with _executor(scheduler) as executor:
            outputs = run_project(project, out_dir=out_dir, seed=seed, workers=workers, quiet=quiet,
                                  executor=executor, resume=resume, log=_log, node_level=level)
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
