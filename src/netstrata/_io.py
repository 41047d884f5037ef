"""Writing outputs so that nothing half-written or stale is ever left behind.

* :func:`atomic_write_text` / :func:`atomic_write_bytes`: the data go to a temporary file in the
  same folder, are flushed to disk (``fsync``), and only then replace the target with
  ``os.replace`` (atomic on POSIX and Windows). A full disk or an interruption leaves the previous
  file untouched and no temporary file behind.
* :class:`OutputSet`: the outputs of one run (``results.json``, ``tables/``, ``report.html``) are
  written into a hidden staging folder inside the output folder and then swapped in as a set: the
  entries of the previous run are moved aside and the new ones moved in, with SIGINT/SIGTERM held
  back for those few renames, and a journal file that lets the next run finish a swap cut short by
  a crash. Files in the output folder that are not outputs of the set are never touched.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write_text", "atomic_write_bytes", "OutputSet", "recover_output_folder"]

_STAGING = ".netstrata-staging-"
_OLD = ".netstrata-old-"
_JOURNAL = ".netstrata-swap.json"


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())           # mkstemp makes 0600; a normal file follows the umask
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    return path


def _umask() -> int:
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0)
        os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None


def atomic_write_text(path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode(encoding))


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (main thread only) and re-deliver them afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, lambda signum, frame: caught.append(signum))
        except (ValueError, OSError):   # pragma: no cover - signal not settable here
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in caught:
            signal.raise_signal(signum)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        _unlink(path)


def recover_output_folder(folder) -> None:
    """Finish a swap that a crash cut short, then remove leftovers of earlier runs.

    The journal (written before the first rename) names the staging folder, which was complete
    by then, and the entries of the new set: the swap is rolled forward.
    """
    folder = Path(folder)
    with _folder_lock(folder):
        journal = folder / _JOURNAL
        if journal.is_file():
            try:
                state = json.loads(journal.read_text("utf-8"))
                _swap(folder, folder / state["staging"], folder / state["old"], tuple(state["names"]),
                      frozenset(state["new"]))
            except (OSError, ValueError, KeyError, TypeError):
                pass
            _unlink(journal)
        for leftover in folder.glob(".netstrata-*-*"):
            if leftover.name.startswith((_STAGING, _OLD)) and not _alive(leftover.name):
                _remove(leftover)


def _swap(folder: Path, staging: Path, old: Path, names: tuple, new: frozenset) -> None:
    """Move every owned entry of ``folder`` that is not yet the new one into ``old``, and every
    staged entry into ``folder`` (idempotent: a repeated swap finishes an interrupted one)."""
    old.mkdir(exist_ok=True)
    for name in names:
        target, staged = folder / name, staging / name
        fresh = name in new and not (staged.exists() or staged.is_symlink())   # already moved in
        if (target.exists() or target.is_symlink()) and not fresh:
            os.replace(target, old / name)
        if staged.exists() or staged.is_symlink():
            os.replace(staged, target)


@contextmanager
def _folder_lock(folder: Path):
    """An exclusive lock on ``folder`` (POSIX ``flock``) so that two runs never swap at once."""
    try:
        import fcntl
    except ImportError:   # pragma: no cover - Windows: no advisory lock
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _alive(name: str) -> bool:
    """Whether the process that created a staging/old folder (pid in its name) still runs."""
    try:
        pid = int(name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class OutputSet:
    """Write a run's outputs into a staging folder, then swap them into ``folder`` as one set.

    ``names`` are the entries the set owns (e.g. ``results.json``, ``tables``, ``report.html``):
    after :meth:`commit` exactly the entries staged among them are present; an owned entry that
    was not staged (a report that failed, a table no longer produced) is removed with the rest of
    the previous set. :meth:`discard` (or leaving the ``with`` block by an exception) removes the
    staging folder and leaves the previous outputs untouched.
    """

    def __init__(self, folder, names):
        self.folder = Path(folder)
        self.names = tuple(names)
        self.folder.mkdir(parents=True, exist_ok=True)
        recover_output_folder(self.folder)
        token = f"{os.getpid()}-{os.urandom(4).hex()}"
        self.staging = self.folder / f"{_STAGING}{token}"
        self._old = self.folder / f"{_OLD}{token}"
        self.staging.mkdir()
        self.committed = False

    def path(self, name: str) -> Path:
        """Where to write owned entry ``name`` (inside the staging folder)."""
        if name.split("/")[0] not in self.names:
            raise ValueError(f"{name!r} is not one of this output set's entries {self.names}")
        return self.staging / name

    def final(self, name: str) -> Path:
        """Where entry ``name`` will be after the commit."""
        return self.folder / name

    def commit(self) -> None:
        """Swap the staged entries in and the previous set out (SIGINT/SIGTERM deferred)."""
        new = sorted(n for n in self.names if (self.staging / n).exists())
        journal = {"staging": self.staging.name, "old": self._old.name, "names": list(self.names), "new": new}
        with _folder_lock(self.folder), _signals_deferred():
            atomic_write_text(self.folder / _JOURNAL, json.dumps(journal))
            _swap(self.folder, self.staging, self._old, self.names, frozenset(new))
            _unlink(self.folder / _JOURNAL)
            self.committed = True
        self._cleanup()

    def discard(self) -> None:
        """Drop the staged outputs; the previous set stays as it was."""
        self._cleanup()

    def _cleanup(self) -> None:
        _remove(self.staging)
        _remove(self._old)

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.committed:
            self.discard()
