"""Extraction quality control on the command line: ``compare-extractions``, ``adjudicate``, ``verify-log``.

Exit codes (all three commands):
  0  no disagreements / decision recorded / log intact
  1  disagreements found / -- / log broken (the first bad entry is named)
  2  unusable input (missing file, not a CSV, not an adjudication log, bad option): a clear message
     on stderr, never a traceback
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from ..errors import DataError, ParameterError

EXIT_OK, EXIT_FOUND, EXIT_INPUT = 0, 1, 2
_PROJECT_TABLES = ("studies", "arms", "outcomes", "exclusions")
_SHOWN = ["kind", "table", "study", "arm", "outcome", "timepoint", "column", "value_a", "value_b",
          "extractor_a", "extractor_b", "location"]


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    from ..appraisal._cells import read_workbook_tables
    return read_workbook_tables(path, _PROJECT_TABLES)


def _load_side(path: Path):
    """A CSV file -> one DataFrame; a workbook or project folder -> {table: DataFrame}."""
    from ..appraisal._cells import read_table
    if path.is_dir():
        tables = {t: read_table(path / f"{t}.csv") for t in _PROJECT_TABLES if (path / f"{t}.csv").is_file()}
        if not tables:
            raise DataError(f"{path}: folder has none of {', '.join(t + '.csv' for t in _PROJECT_TABLES)}")
        return tables
    if path.suffix.lower() == ".xlsx":
        return _read_workbook(path)
    return read_table(path)


def _inputs(a: str, b: str | None):
    pa = Path(a)
    if b is None:
        if not (pa.is_dir() or (pa.is_file() and pa.suffix.lower() == ".xlsx")):
            raise DataError(f"{a}: with one argument, give a project folder (or workbook) holding a second "
                            f"extraction (extraction-b.csv, studies-b.csv, arms-b.csv)")
        return pa, None, "first extraction", "second extraction"
    pb = Path(b)
    for p in (pa, pb):
        if not p.exists():
            raise DataError(f"{p}: file or folder not found")
    return _load_side(pa), _load_side(pb), pa.name, pb.name


def _write(path: str, text: str) -> None:
    from .._io import atomic_write_text
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        _fail(f"{path}: cannot write the file ({exc.strerror or exc})")


@click.command("compare-extractions")
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path(), required=False)
@click.option("--table", default="auto", show_default=True,
              help="Table held by single CSV files: auto, outcomes, arms, studies, exclusions.")
@click.option("--atol", default=1e-9, show_default=True, type=float, help="Absolute numeric tolerance.")
@click.option("--rtol", default=1e-9, show_default=True, type=float, help="Relative numeric tolerance.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the report as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write the disagreements as CSV.")
def compare_extractions_cmd(a, b, table, atol, rtol, json_path, csv_path):
    """Compare two independent extractions A and B cell by cell.

    A and B are CSV files, .xlsx workbooks or project folders. With one argument (a project
    folder) each table is compared with its second extraction (outcomes.csv with
    extraction-b.csv, studies.csv with studies-b.csv, arms.csv with arms-b.csv). Exit code: 0 when they agree,
    1 when disagreements were found, 2 when the input cannot be used.
    """
    from ..appraisal.extraction import compare_extractions
    try:
        ta, tb, la, lb = _inputs(a, b)
        if tb is None:
            from ..appraisal.project import compare_project
            result = compare_project(ta, label_a=la, label_b=lb, atol=atol, rtol=rtol)
        else:
            result = compare_extractions(ta, tb, table=table, label_a=la, label_b=lb, atol=atol, rtol=rtol)
    except (DataError, ParameterError) as exc:
        _fail(str(exc))
    if json_path:
        _write(json_path, result.to_json())
    if csv_path:
        _write(csv_path, result.to_csv())
    click.echo(result.summary().as_text())
    if not result.agreed:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            click.echo("")
            click.echo(result.disagreements[_SHOWN].to_string(index=False))
    sys.exit(EXIT_OK if result.agreed else EXIT_FOUND)


_KEY_FILE = click.option("--key-file", type=click.Path(dir_okay=False), default=None,
                         help="File holding the key of a keyed log (else the NETSTRATA_LOG_KEY variable).")


@click.command("verify-log")
@click.argument("log", type=click.Path())
@click.option("--expect-head", default=None,
              help="A head hash recorded earlier, or the results.json of `netstrata run`: it must still "
                   "be in the chain.")
@_KEY_FILE
def verify_log_cmd(log, expect_head, key_file):
    """Verify the hash chain of an adjudication LOG (read-only).

    Exit code: 0 intact, 1 broken (the first bad entry is named), 2 not a usable log file.
    """
    from ..appraisal.adjudication import expected_head, key_from_env_or_file, verify_log
    try:
        head = expected_head(expect_head) if expect_head is not None else None
        check = verify_log(log, expect_head=head, key=key_from_env_or_file(key_file))
    except (DataError, ParameterError) as exc:
        _fail(str(exc))
    keyed = " (keyed)" if check.keyed else ""
    if check.intact:
        click.echo(f"{log}: intact{keyed}, {check.n_entries} entries, head {check.head_hash}"
                   + (", contains the expected head" if head else ""))
        sys.exit(EXIT_OK)
    click.echo(f"{log}: BROKEN at entry {check.first_bad}: {check.problem}")
    sys.exit(EXIT_FOUND)


def _handle(log: str, create: bool, key):
    """Open LOG, or create it with --create (a concurrent creator wins: then it is opened)."""
    from ..appraisal.adjudication import AdjudicationLog
    if create and not Path(log).exists():
        try:
            return AdjudicationLog.create(log, key=key)
        except DataError:
            if not Path(log).exists():
                raise
    return AdjudicationLog.open(log, key=key)


@click.command("adjudicate")
@click.argument("log", type=click.Path())
@click.option("--table", required=True, help="outcomes, arms, studies or exclusions.")
@click.option("--study", required=True)
@click.option("--arm", default="")
@click.option("--outcome", default="")
@click.option("--timepoint", default="")
@click.option("--column", required=True, help="Column decided, or '*' to keep/drop a row or study.")
@click.option("--value", required=True, help="The chosen value (for '*': keep or drop).")
@click.option("--who", required=True)
@click.option("--why", required=True)
@click.option("--create", is_flag=True, help="Create LOG if it does not exist (keyed when a key is given).")
@_KEY_FILE
def adjudicate_cmd(log, table, study, arm, outcome, timepoint, column, value, who, why, create, key_file):
    """Append one decision to the adjudication LOG (never edits earlier entries)."""
    from ..appraisal.adjudication import key_from_env_or_file
    try:
        handle = _handle(log, create, key_from_env_or_file(key_file))
        d = handle.record(table=table, study=study, arm=arm, outcome=outcome, timepoint=timepoint,
                          column=column, value=value, who=who, why=why)
    except (DataError, ParameterError) as exc:
        _fail(str(exc))
    click.echo(f"entry {d.seq} recorded at {d.at}; hash {d.hash}")
    sys.exit(EXIT_OK)
