"""``netstrata report RESULTS_JSON_OR_PROJECT``: render the HTML report.

Given a project (folder, plan file or workbook) the project is analysed first, without the
multiverse unless ``--multiverse``; given a ``results.json`` written by ``netstrata run`` the
report is rendered from it (when :mod:`netstrata.present` can read results JSON).
"""
from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["report"]


def _from_json(path: Path, out: Path) -> Path:
    from .. import present
    data = json.loads(path.read_text(encoding="utf-8"))
    context_cls = getattr(present, "ReportContext", None)
    render = getattr(present, "render_report", None)
    if render is None or context_cls is None or not hasattr(context_cls, "from_json"):
        raise click.ClickException("this netstrata cannot render a report from results JSON yet; "
                                   "give the project folder instead")
    html = render(context_cls.from_json(data))
    out.write_text(str(html), encoding="utf-8")
    return out


@click.command("report")
@click.argument("source", type=click.Path(exists=True))
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="HTML file to write (default: report.html beside the results).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--multiverse/--no-multiverse", default=False, help="Run the sensitivity analyses first.")
def report(source, out_file, seed, multiverse):
    """Render the HTML report of a results JSON file or of a project."""
    from ..errors import DataError, ParameterError
    src = Path(source)
    try:
        if src.suffix.lower() == ".json":
            out = Path(out_file) if out_file else src.with_name("report.html")
            written = _from_json(src, out)
        else:
            from .. import present
            from ..data import load_review
            from ..synthesis.pipeline import analyse_review, render_html
            if getattr(present, "render_report", None) is None:
                raise click.ClickException("netstrata.present has no report renderer yet; "
                                           "`netstrata run` writes results.json and tables")
            review = load_review(src)
            result = analyse_review(review, seed=seed, multiverse=multiverse, progress=False)
            out = Path(out_file) if out_file else Path(review.path) / "netstrata-output" / "report.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            written = render_html(result, out)
            if written is None:
                raise click.ClickException("netstrata.present has no report renderer yet; "
                                           "`netstrata run` writes results.json and tables")
    except (DataError, ParameterError, ValueError) as exc:
        click.echo(f"netstrata report: {exc}", err=True)
        raise SystemExit(1)
    click.echo(f"Report: {written}")
