"""SQLite plumbing of the adjudication log: atomic creation, WAL, one transaction per read or write.

Every read of the log (verification, listing) happens inside one read transaction, so the two
tables (``decisions`` and ``head``) are seen at the same moment even while another process
appends; every append is one ``BEGIN IMMEDIATE`` transaction. The log uses SQLite's write-ahead
log (WAL): readers never block the writer and the writer never blocks readers. Connections wait
for a lock (busy timeout) and transactions are retried when SQLite still reports the file busy.

References
----------
SQLite. Write-Ahead Logging. https://www.sqlite.org/wal.html
SQLite. File Locking And Concurrency In SQLite Version 3. https://www.sqlite.org/lockingv3.html
"""
from __future__ import annotations

import os
import random
import sqlite3
import tempfile
import time
from contextlib import closing, contextmanager
from pathlib import Path

from ..errors import DataError, Problem

__all__ = ["LOG_FORMAT", "LOG_VERSION", "ENTRY", "create_file", "snapshot", "write_transaction",
           "check_sqlite_file", "BUSY_SECONDS"]

LOG_FORMAT = "netstrata-adjudication-log"
LOG_VERSION = "1"
ENTRY = ("seq", "table", "study", "arm", "outcome", "timepoint", "column", "value", "who", "at", "why")
ROW = (*ENTRY, "prev_hash", "hash")
BUSY_SECONDS = 60.0          # how long a reader or writer waits for another process's lock
_SQLITE_MAGIC = b"SQLite format 3\x00"

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE decisions (
    seq INTEGER PRIMARY KEY, "table" TEXT NOT NULL, study TEXT NOT NULL, arm TEXT NOT NULL,
    outcome TEXT NOT NULL, timepoint TEXT NOT NULL, "column" TEXT NOT NULL, value TEXT NOT NULL,
    who TEXT NOT NULL, at TEXT NOT NULL, why TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE head (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL);
"""
_TRIGGERS = "".join(
    f"CREATE TRIGGER no_{op.lower()}_{t} BEFORE {op} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'the adjudication log is append-only: {op} refused'); END;\n"
    for t in ("meta", "decisions", "head") for op in ("UPDATE", "DELETE"))


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _retry(fn, path: Path):
    """Run ``fn()``; while SQLite reports the file locked or busy, wait (with jitter) and retry."""
    deadline = time.monotonic() + BUSY_SECONDS
    delay = 0.01
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise DataError(Problem(f"the adjudication log cannot be used now ({exc})", file=str(path),
                                        hint="another process holds it; try again")) from None
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.5)


def check_sqlite_file(path: Path) -> None:
    if not path.is_file():
        raise DataError(Problem("adjudication log not found", file=str(path)))
    with open(path, "rb") as fh:
        magic = fh.read(16)
    if magic != _SQLITE_MAGIC:
        raise DataError(Problem("not an SQLite database, so not an adjudication log", file=str(path),
                                found=magic[:16].decode("latin-1") if magic else "(empty file)"))


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if not readonly:
        return sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    uri = path.resolve().as_uri()
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_SECONDS, isolation_level=None)
        con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return con
    except sqlite3.OperationalError as exc:
        if _busy(exc):
            raise
        # read-only folder: the WAL index cannot be created; read the file as it is on disk
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)


def create_file(path: Path, meta: dict[str, str]) -> None:
    """Create a new, empty log at ``path`` atomically; refuse if anything exists there.

    The schema is built in a temporary file beside ``path`` and hard-linked into place, so no
    process ever sees a half-created log and two creators cannot both succeed.
    """
    if path.exists():
        raise DataError(Problem("file already exists; a log is never overwritten", file=str(path),
                                hint="use AdjudicationLog.open to append"))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)
    try:
        with closing(sqlite3.connect(tmp, isolation_level=None)) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript("BEGIN;" + _TABLES + _TRIGGERS + "COMMIT;")
            con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise DataError(Problem("file already exists; a log is never overwritten", file=str(path),
                                    hint="use AdjudicationLog.open to append")) from None
        except OSError:                      # a file system without hard links
            with open(tmp, "rb") as src, open(path, "xb") as dst:
                dst.write(src.read())
                dst.flush()
                os.fsync(dst.fileno())
    finally:
        for leftover in (tmp, f"{tmp}-wal", f"{tmp}-shm"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def _read(con: sqlite3.Connection, since: int, path: Path):
    cols = ", ".join(f'"{c}"' for c in ROW)
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
            raise
        raise DataError(Problem(f"SQLite file without the adjudication-log schema ({exc})", file=str(path),
                                expected=f"a {LOG_FORMAT} created by netstrata")) from None
    if meta.get("format") != LOG_FORMAT:
        return meta, [], []            # the caller reports the missing marker
    try:
        decisions = con.execute(f"SELECT {cols} FROM decisions WHERE seq >= ? ORDER BY seq", (since,)).fetchall()
        heads = con.execute("SELECT seq, hash FROM head WHERE seq >= ? ORDER BY seq", (since,)).fetchall()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
            raise
        raise DataError(Problem(f"adjudication log is damaged ({exc})", file=str(path))) from None
    return meta, decisions, heads


def snapshot(path: Path, since: int = 0):
    """(meta, decisions with seq >= since, head rows with seq >= since), read in one transaction."""
    check_sqlite_file(path)

    def read():
        with closing(_connect(path, readonly=True)) as con:
            con.execute("BEGIN")
            try:
                return _read(con, since, path)
            finally:
                con.execute("COMMIT")
    try:
        return _retry(read, path)
    except sqlite3.DatabaseError as exc:
        raise DataError(Problem(f"adjudication log cannot be read ({exc})", file=str(path))) from None


@contextmanager
def write_transaction(path: Path):
    """A connection inside ``BEGIN IMMEDIATE`` (the write lock held); committed on success."""
    check_sqlite_file(path)
    try:
        con = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        raise DataError(Problem(f"adjudication log cannot be opened ({exc})", file=str(path))) from None
    with closing(con):
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                _retry(lambda: con.execute("PRAGMA journal_mode=WAL"), path)   # a log made before WAL
            _retry(lambda: con.execute("BEGIN IMMEDIATE"), path)
        except sqlite3.DatabaseError as exc:
            raise DataError(Problem(f"adjudication log cannot be written ({exc})", file=str(path))) from None
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        try:
            con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            con.execute("ROLLBACK")
            raise DataError(Problem(f"the decision could not be written ({exc})", file=str(path))) from None


def read_in(con: sqlite3.Connection, since: int, path: Path):
    """(meta, decisions, heads) with seq >= since, inside the caller's transaction."""
    return _read(con, since, path)
