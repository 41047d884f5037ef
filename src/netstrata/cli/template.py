"""``netstrata template PROJECT.xlsx``: an Excel workbook to fill a review in."""
from __future__ import annotations

import click

__all__ = ["template"]


@click.command("template")
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("--pack", default="spine", show_default=True, help="Domain pack (bundled name or folder).")
@click.option("--name", default=None, help="Project name in the plan (default: the file name).")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def template(workbook, pack, name, force):
    """Write WORKBOOK (.xlsx): one sheet per table with drop-down lists from the pack's
    vocabularies and fidelity items, the plan as a sheet, and instructions. Once filled it is a
    project: netstrata validate WORKBOOK, netstrata run WORKBOOK."""
    from ..data.template import write_template
    from ..errors import DataError, ParameterError
    try:
        path = write_template(workbook, pack=pack, name=name, overwrite=force)
    except (DataError, ParameterError) as exc:
        click.echo(f"netstrata template: {exc}", err=True)
        raise SystemExit(2)
    click.echo(f"Wrote {path}: sheets instructions, studies, arms, outcomes, exclusions, contrasts, fidelity, "
               f"rob, plan. Fill it, then: netstrata validate {workbook}")
