"""``load_review``: a project folder or workbook -> validated, frozen :class:`Review`.

Every problem in the plan and the tables is gathered into one :class:`DataError`.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from ..errors import DataError, ParameterError, Problem, closest
from ..taxonomy.pack import is_pack_name, load_pack
from .amend import AmendmentOutcome, apply_amendments
from .checks import check_table
from .crosscheck import cross_check
from .plan import Plan, load_plan
from .readers import RawTable, read_csv, read_plan_sheet, read_workbook, sheet_names
from .register import ExclusionRegister, all_reasons
from .review import Review, fingerprint
from .selection import known_trial_rows, known_trial_status, screening_rows, select_rows
from .spec import TABLES, table_spec

__all__ = ["load_review", "PLAN_FILE"]

PLAN_FILE = "netstrata.toml"


def load_review(path, *, pack=None, tables=(), amendments=None) -> Review:
    """Load and validate a review project.

    Parameters
    ----------
    path : str or Path
        A project folder (or its plan file) holding ``netstrata.toml`` and ``studies.csv``, ``arms.csv``,
        ``outcomes.csv`` (+ optional ``exclusions.csv``, ``contrasts.csv``, ``extraction-b.csv``,
        ``studies-b.csv`` and any table added with ``register_table``); or one ``.xlsx`` workbook
        with those tables as sheets (sheet name = file name without ``.csv``) and its plan in
        ``<workbook stem>.toml`` or ``netstrata.toml`` beside it, or in a sheet named ``plan``.
    pack : str or Path or Pack, optional
        Domain pack to validate against; default: the plan's ``[project] pack``.
    tables : iterable of TableSpec, optional
        Extra optional tables to read and validate for this call (e.g. the appraisal layer's
        ``fidelity`` table), in addition to those declared with ``register_table``.
    amendments : sequence of Amendment, or callable (plan, project folder) -> sequence, optional
        Decisions applied to the raw cells before validation (see :mod:`netstrata.data.amend`;
        ``netstrata.synthesis.load_project`` builds them from the plan's adjudication log).

    Returns
    -------
    Review

    Raises
    ------
    DataError
        Listing every problem, each with file, row (header = row 1), column, study, the value
        found and what was expected.
    """

    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"The 'path' parameter of load_review must be a folder or .xlsx path. "
                             f"Got {path!r} instead.")
    root = Path(path).expanduser()
    problems: list[Problem] = []
    if root.suffix.lower() == ".toml" and root.is_file():   # the plan file itself was given
        plan = _load_plan_file(root, None, problems)
        root = root.parent
    else:
        plan = _plan(root, problems)
    if pack is None and plan is not None:
        pack = _pack_ref(plan.pack, root)
    pack_obj = None
    if pack is not None:
        try:
            pack_obj = load_pack(pack)
        except DataError as exc:
            problems += [_with_file(p, PLAN_FILE, "project.pack") for p in exc.problems]
    specs = {**TABLES, **{t.name: t for t in tables}}
    raws, read_problems = _read_tables(root, specs)
    problems += read_problems
    dropped: dict[tuple[str, int], str] = {}
    amended: tuple[AmendmentOutcome, ...] = ()
    if callable(amendments) and plan is not None and not problems:
        amendments = amendments(plan, root if root.is_dir() else root.parent)
    if amendments and not callable(amendments):
        raws, dropped, amended = apply_amendments(raws, tuple(amendments))
    reasons = all_reasons(getattr(pack_obj, "exclusion_reasons", None))
    frames, files = {}, {}
    for name, raw in raws.items():
        frame, probs = check_table(raw, table_spec(specs[name], pack_obj), pack_obj, reasons)
        problems += probs
        if frame is not None:
            frames[name], files[name] = frame, raw.file
    problems += cross_check(frames, files, plan, pack_obj, specs)
    if problems:
        raise DataError(problems)
    return _assemble(root, plan, pack_obj, frames, files, reasons, dropped, amended)


def _with_file(p: Problem, file: str, column: str) -> Problem:
    return Problem(p.message, file=p.file or file, row=p.row, column=p.column or column, study=p.study,
                   found=p.found, expected=p.expected, hint=p.hint)


def _pack_ref(ref: str, root: Path):
    """The plan's pack: a bundled name as it is; a path relative to the project folder (never to the
    working directory)."""
    if is_pack_name(ref):
        return ref
    base = root if root.is_dir() else root.parent
    path = Path(ref).expanduser()
    return path if path.is_absolute() else base / path


def _plan(root: Path, problems: list[Problem]) -> Plan | None:
    if root.is_dir():
        plan_path, text = root / PLAN_FILE, None
    elif root.suffix.lower() == ".xlsx" and root.is_file():
        beside = [root.with_suffix(".toml"), root.parent / PLAN_FILE]
        plan_path = next((p for p in beside if p.is_file()), beside[0])
        text = None if plan_path.is_file() else read_plan_sheet(root)
        if text is None and not plan_path.is_file():
            problems.append(Problem("the analysis plan is missing", file=root.name,
                                    expected=f"{beside[0].name} or {PLAN_FILE} beside the workbook, "
                                             "or a sheet named 'plan'"))
            return None
    else:
        return None  # reported by _read_tables
    return _load_plan_file(plan_path, text, problems)


def _load_plan_file(plan_path: Path, text: str | None, problems: list[Problem]) -> Plan | None:
    try:
        return load_plan(plan_path, text=text)
    except DataError as exc:
        problems += exc.problems
        return None


def _read_tables(root: Path, specs: dict) -> tuple[dict[str, RawTable], list[Problem]]:
    problems: list[Problem] = []
    raws: dict[str, RawTable] = {}
    if root.is_dir():
        present = sorted(p.name for p in root.glob("*.csv"))
        for name, spec in specs.items():
            f = root / f"{name}.csv"
            if not f.is_file():
                if spec.required:
                    hint = closest(f.name, present)
                    problems.append(Problem("required table file is missing", file=f.name,
                                            expected=f"{f.name} in {root}",
                                            hint=f"did you mean {hint!r}? rename it to {f.name!r}" if hint else None))
                continue
            raw, probs = read_csv(f, name)
            problems += probs
            if raw is not None:
                raws[name] = raw
        problems += _misnamed([p[:-4] for p in present], set(raws), root.name, ".csv", specs)
    elif root.is_file() and root.suffix.lower() == ".xlsx":
        raws, problems = read_workbook(root, {n: s.required for n, s in specs.items()})
        problems += _misnamed(sheet_names(root)[0], set(raws), root.name, "", specs)
    else:
        problems.append(Problem("not a review project", file=str(root),
                                expected="a folder with netstrata.toml and CSV tables, or an .xlsx workbook"))
    for name, raw in raws.items():
        if specs[name].required and not raw.rows:
            problems.append(Problem("the table has a header but no data rows", file=raw.file, row=2,
                                    expected="at least one row"))
    return raws, problems


def _misnamed(names, read: set[str], where: str, suffix: str, specs: dict) -> list[Problem]:
    """Optional tables whose file/sheet name is slightly off (e.g. 'Exclusions', 'exclusion')."""
    problems = []
    for name in names:
        if name in specs or name == "plan":
            continue
        hits = difflib.get_close_matches(name.lower(), list(specs), n=1, cutoff=0.85)
        if hits and hits[0] not in read and not specs[hits[0]].required:
            kind = "file" if suffix else "sheet"
            problems.append(Problem(f"{kind} '{name}{suffix}' is not read: its name is not a table name",
                                    file=where, found=f"{name}{suffix}", expected=f"'{hits[0]}{suffix}'",
                                    hint=f"did you mean '{hits[0]}{suffix}'? rename it"))
    return problems


def _empty(name: str, pack, reasons) -> pd.DataFrame:
    spec = table_spec(name, pack)
    raw = RawTable(name, f"{name}.csv", tuple(c.name for c in spec.columns if c.required), (), ())
    return check_table(raw, spec, pack, reasons)[0]


def _assemble(root, plan, pack, tables, files, reasons, dropped=None, amended=()) -> Review:
    if "exclusions" not in tables:
        tables["exclusions"], files["exclusions"] = _empty("exclusions", pack, reasons), "exclusions.csv"
    canonical = dict(tables)
    excl = tables["exclusions"]
    excluded = set(excl["study"])
    rows = screening_rows(excl, files["exclusions"])
    for name, contrast in (("outcomes", False), ("contrasts", True)):
        if name in tables:
            sel, reg = select_rows(tables[name], files[name], plan, tables["studies"], tables["arms"],
                                   excluded, contrast=contrast,
                                   dropped={r: s for (t, r), s in (dropped or {}).items() if t == name})
            tables[name] = tables[name].assign(selected=sel)
            rows += reg
    status = known_trial_status(plan, tables["studies"], excl)
    rows += known_trial_rows(status, plan.source)
    register = ExclusionRegister(tuple(rows), MappingProxyType(reasons))
    return Review(name=plan.name, path=str(root), plan=plan, pack=pack, tables=MappingProxyType(tables),
                  register=register, known_trials=status,
                  fingerprint=fingerprint(canonical, plan, pack.fingerprint), amendments=tuple(amended))


def project_plan(path):
    """``(plan, pack)`` of a project, each None when it cannot be read: for the checks that need
    the plan but not the tables (``netstrata validate`` when a table has problems)."""
    root, problems = Path(path).expanduser(), []
    if root.suffix.lower() == ".toml" and root.is_file():
        plan, root = _load_plan_file(root, None, problems), root.parent
    else:
        plan = _plan(root, problems)
    if plan is None:
        return None, None
    try:
        return plan, load_pack(_pack_ref(plan.pack, root))
    except DataError:
        return plan, None
