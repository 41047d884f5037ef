"""An Excel workbook to fill a review in (``netstrata template PROJECT.xlsx``).

One sheet per table (the headers of :func:`~netstrata.data.scaffold.table_header`), drop-down
lists (Excel data validation) on every coded column: the pack's vocabularies, the core lists
(design, data collection, fidelity item status, risk-of-bias tool), the exclusion reasons and the
pack's fidelity items; an input message on every header cell says what the column holds. The
commented plan is the sheet ``plan`` (one TOML line per row) and the sheet ``instructions``
explains the rest. The lists live on a hidden sheet ``_lists`` (Excel limits a typed-in list to
255 characters). Columns that accept several codes joined by ``|`` warn instead of refusing, so a
combination can be typed.

The filled workbook is a project as it is: ``netstrata validate PROJECT.xlsx`` and
``netstrata run PROJECT.xlsx`` read it (sheets ``instructions`` and ``_lists`` are ignored).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ParameterError
from ..taxonomy.pack import load_pack
from .register import all_reasons
from .scaffold import SCAFFOLD_TABLES, checklist_items, plan_text, table_header
from .spec import NR, table_spec

__all__ = ["write_template", "column_lists", "ROWS", "LISTS_SHEET"]

ROWS = 2000                 # rows carrying the drop-down lists
LISTS_SHEET = "_lists"
#: tools of rob.csv (spelling as appraise_table reads them; CINeMA = a tool-free overall level)
ROB_TOOLS = ("RoB 2", "ROBINS-I", "JBI case series", "CINeMA")
#: overall judgements of rob.csv (RoB 2, ROBINS-I; CINeMA's low / some concerns / high)
ROB_JUDGEMENTS = ("Low", "Some concerns", "High", "Moderate", "Serious", "Critical")


def column_lists(pack) -> dict[tuple[str, str], tuple[tuple[str, ...], bool]]:
    """(table, column) -> (allowed values, several allowed joined by '|') for every coded column."""
    out = {}
    reasons = tuple(all_reasons(pack.exclusion_reasons))
    for table in SCAFFOLD_TABLES:
        spec = table_spec(table, pack)
        for col in spec.columns:
            if col.kind == "choice":
                out[(table, col.name)] = (col.choices, col.multi)
            elif col.kind == "vocab" and col.vocabulary in pack.vocabularies:
                out[(table, col.name)] = (pack.vocabularies[col.vocabulary].allowed, col.multi)
            elif col.kind == "reason":
                out[(table, col.name)] = (reasons, False)
    items = sorted({f for fields in checklist_items(pack).values() for f, _ in fields})
    if items:
        out[("fidelity", "item")] = (tuple(items), False)
    out[("rob", "tool")] = (ROB_TOOLS, False)
    out[("rob", "overall")] = (ROB_JUDGEMENTS, False)
    return out


def _prompt(table: str, col, lists) -> tuple[str, str]:
    """(title, text) of a header cell's input message (Excel: at most 32 and 255 characters)."""
    what = col.description or {"choice": "one of the listed values", "vocab": f"a code of '{col.vocabulary}'"}.get(
        col.kind, col.expected())
    allowed = lists.get((table, col.name))
    extra = " Several codes: join with |." if allowed and allowed[1] else ""
    need = " Required." if col.nonempty else ""
    text = f"{what}. Expected: {col.expected() if col.kind not in ('vocab', 'reason') else 'a listed code'}.{need}{extra}"
    return col.name[:32], text[:255]


def write_template(path, *, pack="spine", name: str | None = None, overwrite: bool = False) -> Path:
    """Write the Excel template of a new project (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file to write.
    pack : str or Path, default="spine"
        Domain pack.
    name : str, optional
        Project name in the plan (default: the file name without ``.xlsx``).
    overwrite : bool, default=False
        Replace an existing file.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path).expanduser()
    if path.suffix.lower() != ".xlsx":
        raise ParameterError(f"The 'path' parameter of write_template must end in .xlsx. Got {str(path)!r} instead.")
    if path.exists() and not overwrite:
        raise ParameterError(f"{path} exists; choose another name or overwrite=True (netstrata template --force).")
    p = load_pack(pack)
    lists = column_lists(p)
    wb = Workbook()
    _instructions(wb.active, p, lists)
    store = wb.create_sheet(LISTS_SHEET)
    store.sheet_state = "hidden"
    ranges = {}
    for j, (key, (values, _)) in enumerate(sorted(lists.items()), start=1):
        letter = get_column_letter(j)
        store.cell(1, j, f"{key[0]}.{key[1]}")
        for i, v in enumerate(values, start=2):
            store.cell(i, j, v)
        ranges[key] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for table in SCAFFOLD_TABLES:
        ws = wb.create_sheet(table)
        spec = table_spec(table, p)
        for j, header in enumerate(table_header(table, p), start=1):
            col = spec.column(header)
            cell = ws.cell(1, j, header)
            cell.font, cell.fill = bold, fill
            ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(header) + 4))
            title, text = _prompt(table, col, lists)
            cell.comment = Comment(text, "netstrata")
            letter = get_column_letter(j)
            key = (table, header)
            if key in lists:
                multi = lists[key][1]
                dv = DataValidation(type="list", formula1=f"={ranges[key]}", allow_blank=True,
                                    errorStyle="warning" if multi else "stop", showErrorMessage=True,
                                    errorTitle="Not in the list",
                                    error=("Several codes may be joined with |; each must be in the list."
                                           if multi else f"Choose a value of the list (netstrata vocab {table}.{header})."),
                                    promptTitle=title, prompt=text, showInputMessage=True)
                dv.add(f"{letter}2:{letter}{ROWS + 1}")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    plan = wb.create_sheet("plan")
    for i, line in enumerate(plan_text(pack, name or path.stem).splitlines(), start=1):
        plan.cell(i, 1, line if line else None)
    plan.column_dimensions["A"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


_HOW = (
    "How to fill this workbook",
    "",
    "One sheet per table; row 1 is the header (do not rename the columns or the sheets).",
    "studies: one row per study. arms: one row per arm (randomised group or cohort). "
    "outcomes: one row per arm x outcome x time point.",
    "Optional: exclusions (studies excluded before analysis, one row per reason), contrasts (effect + CI when "
    "arm-level data are missing), fidelity (technique items per arm), rob (risk of bias). Leave them empty if unused.",
    "Coded columns have a drop-down list; hover over a header for what the column holds.",
    f"Empty cell = missing or not applicable. {NR} = not reported by the source. 'unclear' = reported ambiguously.",
    "An active arm fills 'family' (leave 'comparator_type' empty); a sham, usual-care or exercise arm leaves "
    "'family' empty and sets 'comparator_type'.",
    "Design: RCT; NRS_comparative (non-randomised, two or more groups); single_arm (one cohort or case series). "
    "Record prospective or retrospective in data_collection.",
    "Binary outcomes: events and n (leave mean and sd empty). Continuous outcomes: mean, sd and n. "
    "timepoint_weeks: months x 52/12.",
    "Every outcome row names its source, location (page / table) and extractor.",
    "The sheet 'plan' holds the analysis plan (TOML, one line per row): outcome ids, measures, MIDs, strata.",
    "",
    "Check:    netstrata validate THIS.xlsx   (every problem: sheet, row, column, study, found, expected)",
    "Analyse:  netstrata run THIS.xlsx        (results, tables and report.html)",
    "Codes with their labels:  netstrata vocab   (all columns)   netstrata vocab arms.family   (one column)",
)


def _instructions(ws, pack, lists) -> None:
    from openpyxl.styles import Font
    ws.title = "instructions"
    for i, line in enumerate(_HOW, start=1):
        ws.cell(i, 1, line)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    row = len(_HOW) + 2
    ws.cell(row, 1, f"Pack: {pack.name} {pack.version} - {pack.title}").font = Font(bold=True)
    for (table, col), (values, multi) in sorted(lists.items()):
        row += 1
        shown = ", ".join(values[:20]) + (", ..." if len(values) > 20 else "")
        ws.cell(row, 1, f"{table}.{col}{' (several: join with |)' if multi else ''}: {shown}")
    ws.column_dimensions["A"].width = 140
