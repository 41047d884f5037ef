"""Adjudication log: an append-only, hash-chained record of how disagreements were resolved.

Each decision (table, key, column, chosen value, who, when, why) is one row of an SQLite file.
Rows are never edited: a corrected decision is a new row, and the latest one for a cell wins.
Every row stores ``hash = sha256(canonical JSON of the row + previous row's hash)``, so any later
edit, deletion, reordering or insertion breaks the chain; :func:`verify_log` names the first bad
entry. SQLite triggers also refuse UPDATE and DELETE, but only the chain *proves* integrity (a
trigger can be dropped). A second table ``head`` repeats (seq, hash) per append, so cutting rows
off the end is detected too; to guard against an attacker who rewrites both tables, keep the head
hash that :func:`verify_log` reports (e.g. in the analysis report) and compare it later.

References
----------
Haber S, Stornetta WS. How to time-stamp a digital document. J Cryptology 1991;3:99-111.
doi:10.1007/BF00196791 (hash-linked records)
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .._summary import Summary
from ..errors import DataError, ParameterError, Problem

__all__ = ["Decision", "AdjudicationLog", "LogVerification", "verify_log", "read_log",
           "entry_hash", "GENESIS", "LOG_FORMAT", "LOG_VERSION"]

LOG_FORMAT = "netstrata-adjudication-log"
LOG_VERSION = "1"
GENESIS = "0" * 64
_SQLITE_MAGIC = b"SQLite format 3\x00"
_ENTRY = ("seq", "table", "study", "arm", "outcome", "timepoint", "column", "value", "who", "at", "why")

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE decisions (
    seq INTEGER PRIMARY KEY, "table" TEXT NOT NULL, study TEXT NOT NULL, arm TEXT NOT NULL,
    outcome TEXT NOT NULL, timepoint TEXT NOT NULL, "column" TEXT NOT NULL, value TEXT NOT NULL,
    who TEXT NOT NULL, at TEXT NOT NULL, why TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE head (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL);
INSERT INTO meta VALUES ('format', '{LOG_FORMAT}'), ('version', '{LOG_VERSION}');
""" + "".join(
    f"CREATE TRIGGER no_{op.lower()}_{t} BEFORE {op} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'the adjudication log is append-only: {op} refused'); END;\n"
    for t in ("meta", "decisions", "head") for op in ("UPDATE", "DELETE"))


@dataclass(frozen=True, slots=True)
class Decision:
    """One adjudication: the value chosen for one cell (or ``column='*'``: keep/drop a row or study)."""

    seq: int
    table: str
    study: str
    arm: str
    outcome: str
    timepoint: str
    column: str
    value: str
    who: str
    at: str
    why: str
    prev_hash: str
    hash: str


def entry_hash(entry: Mapping, prev_hash: str) -> str:
    """sha256 over canonical JSON (sorted keys, no spaces, UTF-8) of the entry plus the previous hash."""
    doc = {k: entry[k] for k in _ENTRY}
    doc["prev_hash"] = prev_hash
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso_utc(moment) -> str:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ParameterError(f"The clock of AdjudicationLog must return a timezone-aware datetime. "
                             f"Got {moment!r} instead.")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


# ----------------------------------------------------------------------------- opening safely

def _check_sqlite_file(path: Path) -> None:
    if not path.is_file():
        raise DataError(Problem("adjudication log not found", file=str(path)))
    with open(path, "rb") as fh:
        magic = fh.read(16)
    if magic != _SQLITE_MAGIC:
        raise DataError(Problem("not an SQLite database, so not an adjudication log", file=str(path),
                                found=magic[:16].decode("latin-1") if magic else "(empty file)"))


def _connect_ro(path: Path) -> sqlite3.Connection:
    _check_sqlite_file(path)
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _check_marker(con: sqlite3.Connection, path: Path) -> None:
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise DataError(Problem(f"SQLite file without the adjudication-log schema ({exc})",
                                file=str(path), expected=f"a {LOG_FORMAT} created by netstrata")) from None
    if meta.get("format") != LOG_FORMAT:
        raise DataError(Problem("SQLite file is not an adjudication log", file=str(path),
                                found=meta.get("format"), expected=repr(LOG_FORMAT)))
    if meta.get("version") != LOG_VERSION:
        raise DataError(Problem("unsupported adjudication-log version", file=str(path),
                                found=meta.get("version"), expected=repr(LOG_VERSION)))


def _rows(con: sqlite3.Connection, path: Path):
    cols = ", ".join(f'"{c}"' for c in (*_ENTRY, "prev_hash", "hash"))
    try:
        decisions = con.execute(f"SELECT {cols} FROM decisions ORDER BY seq").fetchall()
        heads = con.execute("SELECT seq, hash FROM head ORDER BY seq").fetchall()
    except sqlite3.DatabaseError as exc:
        raise DataError(Problem(f"adjudication log is damaged ({exc})", file=str(path))) from None
    return decisions, heads


# ----------------------------------------------------------------------------- verification

@dataclass(frozen=True, slots=True)
class LogVerification:
    """Outcome of :func:`verify_log`: intact, or the first bad entry and what is wrong with it."""

    path: str
    intact: bool
    n_entries: int
    head_hash: str
    first_bad: int | None = None
    problem: str | None = None

    def __repr__(self) -> str:
        state = "intact" if self.intact else f"BROKEN at entry {self.first_bad}: {self.problem}"
        return f"LogVerification(entries={self.n_entries}, {state}, head={self.head_hash[:12]})"

    def summary(self) -> Summary:
        frame = pd.DataFrame({"item": ["intact", "entries", "head hash", "first bad entry", "problem"],
                              "value": [str(self.intact), str(self.n_entries), self.head_hash,
                                        "" if self.first_bad is None else str(self.first_bad),
                                        self.problem or ""]})
        return Summary(f"Adjudication log {self.path}", frame)


def _first_break(decisions, heads) -> tuple[int | None, str | None, str]:
    prev = GENESIS
    for i, row in enumerate(decisions):
        entry = dict(zip((*_ENTRY, "prev_hash", "hash"), row))
        seq = entry["seq"]
        wrong = [k for k, v in entry.items() if not isinstance(v, int if k == "seq" else str)]
        if wrong:
            return i + 1, f"column(s) {wrong} have the wrong type (edited outside netstrata)", prev
        if seq != i + 1:
            return i + 1, f"expected entry number {i + 1}, found {seq!r} (entry deleted, inserted or reordered)", prev
        if entry["prev_hash"] != prev:
            return seq, "its previous-hash link does not match the entry before it", prev
        if entry_hash(entry, prev) != entry["hash"]:
            return seq, "its content does not match its hash (edited)", prev
        prev = entry["hash"]
    chain = [(d[0], d[-1]) for d in decisions]
    for i in range(max(len(chain), len(heads))):
        if i >= len(chain):
            return i + 1, "the head table records an entry that is missing (entries deleted from the end)", prev
        if i >= len(heads) or tuple(heads[i]) != chain[i]:
            return i + 1, "the head table does not match this entry (entry deleted, inserted or replaced)", prev
    return None, None, prev


def verify_log(path, *, expect_head: str | None = None) -> LogVerification:
    """Check an adjudication log's hash chain without modifying it (opened read-only).

    Parameters
    ----------
    path : str or Path
        The SQLite log.
    expect_head : str, optional
        A head hash recorded earlier; the chain must still contain it (guards against rewriting).

    Raises
    ------
    DataError
        The file is missing, not SQLite, or SQLite without the log's schema/version marker.
    """
    path = Path(path)
    with closing(_connect_ro(path)) as con:
        _check_marker(con, path)
        decisions, heads = _rows(con, path)
    bad, problem, head = _first_break(decisions, heads)
    n = len(decisions)
    if bad is None and expect_head is not None and expect_head not in {d[-1] for d in decisions}:
        bad, problem = n, f"the expected head hash {expect_head[:12]}... is not in the chain (log rewritten)"
    return LogVerification(str(path), bad is None, n, head if bad is None else "", bad, problem)


def read_log(path) -> tuple[Decision, ...]:
    """All decisions of an intact log, oldest first. Raises DataError if the chain is broken."""
    path = Path(path)
    check = verify_log(path)
    if not check.intact:
        raise DataError(Problem(f"adjudication log is broken at entry {check.first_bad}: {check.problem}",
                                file=str(path), hint="run `netstrata verify-log` and restore a good copy"))
    with closing(_connect_ro(path)) as con:
        decisions, _ = _rows(con, path)
    return tuple(Decision(*row) for row in decisions)


# ----------------------------------------------------------------------------- appending

class AdjudicationLog:
    """Handle on an adjudication log file: :meth:`create` a new one or :meth:`open` an existing one.

    Parameters
    ----------
    clock : callable returning an aware datetime, optional
        Time source for ``at`` (ISO 8601, UTC); inject a fixed clock in tests.
    """

    __slots__ = ("path", "_clock")

    def __init__(self, path, *, clock: Callable[[], datetime] | None = None):
        self.path = Path(path)
        self._clock = clock or _utc_now

    @classmethod
    def create(cls, path, *, clock=None) -> "AdjudicationLog":
        """Create a new, empty log. Refuses to touch an existing file."""
        path = Path(path)
        if path.exists():
            raise DataError(Problem("file already exists; a log is never overwritten", file=str(path),
                                    hint="use AdjudicationLog.open to append"))
        with closing(sqlite3.connect(path)) as con:
            con.executescript(_SCHEMA)
            con.commit()
        return cls(path, clock=clock)

    @classmethod
    def open(cls, path, *, clock=None) -> "AdjudicationLog":
        """Open an existing log for appending; it must be intact."""
        read_log(path)
        return cls(path, clock=clock)

    def __repr__(self) -> str:
        return f"AdjudicationLog({str(self.path)!r})"

    def decisions(self) -> tuple[Decision, ...]:
        return read_log(self.path)

    def to_frame(self) -> pd.DataFrame:
        names = [f.name for f in fields(Decision)]
        return pd.DataFrame([[getattr(d, n) for n in names] for d in self.decisions()], columns=names)

    def record(self, *, table: str, study: str, column: str, value, who: str, why: str,
               arm: str = "", outcome: str = "", timepoint="") -> Decision:
        """Append one decision and return it (with its sequence number and hash).

        ``column='*'`` with value ``'keep'`` or ``'drop'`` decides a row (or, with arm/outcome/
        timepoint empty, every row of a study) that only one extractor entered.
        """
        entry = {"table": table, "study": study, "arm": arm, "outcome": outcome,
                 "timepoint": timepoint, "column": column, "value": value, "who": who, "why": why}
        for name in ("table", "study", "column", "who", "why"):
            if not isinstance(entry[name], str) or not entry[name].strip():
                raise ParameterError(f"The '{name}' parameter of AdjudicationLog.record must be a "
                                     f"non-empty string. Got {entry[name]!r} instead.")
        entry = {k: ("" if v is None else str(v).strip()) for k, v in entry.items()}
        if column == "*" and entry["value"] not in ("keep", "drop"):
            raise ParameterError(f"A row decision (column='*') must have value 'keep' or 'drop'. "
                                 f"Got {entry['value']!r} instead.")
        read_log(self.path)                      # never extend a broken chain
        with closing(sqlite3.connect(self.path, isolation_level=None)) as con:
            con.execute("BEGIN IMMEDIATE")
            last = con.execute("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            entry.update(seq=seq, at=_iso_utc(self._clock()))
            digest = entry_hash(entry, prev)
            values = [entry[k] for k in _ENTRY] + [prev, digest]
            con.execute(f"INSERT INTO decisions VALUES ({', '.join('?' * len(values))})", values)
            con.execute("INSERT INTO head VALUES (?, ?)", (seq, digest))
            con.execute("COMMIT")
        return Decision(*values)


def as_decisions(log) -> tuple[Decision, ...]:
    """Accept a path, an AdjudicationLog or a sequence of Decision."""
    if isinstance(log, AdjudicationLog):
        return log.decisions()
    if isinstance(log, (str, Path)):
        return read_log(log)
    if isinstance(log, Sequence) and all(isinstance(d, Decision) for d in log):
        return tuple(log)
    raise ParameterError(f"The 'log' parameter must be a path, an AdjudicationLog or a sequence of "
                         f"Decision. Got {type(log).__name__} instead.")
