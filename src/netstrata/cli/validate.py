"""``netstrata validate PROJECT``: print OK with counts, or every problem found (exit code 1)."""
from __future__ import annotations

import click

__all__ = ["validate"]


@click.command("validate")
@click.argument("project", type=click.Path(exists=False))
@click.option("--verbose", "-v", is_flag=True, help="Also print the full summary of a valid project.")
def validate(project, verbose):
    """Validate a review PROJECT (folder with netstrata.toml + CSV tables, or an .xlsx workbook)."""
    from ..data import load_review
    from ..errors import DataError
    from .demo import counts_line, review_text
    try:
        review = load_review(project)
    except DataError as exc:
        n = len(exc.problems)
        click.echo(f"{project}: {n} problem{'s' if n != 1 else ''} found", err=True)
        for p in exc.problems:
            click.echo(f"  - {p}", err=True)
        raise SystemExit(1)
    if verbose:
        click.echo(review_text(review))
    else:
        click.echo(f"OK: {counts_line(review)}")
        click.echo(f"fingerprint {review.fingerprint}")
