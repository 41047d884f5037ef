"""A project loaded with its adjudication log applied: :func:`load_project`.

The plan names the log in ``[appraisal] adjudication_log`` (default ``adjudication.sqlite`` in
the project folder, used when it exists). The log is verified first (a broken chain stops the
run); its decisions then amend the first extraction's tables (``outcomes``, ``arms``, ``studies``)
before validation, the latest decision per cell winning (:mod:`netstrata.data.amend`). What was
applied, and the log's head hash, are recorded in ``results.json`` (``adjudication``) and the
report, so ``netstrata verify-log LOG --expect-head results.json`` later proves the log still
holds the decisions the results were built from.

A keyed log (HMAC-SHA256) needs its key: ``[appraisal] adjudication_key_file`` (relative to the
project folder; keep the key outside it, e.g. ``~/keys/review.key``) or the ``NETSTRATA_LOG_KEY``
environment variable.
"""
from __future__ import annotations

from pathlib import Path

from ..appraisal.adjudication import key_from_env_or_file, verified_decisions
from ..data import load_review
from ..data.amend import Amendment
from ..errors import DataError, Problem

__all__ = ["load_project", "DEFAULT_LOG", "adjudication_log_path", "decisions_to_amendments"]

DEFAULT_LOG = "adjudication.sqlite"
_KEYS = {"outcomes": ("study", "arm", "outcome", "timepoint_weeks"), "arms": ("study", "arm"),
         "studies": ("study",)}


def _setting(plan, name: str) -> str | None:
    section = (plan.sections.get("appraisal") or {}) if plan is not None else {}
    value = section.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DataError(Problem("expected a file name", file=getattr(plan, "source", "netstrata.toml"),
                                column=f"appraisal.{name}", found=value))
    return value.strip()


def adjudication_log_path(plan, root: Path) -> tuple[Path | None, bool]:
    """(the log's path or None, whether the plan names it explicitly)."""
    named = _setting(plan, "adjudication_log")
    path = Path(named or DEFAULT_LOG).expanduser()
    path = path if path.is_absolute() else root / path
    if named is not None:
        if not path.is_file():
            raise DataError(Problem("the adjudication log named in the plan does not exist", file=str(path),
                                    column="appraisal.adjudication_log", found=named))
        return path, True
    return (path, False) if path.is_file() else (None, False)


def decisions_to_amendments(decisions) -> tuple:
    """Adjudication decisions (oldest first) as data-layer amendments."""
    out = []
    for d in decisions:
        parts = {"study": d.study, "arm": d.arm, "outcome": d.outcome, "timepoint_weeks": d.timepoint}
        key = tuple((c, parts[c]) for c in _KEYS.get(d.table, ("study",)))
        source = f"adjudication log entry {d.seq} ({d.who}, {d.at[:10]}: {d.why})"
        out.append(Amendment(d.table, key, d.column, d.value, source))
    return tuple(out)


def _key(plan, root: Path, key):
    if key is not None:
        return key
    key_file = _setting(plan, "adjudication_key_file")
    if key_file is not None:
        p = Path(key_file).expanduser()
        return key_from_env_or_file(p if p.is_absolute() else root / p)
    return key_from_env_or_file(None)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_project(path, *, key=None):
    """Load a project with its adjudication log applied.

    Returns
    -------
    (Review, dict or None)
        The review (``review.amendments`` lists every decision and whether it applied) and the
        ``adjudication`` record of ``results.json`` (log, head hash, entries, keyed, applied and
        unused decisions), or None when the project has no log.

    Raises
    ------
    DataError
        The project is invalid, the plan names a missing log, or the log is broken.
    """
    state = {}

    def amend(plan, root):
        log, _ = adjudication_log_path(plan, root)
        if log is None:
            return ()
        check, decisions = verified_decisions(log, key=_key(plan, root, key))
        state.update(log=_shown(log, root), check=check, decisions=decisions)
        return decisions_to_amendments(decisions)

    review = load_review(path, amendments=amend)
    if not state:
        return review, None
    check = state["check"]
    seqs = [d.seq for d in state["decisions"]]
    applied = [s for s, o in zip(seqs, review.amendments) if o.applied]
    unused = [{"seq": s, "reason": o.detail} for s, o in zip(seqs, review.amendments) if not o.applied]
    return review, {"log": state["log"], "head": check.head_hash, "entries": check.n_entries,
                    "keyed": check.keyed, "applied": applied, "unused": unused}
