"""``netstrata report RESULTS_JSON_OR_PROJECT``: render the HTML report.

:func:`build_context` (a thin wrapper of :func:`netstrata.present.build.build_context`) turns a
:class:`~netstrata.synthesis.result.ProjectResult` or its parsed ``results.json`` into the present
layer's :class:`~netstrata.present.ReportContext` (it only reads results); :func:`write_html` writes
it. Given a project (folder, plan file or workbook) the project is analysed first (without the
multiverse unless ``--multiverse``); given a ``results.json`` the report is rendered from it. The plan's
``[report] baseline_risk`` and outcome labels are part of the results, so ``run`` and ``report`` show
the same absolute effects.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import click

__all__ = ["report", "build_context", "write_html", "read_curve"]


def build_context(result, **kwargs):
    """The ReportContext of a ProjectResult or of a parsed results.json (see
    :func:`netstrata.present.build.build_context`)."""
    from ..present.build import build_context as _build
    return _build(result, **kwargs)


def write_html(result, path, **kwargs) -> Path | None:
    """Write the HTML report of ``result`` (ProjectResult or results dictionary) to ``path``."""
    from ..present import write_report
    return write_report(build_context(result, **kwargs), Path(path))


def _read_results(path: Path) -> Mapping:
    """A results.json parsed and checked against the structure `netstrata run` writes."""
    from ..errors import DataError, Problem
    from ..synthesis.result_check import check_results
    try:
        doc = json.loads(path.read_text("utf-8"))
    except UnicodeDecodeError:
        raise DataError(Problem("the results file is not UTF-8 text", file=str(path))) from None
    except json.JSONDecodeError as exc:
        raise DataError(Problem(f"the results file is not valid JSON ({exc.msg} at line {exc.lineno}, "
                                f"column {exc.colno})", file=str(path))) from None
    return check_results(doc, str(path))


def read_curve(src: Path, doc: Mapping):
    """The specification curve that ``results.json`` at ``src`` references (``multiverse.curve_file``,
    relative to its folder), checked against its recorded SHA-256 and row count; None when the
    curve is in the file itself. Text cells are as the CSV holds them (neutralised for spreadsheets).
    """
    import hashlib

    import pandas as pd

    from ..errors import DataError, Problem
    mv = doc.get("multiverse") or {}
    name = mv.get("curve_file")
    if not name or "curve_sha256" not in mv:       # in the file, or streamed without a reference
        return None
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise DataError(Problem(f"multiverse.curve_file must be a path inside the results folder; found {name!r}",
                                file=str(src)))
    path = src.parent / name
    try:
        body = path.read_bytes()
    except OSError:
        raise DataError(Problem(f"the results reference their specification curve ({mv.get('curve_rows')} rows) "
                                f"in {name}, which was not found at {path}: keep the tables folder beside "
                                "results.json, or write both again with `netstrata run`", file=str(src))) from None
    if hashlib.sha256(body).hexdigest() != mv["curve_sha256"]:
        raise DataError(Problem(f"{name} is not the specification curve of these results (its SHA-256 differs "
                                "from the one results.json records): it was changed or belongs to another run",
                                file=str(path)))
    from io import BytesIO
    curve = pd.read_csv(BytesIO(body), keep_default_na=False, na_values=[""])
    if len(curve) != mv.get("curve_rows"):
        raise DataError(Problem(f"{name} has {len(curve)} rows; results.json records {mv.get('curve_rows')}",
                                file=str(path)))
    return curve


def _report_from_file(src: Path, out: Path, curves: str = "auto") -> Path | None:
    """The report of a results file; a part whose structure was changed by hand is named, not a traceback."""
    from ..errors import DataError, Problem
    doc = _read_results(src)
    curve = read_curve(src, doc)
    try:
        return write_html(doc, out, curve=curve, curves=curves)
    except (TypeError, AttributeError, IndexError) as exc:   # a hand-edited value of the wrong type
        raise DataError(Problem(f"the results file has a value of an unexpected type ({type(exc).__name__}: "
                                f"{exc}); write it again with `netstrata run`", file=str(src))) from None


@click.command("report")
@click.argument("source", type=click.Path(exists=True))
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="HTML file to write (default: report.html beside the results, or PROJECT/netstrata-output).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--multiverse/--no-multiverse", default=False, help="Run the sensitivity analyses first.")
@click.option("--level", default=None, help="Node-map lumping level of a project (default: the plan's).")
@click.option("--curves", type=click.Choice(["auto", "all", "summary"]), default="auto", show_default=True,
              help="Specification curves to draw: every comparison's (all), the summary of findings' "
                   "(summary), or every one up to 100 comparisons and the summary's beyond (auto).")
def report(source, out_file, seed, multiverse, level, curves):
    """Render the HTML report of a results JSON file or of a project."""
    from ..errors import DataError, ParameterError
    src = Path(source)
    try:
        if src.suffix.lower() == ".json":
            out = Path(out_file) if out_file else src.with_name("report.html")
            written = _report_from_file(src, out, curves)
        else:
            from ..synthesis.adjudicated import load_project
            from ..synthesis.pipeline import analyse_review
            review, adjudication = load_project(src)
            result = analyse_review(review, seed=seed, multiverse=multiverse, progress=False, node_level=level,
                                    adjudication=adjudication)
            out = Path(out_file) if out_file else Path(review.path) / "netstrata-output" / "report.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            written = write_html(result, out, curves=curves)
    except (DataError, ParameterError, ValueError, KeyError) as exc:
        click.echo(f"netstrata report: {exc}", err=True)
        raise SystemExit(1)
    except OSError as exc:
        click.echo(f"netstrata report: the report could not be written ({exc})", err=True)
        raise SystemExit(1)
    click.echo(f"Report: {written}")
