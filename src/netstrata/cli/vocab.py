"""``netstrata vocab [TABLE.COLUMN]``: the codes a column accepts, with their labels and definitions.

Without an argument: every coded column of every table (vocabulary, number of codes, whether
several codes may be joined with ``|``). With ``TABLE.COLUMN`` (e.g. ``arms.family``,
``studies.design``, ``fidelity.item``, ``exclusions.reason_code``) or a vocabulary name
(``comparator_type``): one row per code with its label, status, parent, constraints and source,
then the special values (``NR``, ``unclear``).
"""
from __future__ import annotations

import click
import pandas as pd

__all__ = ["vocab", "column_codes", "coded_columns"]

_CHOICE_LABELS = {
    "prospective": "Data collected after the study started (planned follow-up)",
    "retrospective": "Data taken from existing records after the fact",
    "NR": "Not reported by the source",
    "unclear": "Reported ambiguously",
    "reported": "The item is reported (give its value)",
    "not_reported": "The item is not reported (not the same as not done)",
}


def coded_columns(pack) -> pd.DataFrame:
    """One row per coded column: column (TABLE.COLUMN), kind, vocabulary, codes, multi, required."""
    from ..data.spec import table_spec
    from ..data.template import column_lists
    rows = []
    for (table, name), (values, multi) in column_lists(pack).items():
        col = table_spec(table, pack).column(name)
        if col is None:     # column_lists names declared columns only: a programming error
            raise LookupError(f"column_lists names {table}.{name}, which the table spec does not declare")
        rows.append({"column": f"{table}.{name}", "kind": col.kind if col.kind in ("vocab", "choice", "reason") else "list",
                     "vocabulary": col.vocabulary or "", "codes": len(values), "multi": multi,
                     "required": col.required})
    return pd.DataFrame(rows)


def column_codes(pack, name: str) -> tuple[str, pd.DataFrame, tuple[str, ...]]:
    """(title, one row per code, special values) for ``TABLE.COLUMN`` or a vocabulary name.

    Raises
    ------
    click.BadParameter
        For a name that is no coded column and no vocabulary (with the closest one).
    """
    from ..data.spec import DESIGNS, table_spec
    from ..errors import closest
    table, _, column = name.partition(".")
    if not column and name in pack.vocabularies:
        return _vocab_frame(pack.vocabularies[name])
    if table == "fidelity" and column == "item":
        return _fidelity_items(pack)
    if table == "exclusions" and column == "reason_code":
        from ..data.register import REASONS, all_reasons
        frame = pd.DataFrame([{"code": c, "label": label, "status": "netstrata" if c in REASONS else pack.name,
                               "source": ""} for c, label in all_reasons(pack.exclusion_reasons).items()])
        return "exclusions.reason_code: exclusion reasons (netstrata's and the pack's)", frame, ()
    if table == "rob" and column == "tool":
        from ..data.template import ROB_TOOLS
        return "rob.tool: risk-of-bias tools", pd.DataFrame({"code": ROB_TOOLS, "label": [
            "RoB 2 (randomised trials), doi:10.1136/bmj.l4898", "ROBINS-I (non-randomised comparative), "
            "doi:10.1136/bmj.i4919", "JBI checklist for case series, doi:10.11124/JBISRIR-D-19-00099",
            "a tool-free overall level (CINeMA: low / some concerns / high); an empty tool means the same"]}), ()
    if table == "rob" and column == "overall":
        from ..data.template import ROB_JUDGEMENTS
        return ("rob.overall: overall judgements (RoB 2: Low / Some concerns / High; ROBINS-I: Low / Moderate / "
                "Serious / Critical)", pd.DataFrame({"code": ROB_JUDGEMENTS}), ())
    try:
        col = table_spec(table, pack).column(column) if table else None
    except KeyError:
        col = None
    if col is not None and col.kind == "vocab" and col.vocabulary in pack.vocabularies:
        title, frame, special = _vocab_frame(pack.vocabularies[col.vocabulary])
        return f"{table}.{column}{' (several codes joined by |)' if col.multi else ''} - {title}", frame, special
    if col is not None and col.kind == "choice":
        labels = {c: d.label for c, d in DESIGNS.items()} | _CHOICE_LABELS
        frame = pd.DataFrame([{"code": c, "label": labels.get(c, "")} for c in col.choices])
        return f"{table}.{column}: {col.description or 'one of the listed values'}", frame, ()
    known = list(coded_columns(pack)["column"]) + list(pack.vocabularies)
    best = closest(name, known)
    raise click.BadParameter(f"{name!r} is not a coded column or a vocabulary of pack {pack.name!r}"
                             + (f"; did you mean {best!r}?" if best else "") + " (netstrata vocab lists them)",
                             param_hint="TABLE.COLUMN")


def _vocab_frame(v):
    rows = []
    for c in v.codes:
        notes = [f"parent {c.parent}" if c.parent else "",
                 "; ".join(f"only with {k} in {'|'.join(x)}" for k, x in c.requires.items()), c.note or ""]
        rows.append({"code": c.code, "label": c.label, "status": c.status,
                     "definition / constraints": "; ".join(n for n in notes if n), "source": c.source})
    return f"vocabulary '{v.name}': {v.label}", pd.DataFrame(rows), v.special


def _fidelity_items(pack):
    from ..appraisal.fidelity.checklists import load_checklists
    rows = []
    for cl in load_checklists(pack):
        for it in cl.items:
            rows.append({"checklist": cl.id, "item": it.field, "label": it.label, "kind": it.kind,
                         "allowed": "|".join(it.allowed), "standard": it.standard_text() if it.scored else "",
                         "critical": it.critical})
    title = ("fidelity.item: technical-fidelity items per checklist (the checklist follows the arm's family and "
             "region: " + "; ".join(f"{cl.id} {cl.label}" for cl in load_checklists(pack)) + ")")
    return title, pd.DataFrame(rows), ()


@click.command("vocab")
@click.argument("column", required=False)
@click.option("--pack", default="spine", show_default=True, help="Domain pack (bundled name or folder).")
def vocab(column, pack):
    """List the codes a column accepts (TABLE.COLUMN, e.g. arms.family, or a vocabulary name),
    with labels, definitions and sources; without COLUMN, every coded column."""
    from ..errors import DataError
    from ..taxonomy.pack import load_pack
    try:
        p = load_pack(pack)
    except DataError as exc:
        click.echo(f"netstrata vocab: {exc}", err=True)
        raise SystemExit(2)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.max_colwidth", 90):
        if column is None:
            click.echo(f"Coded columns of pack {p.name} {p.version} (netstrata vocab TABLE.COLUMN for the codes):")
            click.echo(coded_columns(p).to_string(index=False))
            return
        title, frame, special = column_codes(p, column)
        click.echo(title)
        click.echo(frame.to_string(index=False))
        if special:
            click.echo(f"Also allowed: {', '.join(special)} (NR = not reported, unclear = reported ambiguously; "
                       "an empty cell = missing)")
