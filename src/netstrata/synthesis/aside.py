"""One job run aside, in a forked child process, while this process goes on with other work.

``netstrata run`` writes the HTML report this way while it writes ``results.json``, the curve and
the tables (on the generated 100-trial review: a 3.6 s report beside 3 s of writing). The child
inherits the job's inputs (nothing is pickled) and reports only whether the job returned
something (exit status 0) or None (3); anything else it raises ends it with another status. It
is used only where it is safe and pays: the platform forks, no other thread of this process is
alive (a fork copies locks other threads may hold) and a second core is idle; otherwise the job
runs in this process when its result is asked for, with the same outcome.
"""
from __future__ import annotations

import os
import sys
import threading

__all__ = ["Aside"]


def _child(fn, args, kwargs) -> None:
    ok = fn(*args, **kwargs) is not None
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0 if ok else 3)


class Aside:
    """``fn(*args, **kwargs)`` in a forked child (``enabled`` and safe, see the module docstring) or,
    failing that, in this process at :meth:`result`."""

    def __init__(self, fn, *args, enabled: bool = True, **kwargs):
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._proc = None
        if enabled and threading.active_count() == 1:
            import multiprocessing as mp
            try:
                ctx = mp.get_context("fork")
            except ValueError:  # pragma: no cover - no fork on this platform
                return
            self._proc = ctx.Process(target=_child, args=(fn, args, kwargs), name="netstrata-aside", daemon=True)
            self._proc.start()

    @property
    def forked(self) -> bool:
        return self._proc is not None

    def result(self) -> bool:
        """True when the job returned something other than None (waits for the child)."""
        if self._proc is None:
            return self._fn(*self._args, **self._kwargs) is not None
        self._proc.join()
        return self._proc.exitcode == 0

    def cancel(self) -> None:
        """Stop the child if it still runs."""
        if self._proc is not None and self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()
