"""``netstrata template PROJECT.xlsx``: an Excel workbook to fill a review in."""
from __future__ import annotations

import click

from .init import project_options

__all__ = ["template"]


@click.command("template")
@click.argument("workbook", type=click.Path(dir_okay=False))
@project_options("file")
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
