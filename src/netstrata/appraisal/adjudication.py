"""Adjudication log: an append-only, hash-chained record of how disagreements were resolved.

Each decision (table, key, column, chosen value, who, when, why) is one row of an SQLite file.
Rows are never edited: a corrected decision is a new row, and the latest one for a cell wins.
Every row stores ``hash = sha256(canonical JSON of the row + previous row's hash)`` (or
HMAC-SHA256 under a key kept outside the log: a *keyed* log), so any later edit, deletion,
reordering or insertion breaks the chain; :func:`verify_log` names the first bad entry. SQLite
triggers also refuse UPDATE and DELETE, but only the chain *proves* integrity (a trigger can be
dropped). A second table ``head`` repeats (seq, hash) per append, so cutting rows off the end of
one table is detected too; against someone who rewrites both tables (or recomputes a plain
chain), keep the head hash (``netstrata run`` records it in ``results.json``) and check it later
with ``expect_head``. The README's table says exactly what is and is not detected.

Every read (verification) and every append is one SQLite transaction in WAL mode, with a busy
timeout and retries (:mod:`._logdb`), so concurrent adjudicators and verifiers never see a
half-written state; an append verifies only the entries written since its handle last verified
the log.

References
----------
Haber S, Stornetta WS. How to time-stamp a digital document. J Cryptology 1991;3:99-111.
doi:10.1007/BF00196791 (hash-linked records; the keyed chain's HMAC reference is in ``_chain``)
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .._summary import Summary
from ..errors import DataError, ParameterError, Problem
from ._chain import (CHAIN_KEYED, CHAIN_PLAIN, GENESIS, as_key, check_chain, entry_hash, key_check,
                     key_from_env_or_file)
from ._logdb import ENTRY, LOG_FORMAT, LOG_VERSION, create_file, read_in, snapshot, write_transaction

__all__ = ["Decision", "AdjudicationLog", "LogVerification", "verify_log", "read_log",
           "entry_hash", "GENESIS", "LOG_FORMAT", "LOG_VERSION", "expected_head", "key_from_env_or_file",
           "verified_decisions"]


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


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso_utc(moment) -> str:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ParameterError(f"The clock of AdjudicationLog must return a timezone-aware datetime. "
                             f"Got {moment!r} instead.")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _check_marker(meta: dict, path: Path, key: bytes | None) -> str | None:
    """Check the format/version marker; return a problem with the chain's key, or None."""
    if meta.get("format") != LOG_FORMAT:
        raise DataError(Problem("SQLite file is not an adjudication log", file=str(path),
                                found=meta.get("format"), expected=repr(LOG_FORMAT)))
    if meta.get("version") != LOG_VERSION:
        raise DataError(Problem("unsupported adjudication-log version", file=str(path),
                                found=meta.get("version"), expected=repr(LOG_VERSION)))
    chain = meta.get("chain", CHAIN_PLAIN)
    if chain not in (CHAIN_PLAIN, CHAIN_KEYED):
        return f"unknown chain type {chain!r} in the log's meta table"
    if chain == CHAIN_KEYED and key is None:
        raise DataError(Problem("this adjudication log is keyed (HMAC-SHA256): its key is needed to verify "
                                "or extend it", file=str(path),
                                hint="give its key: --key-file FILE, the plan's [appraisal] adjudication_key_file, "
                                     "or the NETSTRATA_LOG_KEY environment variable"))
    if chain == CHAIN_PLAIN and key is not None:
        return ("the log is not keyed although a key was given (a keyed log rewritten without its key "
                "looks like this)")
    if key is not None and meta.get("key_check") != key_check(key):
        return "the key does not match this log (a wrong key, or the log was rewritten under another key)"
    return None


# ----------------------------------------------------------------------------- verification

@dataclass(frozen=True, slots=True)
class LogVerification:
    """Outcome of :func:`verify_log`: intact, or the first bad entry and what is wrong with it.

    ``first_bad`` is 0 when the problem is the log's header (its key or chain type).
    """

    path: str
    intact: bool
    n_entries: int
    head_hash: str
    first_bad: int | None = None
    problem: str | None = None
    keyed: bool = False

    def __repr__(self) -> str:
        state = "intact" if self.intact else f"BROKEN at entry {self.first_bad}: {self.problem}"
        return f"LogVerification(entries={self.n_entries}, {state}, head={self.head_hash[:12]})"

    def summary(self) -> Summary:
        frame = pd.DataFrame({"item": ["intact", "entries", "keyed", "head hash", "first bad entry", "problem"],
                              "value": [str(self.intact), str(self.n_entries), str(self.keyed), self.head_hash,
                                        "" if self.first_bad is None else str(self.first_bad),
                                        self.problem or ""]})
        return Summary(f"Adjudication log {self.path}", frame)


def _verify(path: Path, key: bytes | None, expect_head: str | None = None):
    """(LogVerification, decision rows), all read in one transaction."""
    meta, decisions, heads = snapshot(path)
    keyed = meta.get("chain") == CHAIN_KEYED
    n = len(decisions)
    header = _check_marker(meta, path, key)
    if header is not None:
        return LogVerification(str(path), False, n, "", 0, header, keyed), decisions
    bad, problem, head = check_chain(decisions, heads, key=key)
    if bad is None and expect_head is not None and expect_head not in {d[-1] for d in decisions}:
        bad, problem = n, f"the expected head hash {expect_head[:12]}... is not in the chain (log rewritten)"
    return LogVerification(str(path), bad is None, n, head if bad is None else "", bad, problem, keyed), decisions


def verify_log(path, *, expect_head: str | None = None, key=None) -> LogVerification:
    """Check an adjudication log's hash chain without modifying it (opened read-only).

    Both tables are read in one transaction, so a check while another process appends sees the
    log as it was at one moment (never a false alarm).

    Parameters
    ----------
    path : str or Path
        The SQLite log.
    expect_head : str, optional
        A head hash recorded earlier (e.g. in ``results.json``, see :func:`expected_head`); the
        chain must still contain it (guards against rewriting and cutting entries off the end).
    key : bytes or str, optional
        The key of a keyed log (HMAC-SHA256 chain); required for a keyed log.

    Raises
    ------
    DataError
        The file is missing, not SQLite, SQLite without the log's schema/version marker, or a
        keyed log and no key.
    """
    check, _ = _verify(Path(path), as_key(key), expect_head)
    return check


def _broken(check: LogVerification, path: Path) -> DataError:
    return DataError(Problem(f"adjudication log is broken at entry {check.first_bad}: {check.problem}",
                             file=str(path), hint="run `netstrata verify-log` and restore a good copy"))


def read_log(path, *, key=None) -> tuple[Decision, ...]:
    """All decisions of an intact log, oldest first. Raises DataError if the chain is broken."""
    return verified_decisions(path, key=key)[1]


def verified_decisions(path, *, key=None) -> tuple[LogVerification, tuple[Decision, ...]]:
    """The verification and the decisions of an intact log, both from one read of the file.

    Raises DataError if the chain is broken.
    """
    path = Path(path)
    check, decisions = _verify(path, as_key(key))
    if not check.intact:
        raise _broken(check, path)
    return check, tuple(Decision(*row) for row in decisions)


def expected_head(value) -> str:
    """A head hash given directly, or read from a ``results.json`` written by ``netstrata run``."""
    text = str(value).strip()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower()):
        return text.lower()
    path = Path(text).expanduser()
    if not path.is_file():
        raise DataError(Problem("expected head is neither a 64-digit hash nor a results file", found=text,
                                expected="a head hash or the results.json of `netstrata run`"))
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(Problem(f"cannot read the results file ({exc})", file=str(path))) from None
    head = (doc.get("adjudication") or {}).get("head") if isinstance(doc, dict) else None
    if not isinstance(head, str) or not head:
        raise DataError(Problem("the results file records no adjudication-log head", file=str(path),
                                expected="the results.json of a run that used an adjudication log"))
    return head


# ----------------------------------------------------------------------------- appending

class AdjudicationLog:
    """Handle on an adjudication log file: :meth:`create` a new one or :meth:`open` an existing one.

    Parameters
    ----------
    clock : callable returning an aware datetime, optional
        Time source for ``at`` (ISO 8601, UTC); inject a fixed clock in tests.
    key : bytes or str, optional
        Key of a keyed log (HMAC-SHA256 chain, at least 16 bytes); keep it outside the log.

    Notes
    -----
    Each :meth:`record` is one SQLite transaction that first verifies the entries appended since
    this handle last verified the log (by :meth:`open` or its previous append; the whole chain on
    a handle's first append) and only then appends: the cost of an append does not grow with the
    length of the log.
    """

    __slots__ = ("path", "_clock", "_key", "_verified")

    def __init__(self, path, *, clock: Callable[[], datetime] | None = None, key=None):
        self.path = Path(path)
        self._clock = clock or _utc_now
        self._key = as_key(key)
        self._verified: tuple[int, str] = (0, GENESIS)   # last entry this handle checked

    @classmethod
    def create(cls, path, *, clock=None, key=None) -> "AdjudicationLog":
        """Create a new, empty log (keyed when ``key`` is given). Refuses to touch an existing file."""
        path = Path(path)
        key = as_key(key)
        meta = {"format": LOG_FORMAT, "version": LOG_VERSION, "chain": CHAIN_KEYED if key else CHAIN_PLAIN}
        if key is not None:
            meta["key_check"] = key_check(key)
        create_file(path, meta)
        return cls(path, clock=clock, key=key)

    @classmethod
    def open(cls, path, *, clock=None, key=None) -> "AdjudicationLog":
        """Open an existing log for appending; the whole chain must be intact."""
        handle = cls(path, clock=clock, key=key)
        check, _ = _verify(handle.path, handle._key)
        if not check.intact:
            raise _broken(check, handle.path)
        handle._verified = (check.n_entries, check.head_hash) if check.n_entries else (0, GENESIS)
        return handle

    def __repr__(self) -> str:
        return f"AdjudicationLog({str(self.path)!r})"

    def decisions(self) -> tuple[Decision, ...]:
        return read_log(self.path, key=self._key)

    def to_frame(self) -> pd.DataFrame:
        names = [f.name for f in fields(Decision)]
        return pd.DataFrame([[getattr(d, n) for n in names] for d in self.decisions()], columns=names)

    def _check_tail(self, con) -> tuple[int, str]:
        """Verify, inside the write transaction, every entry after the last one this handle checked."""
        seq0, _ = self._verified
        meta, decisions, heads = read_in(con, seq0, self.path)
        header = _check_marker(meta, self.path, self._key)
        if header is not None:
            raise _broken(LogVerification(str(self.path), False, 0, "", 0, header), self.path)
        bad, problem, head = check_chain(decisions, heads, start=self._verified, key=self._key)
        if bad is not None:
            raise _broken(LogVerification(str(self.path), False, 0, "", bad, problem), self.path)
        return (decisions[-1][0], head) if decisions else (0, GENESIS)

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
        at = _iso_utc(self._clock())
        with write_transaction(self.path) as con:
            last, prev = self._check_tail(con)     # never extend a broken chain
            entry.update(seq=last + 1, at=at)
            digest = entry_hash(entry, prev, self._key)
            values = [entry[k] for k in ENTRY] + [prev, digest]
            con.execute(f"INSERT INTO decisions VALUES ({', '.join('?' * len(values))})", values)
            con.execute("INSERT INTO head VALUES (?, ?)", (entry["seq"], digest))
        self._verified = (entry["seq"], digest)
        return Decision(*values)


def as_decisions(log, *, key=None) -> tuple[Decision, ...]:
    """Accept a path, an AdjudicationLog or a sequence of Decision."""
    if isinstance(log, AdjudicationLog):
        return log.decisions()
    if isinstance(log, (str, Path)):
        return read_log(log, key=key)
    if isinstance(log, Sequence) and all(isinstance(d, Decision) for d in log):
        return tuple(log)
    raise ParameterError(f"The 'log' parameter must be a path, an AdjudicationLog or a sequence of "
                         f"Decision. Got {type(log).__name__} instead.")
