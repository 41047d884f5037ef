"""``netstrata init DIR``: a new project folder with a commented plan and empty tables."""
from __future__ import annotations

import click

__all__ = ["init", "project_options"]


def project_options(what: str):
    """``--pack``, ``--name`` and ``--force`` of the commands that start a project."""
    def wrap(fn):
        fn = click.option("--force", is_flag=True, help=f"Replace an existing {what}.")(fn)
        fn = click.option("--name", default=None, help="Project name in the plan (default: from the path).")(fn)
        return click.option("--pack", default="spine", show_default=True,
                            help="Domain pack (bundled name or folder).")(fn)
    return wrap


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@project_options("plan and tables")
def init(directory, pack, name, force):
    """Create DIRECTORY with netstrata.toml (every section and key, commented) and the tables
    studies, arms, outcomes, exclusions, contrasts, fidelity and rob with their headers."""
    from ..data.scaffold import SCAFFOLD_TABLES, init_project
    from ..errors import DataError, ParameterError
    try:
        root = init_project(directory, pack=pack, name=name, overwrite=force)
    except (DataError, ParameterError) as exc:
        click.echo(f"netstrata init: {exc}", err=True)
        raise SystemExit(2)
    click.echo(f"Created {root}: netstrata.toml and {', '.join(t + '.csv' for t in SCAFFOLD_TABLES)}")
    click.echo("Next: fill studies.csv, arms.csv and outcomes.csv (codes: netstrata vocab), edit the plan, "
               f"then: netstrata validate {directory}")
