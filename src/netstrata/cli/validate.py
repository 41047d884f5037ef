"""``netstrata validate PROJECT``: every problem ``run`` would meet, or OK with counts.

Exit code 0 when the project is valid, 1 when it has problems. ``--json`` prints a JSON document
(``ok``, ``problems`` with file, row, column, study, found, expected, hint; ``counts`` and
``fingerprint`` when valid) for tools and CI.
"""
from __future__ import annotations

import click

__all__ = ["validate"]


@click.command("validate")
@click.argument("project", type=click.Path(exists=False))
@click.option("--verbose", "-v", is_flag=True, help="Also print the full summary of a valid project.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for tools and CI).")
def validate(project, verbose, as_json):
    """Validate a review PROJECT (folder with netstrata.toml + CSV tables, or an .xlsx workbook):
    the tables, the whole plan and every check `netstrata run` makes before it analyses."""
    from ..synthesis.validation import validate_project
    from .demo import counts_line, review_text
    result = validate_project(project)
    if as_json:
        click.echo(result.to_json(), nl=False)
        raise SystemExit(0 if result.ok else 1)
    if not result.ok:
        n = len(result.problems)
        click.echo(f"{project}: {n} problem{'s' if n != 1 else ''} found", err=True)
        for p in result.problems:
            click.echo(f"  - {p}", err=True)
        raise SystemExit(1)
    if verbose:
        click.echo(review_text(result.review))
    else:
        click.echo(f"OK: {counts_line(result.review)}")
        click.echo(f"fingerprint {result.review.fingerprint}")
